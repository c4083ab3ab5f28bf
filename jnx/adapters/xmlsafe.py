"""The one way jnx parses XML: no entities, no DTD, no network, a size limit.

:func:`parse_xml` refuses a document that declares a DTD (which is where every entity bomb and
external entity lives) before lxml expands anything, and parses with a parser that would not
resolve entities or load anything even if asked. :func:`zeep_settings` gives zeep the same rules.

The size of a document is bounded by :func:`screen` (``max_bytes``, 50 MB by default) before any
parser sees it, so libxml2's own per-node limits are lifted (``huge_tree``): a 12 MB text node in
one record is parsed, and that record becomes an error of its own (a text value longer than any
standard field, :mod:`jnx.adapters.screening`) instead of the whole page being refused. Whatever
libxml2 still says goes through :func:`plain_reason`, so no admin is told to "try XML_PARSE_HUGE".
"""

from __future__ import annotations

import re

from lxml import etree
from zeep import Settings as ZeepSettings

from jnx.adapters.errors import PayloadError, UnsafeXmlError

DEFAULT_MAX_BYTES = 50_000_000
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


def safe_parser() -> etree.XMLParser:
    """An lxml parser that resolves no entity, loads no DTD, touches no network."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=True,  # the document's size is bounded by screen(); one huge node is a record error
        remove_comments=True,
        remove_pis=True,
    )


def screen(data: bytes, *, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Refuse, before any parser sees them, bytes over the limit or declaring a DTD or entity."""
    if len(data) > max_bytes:
        raise UnsafeXmlError(f"{len(data)} bytes is over the limit of {max_bytes}", source=source)
    if _DOCTYPE.search(data) or _ENTITY.search(data):
        raise UnsafeXmlError("a DTD (<!DOCTYPE …>) is not accepted: entities and DTDs are never resolved", source=source)


def parse_xml(data: bytes, *, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """The root element of ``data``; ``UnsafeXmlError`` / ``PayloadError`` name ``source`` and why."""
    screen(data, source=source, max_bytes=max_bytes)
    try:
        root = etree.fromstring(data, parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        raise PayloadError(f"malformed XML from {source}: {plain_reason(str(exc.msg))} (line {exc.lineno})") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # e.g. a UTF-16 document the byte scan missed
        raise UnsafeXmlError("a DTD is not accepted", source=source)
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise UnsafeXmlError(f"entity reference &{node.name}; is not accepted", source=source)
    return root


def parse_xml_text(text: str, *, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse already-decoded text (its XML declaration, if any, is dropped: the text is Unicode)."""
    body = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    return parse_xml(body.encode("utf-8"), source=source, max_bytes=max_bytes)


_HUGE = re.compile(r",?\s*(?:try|use)\s+XML_PARSE_HUGE(?:\s+option)?", re.IGNORECASE)


def plain_reason(message: str) -> str:
    """libxml2's words for a document it will not read, without its advice to switch off its limits
    ("… try XML_PARSE_HUGE"), which is no advice for an admin: the sender's document is the fault."""
    if "XML_PARSE_HUGE" not in message.upper():
        return message
    text = _HUGE.sub("", message).strip(" ,.")
    return f"{text} (over a limit of jnx's XML parser; ask the sender to check the document)"


def zeep_settings(*, strict: bool = True, loading_wsdl: bool = False) -> ZeepSettings:
    """zeep's settings under the same rules: DTDs, entities and external references forbidden.

    ``loading_wsdl=True`` lets the WSDL import its XSDs (``xsd:import``); the loader then only
    fetches from the WSDL's own origin (see ``jnx.adapters.soap.CheckedZeepTransport``), and the
    client is switched to the strict settings before any answer is parsed.
    """
    return ZeepSettings(
        strict=strict,
        xml_huge_tree=True,  # answers are bounded by screen() before zeep parses them
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=not loading_wsdl,
    )
