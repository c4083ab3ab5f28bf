"""Reading a record file safely: size limit, encoding, JSON or XML, no DTD and no entities.

Everything that can go wrong becomes an :class:`UnusableInput` (exit code 2) saying where and what
to do: a file over the size limit (a regular file refused before it is read), bytes that do not decode (with the
byte offset), malformed JSON or XML (with line and column), a DTD or entity declaration (refused:
the parser never loads DTDs nor resolves entities), duplicate JSON keys, NaN/Infinity, integers
of more than a hundred digits. Pipes and devices are read only up to the limit.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from lxml import etree

from jnx.standard.errors import UnusableInput

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
"""16 MiB: a file larger than this is refused unless the caller raises the limit (``--max-bytes``)."""
MAX_JSON_INT_DIGITS = 100
"""A JSON integer longer than this is refused as unusable (Python would refuse past 4300 digits anyway)."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_XML_DECL = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*([\"'])([A-Za-z0-9._-]+)\1[^>]*\?>")
_XML_DECL_TEXT = re.compile(r"^(<\?xml[^>]*?encoding\s*=\s*)([\"'])([A-Za-z0-9._-]+)\2")
_PROLOG_ITEM = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|(?P<doctype><!DOCTYPE))", re.DOTALL | re.IGNORECASE)


def read_bytes(source: Path | bytes, max_bytes: int, name: str) -> bytes:
    """The file's bytes, refusing anything over ``max_bytes``.

    A regular file larger than the limit is refused before any byte is read; anything else (a pipe,
    ``/dev/stdin``, a device, a FIFO) is read up to ``max_bytes + 1`` bytes and refused if that one
    byte too many arrives, so an endless stream costs at most the limit. Directories and files that
    cannot be opened are refused with the reason.
    """
    if isinstance(source, bytes):
        if len(source) > max_bytes:
            raise _too_large(name, max_bytes, len(source))
        return source
    try:
        with source.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise UnusableInput(f"{name} is a directory, not a record file", hint="give the path of a JSON or XML file")
            if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
                raise _too_large(name, max_bytes, info.st_size)
            data = handle.read(max_bytes + 1)
    except IsADirectoryError as exc:
        raise UnusableInput(f"{name} is a directory, not a record file", hint="give the path of a JSON or XML file") from exc
    except OSError as exc:
        raise UnusableInput(f"cannot read {name}: {exc.strerror or exc}", hint="check the path and permissions; give a file or a pipe") from exc
    if len(data) > max_bytes:
        raise _too_large(name, max_bytes, None)
    return data


def _too_large(name: str, max_bytes: int, size: int | None) -> UnusableInput:
    """``size`` is known for a regular file; a stream is only known to have gone past the limit."""
    amount = f"is {size:,} bytes" if size is not None else f"holds more than {max_bytes:,} bytes"
    return UnusableInput(
        f"{name} {amount}, over the limit of {max_bytes:,} bytes",
        hint="split the file into smaller batches, or raise the limit with --max-bytes",
    )


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


_XML_ENCODING_HINT = "save the file as UTF-8, or declare its real encoding (e.g. <?xml version='1.0' encoding='GB18030'?>)"
_JSON_ENCODING_HINT = "JSON must be UTF-8 (RFC 8259): convert the file, e.g. iconv -f GB18030 -t UTF-8"


def _decode(data: bytes, encoding: str, name: str, *, declared: bool = False, hint: str = _XML_ENCODING_HINT) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UnusableInput(f"{name}: unknown encoding {encoding!r} in the XML declaration", hint="declare UTF-8 or GB18030") from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        source = f"the declared encoding {encoding}" if declared else encoding
        raise UnusableInput(f"{name}: bytes at offset {exc.start} cannot be decoded as {source} ({exc.reason})", hint=hint) from None


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


def _bounded_int(name: str) -> Callable[[str], int]:
    def parse_int(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_JSON_INT_DIGITS:
            raise UnusableInput(
                f"{name}: a JSON number of {len(digits.lstrip('-')):,} digits; no field of the standard holds more than {MAX_JSON_INT_DIGITS}",
                hint="check the file: amounts are decimal strings like \"0.2\", counts are small integers",
            )
        return int(digits)

    return parse_int


def parse_json(data: bytes, name: str) -> Any:
    text = _decode(data, _bom_encoding(data) or "utf-8", name, hint=_JSON_ENCODING_HINT)
    try:
        return json.loads(text, parse_float=Decimal, parse_int=_bounded_int(name), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
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
    dtd = _doctype_offset(text)
    if dtd is not None:
        _refuse_dtd(name, text.count("\n", 0, dtd) + 1)
    text = _XML_DECL_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}UTF-8{m.group(2)}", text, count=1)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser=parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        raise UnusableInput(f"{name}: malformed XML at line {line}, column {column}: {exc.msg}", hint="fix the XML there") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # the prolog scan missed it: refuse all the same
        _refuse_dtd(name, 1)
    return root


def _doctype_offset(text: str) -> int | None:
    """Where a ``<!DOCTYPE`` stands in the prolog (before the root element), else None.

    Only the prolog can hold a document type declaration; the same letters inside a comment, a
    CDATA section or text are content, not a DTD. Comments and processing instructions are skipped.
    """
    at = 0
    while True:
        match = _PROLOG_ITEM.match(text, at)
        if match is None:
            return None
        if match.group("doctype"):
            return match.start("doctype")
        at = match.end()


def _refuse_dtd(name: str, line: int) -> NoReturn:
    raise UnusableInput(
        f"{name}: line {line}: XML with a DTD or entity declaration (<!DOCTYPE …>) is refused; DTDs are never loaded and entities never expanded",
        hint="remove the DOCTYPE and write characters directly instead of entities",
    )
