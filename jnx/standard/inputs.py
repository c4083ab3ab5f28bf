"""Reading a record file safely: size limit, encoding, JSON or XML, no DTD and no entities.

Everything that can go wrong becomes an :class:`UnusableInput` (exit code 2) saying where and what
to do: a file over the size limit (refused before it is read), bytes that do not decode (with the
byte offset), malformed JSON or XML (with line and column), a DTD or entity declaration (refused:
the parser never loads DTDs nor resolves entities), duplicate JSON keys, NaN/Infinity.
"""

from __future__ import annotations

import codecs
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from jnx.standard.errors import UnusableInput

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
"""16 MiB: a file larger than this is refused unless the caller raises the limit (``--max-bytes``)."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_XML_DECL = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*([\"'])([A-Za-z0-9._-]+)\1[^>]*\?>")
_XML_DECL_TEXT = re.compile(r"^(<\?xml[^>]*?encoding\s*=\s*)([\"'])([A-Za-z0-9._-]+)\2")
_DTD = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def read_bytes(source: Path | bytes, max_bytes: int, name: str) -> bytes:
    """The file's bytes, refusing anything over ``max_bytes`` before reading it."""
    if isinstance(source, bytes):
        size = len(source)
    else:
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise UnusableInput(f"cannot read {name}: {exc.strerror or exc}", hint="check the path and permissions") from exc
    if size > max_bytes:
        raise UnusableInput(
            f"{name} is {size:,} bytes, over the limit of {max_bytes:,} bytes",
            hint="split the file into smaller batches, or raise the limit with --max-bytes",
        )
    if isinstance(source, bytes):
        return source
    try:
        return source.read_bytes()
    except OSError as exc:
        raise UnusableInput(f"cannot read {name}: {exc.strerror or exc}", hint="check the path and permissions") from exc


def sniff_format(data: bytes, name: str) -> str:
    """``json`` or ``xml``, by file extension, else by the first meaningful character."""
    suffix = Path(name).suffix.lower()
    if suffix in (".json", ".xml"):
        return suffix[1:]
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<" or data.startswith((codecs.BOM_UTF16_LE + b"<", codecs.BOM_UTF16_BE + b"\0<")):
        return "xml"
    if head in (b"{", b"["):
        return "json"
    raise UnusableInput(f"{name}: cannot tell whether this is JSON or XML", hint="name the file .json or .xml")


def _decode(data: bytes, encoding: str, name: str, declared: bool = False) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UnusableInput(f"{name}: unknown encoding {encoding!r} in the XML declaration", hint="declare UTF-8 or GB18030") from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        source = f"the declared encoding {encoding}" if declared else encoding
        raise UnusableInput(
            f"{name}: bytes at offset {exc.start} cannot be decoded as {source} ({exc.reason})",
            hint="save the file as UTF-8, or declare its real encoding (e.g. <?xml version='1.0' encoding='GB18030'?>)",
        ) from None


def _bom_encoding(data: bytes) -> str | None:
    return next((encoding for bom, encoding in _BOMS if data.startswith(bom)), None)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise UnusableInput(f"duplicate key {key!r} in a JSON object", hint="give each field once")
        out[key] = value
    return out


def _no_constant(value: str) -> Any:
    raise UnusableInput(f"{value} is not a number the standard accepts", hint="give amounts as decimal strings")


def parse_json(data: bytes, name: str) -> Any:
    text = _decode(data, _bom_encoding(data) or "utf-8", name)
    try:
        return json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UnusableInput(f"{name}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", hint="fix the JSON syntax there") from None
    except RecursionError:
        raise UnusableInput(f"{name}: JSON nested too deeply", hint="records are flat objects; check the file") from None


def parse_xml(data: bytes, name: str) -> etree._Element:
    """Parse XML with no DTD, no entities, no network; the declared encoding (e.g. GB18030) honoured."""
    bom = _bom_encoding(data)
    declared = _XML_DECL.match(data)
    encoding = bom or (declared.group(2).decode("ascii") if declared else "utf-8")
    text = _decode(data, encoding, name, declared=declared is not None and bom is None)
    text = text.lstrip("\ufeff")
    dtd = _DTD.search(text)
    if dtd:
        line = text.count("\n", 0, dtd.start()) + 1
        raise UnusableInput(
            f"{name}: line {line}: XML with a DTD or entity declaration (<!{dtd.group(1)} …>) is refused; DTDs are never loaded and entities never expanded",
            hint="remove the DOCTYPE and write characters directly instead of entities",
        )
    text = _XML_DECL_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}UTF-8{m.group(2)}", text, count=1)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False)
    try:
        return etree.fromstring(text.encode("utf-8"), parser=parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        raise UnusableInput(f"{name}: malformed XML at line {line}, column {column}: {exc.msg}", hint="fix the XML there") from None
