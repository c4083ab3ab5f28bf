"""File drops (CSV or XML) in a folder: the platforms that export files instead of offering an API.

Files are read oldest first (modification time, then name), each one in pages of records streamed
from disk (memory does not grow with the file). A file still being written is skipped (a partial
suffix such as ``.part``, a missing ``NAME.ok`` marker when ``ready_suffix`` is set, or younger
than ``min_age_seconds``); one stamped in the future is read, with a warning. Files are remembered
by identity, not by time: every file in the folder is read, and the watermark names the file being
read (name and content hash) and the byte offset reached, so a pass resumes inside it after a crash;
a file whose last page is committed moves to ``done/`` (or, if the crash came first, on the next
pull). A file copied in with an old modification time is read like any other.

One bad row never stops a file: a ragged row, an unterminated quote, an over-long field, bytes not
in the declared encoding, a GB18030 file's row that is really UTF-8, text that cannot be standard
text (:mod:`jnx.adapters.screening`) or a row without its key is kept (its raw bytes) and queued as
an error naming file, line and byte offset; the rows after it go on. A file that cannot be read at
all (an archive, a byte-order mark of another encoding, no header, duplicate header names, no key
column, empty, broken XML, a symbolic link) moves to ``rejected/`` beside the drop with a
``NAME.reason.txt`` saying why; the run warns and goes on with the next file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from jnx.adapters.base import (
    Adapters,
    OutboundItem,
    Page,
    PayloadEncoding,
    Puller,
    RawRecord,
    Receipt,
    ReceiptStatus,
    Watermark,
    defective,
    dig,
)
from jnx.adapters.config import FileDropConfig, FilePullSpec, FilePushSpec
from jnx.adapters.errors import FileEncodingError, PayloadError
from jnx.adapters.receipts import batch_key
from jnx.adapters.screening import text_problem
from jnx.adapters.xmlsafe import parse_xml_text

_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
#: One CSV record (a quoted field may span lines) longer than this is an error of its own.
MAX_RECORD_BYTES = 4 * 1024 * 1024
#: A file stamped this far after jnx's clock is read anyway (its clock is wrong), with a warning.
FUTURE_SKEW_SECONDS = 300.0
REJECTED_FOLDER = "rejected"
_REJECTED = "rejected: "
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\x84\x31\x95\x33", "gb18030"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook or a zipped export), not a text file"),
    (b"\x1f\x8b", "a gzip archive, not a text file"),
    (b"\xd0\xcf\x11\xe0", "an Office document (an old .xls workbook), not a text file"),
    (b"%PDF", "a PDF document, not a text file"),
    (b"Rar!", "a RAR archive, not a text file"),
    (b"7z\xbc\xaf", "a 7z archive, not a text file"),
)
_CHINESE = frozenset({"gb18030", "gbk", "gb2312", "hz", "big5", "big5hkscs", "cp936", "cp950"})


@dataclass(frozen=True)
class DroppedFile:
    path: Path
    mtime_ns: int
    size: int
    notice: str | None = None  # said about the file when it is read (stamped in the future)

    @property
    def position(self) -> tuple[int, str]:
        return (self.mtime_ns, self.path.name)


class _Rejected(Exception):
    """The file cannot be read at all; ``reason`` goes to its reason file and the run's warnings."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode_file(path: Path, data: bytes, *, declared: str | None, xml: bool) -> str:
    """The text of a dropped file, or ``FileEncodingError`` with the offset of the first bad byte."""
    encoding = declared
    if encoding is None and xml:
        match = _DECLARED.match(data)
        encoding = match.group(1).decode("ascii") if match else None
    encoding = encoding or "utf-8-sig"
    try:
        return data.decode(encoding)
    except LookupError as exc:
        raise PayloadError(f"{path}: unknown encoding {encoding!r}", hint="fix `encoding` in the registration") from exc
    except UnicodeDecodeError as exc:
        raise FileEncodingError(path=str(path), encoding=encoding, offset=exc.start, reason=exc.reason) from exc


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (a symbolic link: of where it points), read in chunks."""
    digest = hashlib.sha256()
    if path.is_symlink():
        digest.update(os.fsencode(os.readlink(path)))
        return digest.hexdigest()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError as exc:
        raise PayloadError(f"unknown encoding {name!r}", hint="fix `encoding` in the registration") from exc


class FileDropPuller:
    def __init__(
        self,
        folder: Path,
        done_folder: Path,
        spec: FilePullSpec,
        *,
        page_size: int,
        clock: Callable[[], float] = time.time,
        rejected_folder: Path | None = None,
    ) -> None:
        self.folder = folder
        self.done_folder = done_folder
        self.rejected_folder = rejected_folder or folder / REJECTED_FOLDER
        self.spec = spec
        self.page_size = page_size
        self._clock = clock

    def ready_files(self) -> list[DroppedFile]:
        files = []
        now = self._clock()
        for path in self.folder.glob(self.spec.pattern):
            name = path.name
            if name.startswith((".", "~")) or name.endswith(self.spec.partial_suffixes):
                continue
            if path.is_symlink():
                files.append(DroppedFile(path, 0, 0))  # refused when its turn comes, never followed
                continue
            if not path.is_file():
                continue
            if self.spec.ready_suffix and not path.with_name(name + self.spec.ready_suffix).exists():
                continue
            stat = path.stat()
            age = now - stat.st_mtime
            notice = None
            if age < -FUTURE_SKEW_SECONDS:
                notice = (f"{path}: its modification time is {-age:.0f} s in the future (the sender's clock is wrong); "
                          "read anyway")
            elif age < self.spec.min_age_seconds:
                continue
            files.append(DroppedFile(path, stat.st_mtime_ns, stat.st_size, notice))
        return sorted(files, key=lambda f: f.position)

    def pull(self, watermark: Watermark | None, *, page_size: int | None = None) -> Iterator[Page]:
        pages = self._pages(watermark, page_size or self.page_size)
        previous = next(pages, None)
        for page in pages:
            assert previous is not None
            yield previous
            previous = page
        if previous is not None:
            yield replace(previous, last=True)

    def _pages(self, watermark: Watermark | None, size: int) -> Iterator[Page]:
        """Every page of every ready file, in order (``last`` is set by :meth:`pull`)."""
        number = 0
        for dropped in self.ready_files():
            digest = file_digest(dropped.path)
            start = 0, 0
            if watermark is not None and watermark.key == dropped.path.name and watermark.since == f"sha256:{digest}":
                if watermark.cursor is None:  # committed, then a crash before it moved
                    self._finish(dropped.path, watermark.high)
                    continue
                offset, _, line = watermark.cursor.partition(":")
                start = int(offset), int(line or 0)
            for records, cursor, high, notices in self._read(dropped, digest, start, size):
                number += 1
                mark = Watermark(since=f"sha256:{digest}", key=dropped.path.name, cursor=cursor, high=high)
                yield Page(tuple(records), mark, number, str(dropped.path), notices=notices)

    def acknowledge(self, page: Page) -> None:
        if page.watermark.cursor is None and page.watermark.key:
            self._finish(self.folder / page.watermark.key, page.watermark.high)

    def _finish(self, path: Path, high: str | None) -> None:
        if high is not None and high.startswith(_REJECTED):
            self._move(path, self.rejected_folder, reason=high[len(_REJECTED):])
        else:
            self._move(path, self.done_folder)

    def _move(self, path: Path, folder: Path, *, reason: str | None = None) -> None:
        if not path.exists() and not path.is_symlink():
            return
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        if target.exists() or target.is_symlink():
            target = folder / f"{path.stem}.{time.time_ns()}{path.suffix}"
        os.replace(path, target)
        if reason is not None:
            note = target.with_name(target.name + ".reason.txt")
            note.write_text(f"{path.name} was rejected by jnx: {reason}\n", encoding="utf-8")
        if self.spec.ready_suffix:
            marker = path.with_name(path.name + self.spec.ready_suffix)
            if marker.exists():
                os.replace(marker, folder / marker.name)

    # ---------------------------------------------------------------- reading one file

    def _read(self, dropped: DroppedFile, digest: str, start: tuple[int, int],
              size: int) -> Iterator[tuple[list[RawRecord], str | None, str | None, tuple[str, ...]]]:
        """Pages of one file: (records, cursor for after them or None at the end, high, notices)."""
        path = dropped.path
        notices: tuple[str, ...] = (dropped.notice,) if dropped.notice else ()
        try:
            if path.is_symlink():
                raise _Rejected("it is a symbolic link; jnx reads only files in the drop folder itself")
            if dropped.size == 0:
                raise _Rejected("the file is empty (0 bytes)")
            if self.spec.format == "xml" and dropped.size > self.spec.max_bytes:
                raise _Rejected(f"{dropped.size} bytes is over the limit of {self.spec.max_bytes} (`max_bytes`)")
            if self.spec.format == "xml":
                records = self._xml_records(path)
                pages = [records[i:i + size] for i in range(0, len(records), size)] or [[]]
                if not records:
                    notices += (f"{path}: no `{self.spec.record_element}` records in the file",)
                for index, chunk in enumerate(pages):
                    done = index == len(pages) - 1
                    yield chunk, None if done else f"x{(index + 1) * size}", None, notices if index == 0 else ()
                return
            yield from self._csv_pages(path, start, size, notices)
        except _Rejected as exc:
            reason = exc.reason
            record = defective(str(path), self.spec.record_type, f"{path.name} ({dropped.size} bytes, sha256:{digest}): {reason}".encode(),
                               PayloadEncoding.CSV if self.spec.format == "csv" else PayloadEncoding.XML,
                               "file.rejected", f"the file was rejected and moved to {REJECTED_FOLDER}/: {reason}",
                               key=f"!file:{path.name}:{digest[:16]}")
            notice = f"{path}: rejected ({reason}); moved to {REJECTED_FOLDER}/ with {path.name}.reason.txt"
            yield [record], None, _REJECTED + reason[:500], notices + (notice,)

    def _encoding(self, head: bytes) -> tuple[str, int]:
        """The codec to read with and the length of the byte-order mark to skip."""
        declared = _codec(self.spec.encoding) if self.spec.encoding else None
        for bom, name in _BOMS:
            if head.startswith(bom):
                if name == "utf-16":
                    raise _Rejected("it starts with a UTF-16 byte-order mark; export it as UTF-8 or GB18030")
                if declared is not None and declared not in (_codec(name), "utf-8-sig" if name == "utf-8" else ""):
                    raise _Rejected(f"it starts with a {name.upper()} byte-order mark but the registration declares "
                                    f"{self.spec.encoding}: re-export it in {self.spec.encoding} or fix `encoding`")
                return _codec(name), len(bom)
        encoding = declared or "utf-8"
        if encoding == "utf-8-sig":
            encoding = "utf-8"
        if "\n\",;|\t".encode(encoding, errors="replace") != b'\n",;|\t':
            raise PayloadError(f"encoding {self.spec.encoding!r} is not read for CSV files (not ASCII-compatible)",
                               hint="export as UTF-8 or GB18030")
        return encoding, 0

    def _csv_pages(self, path: Path, start: tuple[int, int], size: int,
                   notices: tuple[str, ...]) -> Iterator[tuple[list[RawRecord], str | None, str | None, tuple[str, ...]]]:
        with path.open("rb") as handle:
            head = handle.read(8)
            for magic, what in _MAGIC:
                if head.startswith(magic):
                    raise _Rejected(f"it is {what}")
            encoding, bom = self._encoding(head)
            lines = _CsvLines(handle, bom, 1)
            header = self._header(path, lines, encoding)
            if start[0] > lines.offset:
                lines = _CsvLines(handle, start[0], start[1])
            batch: list[RawRecord] = []
            any_row = start[0] > 0
            for offset, line, raw, problem in lines:
                record = self._row(path, header, encoding, offset, line, raw, problem)
                if record is None:
                    continue
                first = raw[:raw.find(b"\n") + 1]
                if record.defect is not None and record.defect.rule.startswith("csv") and 0 < len(first) < len(raw):
                    # a quote opened on this line closed lines later: more likely a stray quote than a field
                    # of many lines that does not parse: only this line is bad, reading goes on after it
                    record = self._row(path, header, encoding, offset, line, first, "a quote that is not closed on its line "
                                       "(a quoted field over several lines did not parse)")
                    assert record is not None
                    lines.restart(offset + len(first), line + 1)
                any_row = True
                batch.append(record)
                if len(batch) >= size:
                    yield batch, f"{lines.offset}:{lines.line}", None, notices
                    batch, notices = [], ()
            if not any_row:
                notices += (f"{path}: a header and no rows",)
            yield batch, None, None, notices

    def _header(self, path: Path, lines: _CsvLines, encoding: str) -> list[str]:
        for offset, line, raw, problem in lines:
            if not raw.strip():
                continue
            if problem:
                raise _Rejected(f"its header (line {line}) has {problem}")
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise _Rejected(f"its header is not valid {encoding} at byte offset {offset + exc.start}; "
                                "check `encoding` in the registration") from exc
            try:
                header = [name.strip() for name in next(csv.reader([_unterminated(text)], delimiter=self.spec.delimiter, strict=True))]
            except (csv.Error, StopIteration) as exc:
                raise _Rejected(f"its header (line {line}) is not CSV: {exc}") from exc
            seen: set[str] = set()
            twice = sorted({name for name in header if name in seen or seen.add(name)})  # type: ignore[func-returns-value]
            if twice:
                raise _Rejected(f"its header names {', '.join(repr(n) for n in twice)} more than once; "
                                "which column is meant cannot be told")
            problem_text = text_problem(header)
            if problem_text:
                raise _Rejected(f"its header: {problem_text}")
            if self.spec.key_field not in header:
                raise _Rejected(f"its header has no key column `{self.spec.key_field}` (it has {', '.join(header[:20])})")
            return header
        raise _Rejected("it holds no header line")

    def _row(self, path: Path, header: list[str], encoding: str, offset: int, line: int, raw: bytes,  # noqa: PLR0911
             problem: str | None) -> RawRecord | None:
        """One CSV record, or a defective record saying why it is not one; None for a blank line."""
        where = f"{path}: line {line} (byte offset {offset})"
        kind = self.spec.record_type

        def bad(rule: str, message: str, key: str | None = None) -> RawRecord:
            return defective(where, kind, raw, PayloadEncoding.CSV, rule, message, key=key)

        if problem is not None:
            return bad("csv", problem)
        if not raw.strip():
            return None
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            return bad("encoding", f"not valid {encoding} at byte offset {offset + exc.start} ({exc.reason}); the row is kept as bytes")
        if encoding in _CHINESE and not raw.isascii() and _is_utf8(raw):
            return bad("encoding.utf8_in_gb", f"the row's bytes are valid UTF-8 in a file declared {encoding}: a UTF-8 row pasted "
                                               "in? Read as declared it would be mojibake; ask the sender to re-export the file")
        try:
            fields = next(csv.reader([_unterminated(text)], delimiter=self.spec.delimiter, strict=True))
        except csv.Error as exc:
            return bad("csv", f"not CSV: {exc}")
        except StopIteration:
            return None
        if len(fields) != len(header):
            return bad("csv.fields", f"the row has {len(fields)} fields where the header has {len(header)}")
        row = dict(zip(header, fields, strict=True))
        key = row.get(self.spec.key_field, "").strip()
        problem_text = text_problem(row)
        if problem_text:
            return bad("text", problem_text, key=key or None)
        if not key:
            return bad("key.missing", f"the row has no source key `{self.spec.key_field}`")
        updated = row.get(self.spec.updated_field) if self.spec.updated_field else None
        return RawRecord(key, kind, row, PayloadEncoding.CSV, updated or None)

    def _xml_records(self, path: Path) -> list[RawRecord]:
        data = path.read_bytes()
        try:
            text = decode_file(path, data, declared=self.spec.encoding, xml=True)
            root = parse_xml_text(text, source=str(path), max_bytes=self.spec.max_bytes)
        except FileEncodingError as exc:
            raise _Rejected(f"it is not valid {exc.encoding} at byte offset {exc.offset}; check `encoding`") from exc
        except PayloadError as exc:
            if "unknown encoding" in str(exc):
                raise
            raise _Rejected(str(exc).replace(f"{path}", "").strip(" :") or type(exc).__name__) from exc
        records = []
        for index, element in enumerate(root.iter(f"{{*}}{self.spec.record_element}")):
            where = f"{path}: record {index} (line {element.sourceline})"
            row = {child.tag.split("}")[-1]: (child.text or "") for child in element if isinstance(child.tag, str)}
            raw = json.dumps(row, ensure_ascii=True, sort_keys=True).encode()
            key = dig(row, self.spec.key_field)
            key = str(key).strip() if key not in (None, "") else ""
            problem_text = text_problem(row)
            if problem_text:
                records.append(defective(where, self.spec.record_type, raw, PayloadEncoding.XML, "text", problem_text, key=key or None))
            elif not key:
                records.append(defective(where, self.spec.record_type, raw, PayloadEncoding.XML, "key.missing",
                                         f"the record has no source key `{self.spec.key_field}`"))
            else:
                updated = dig(row, self.spec.updated_field) if self.spec.updated_field else None
                records.append(RawRecord(key, self.spec.record_type, row, PayloadEncoding.XML, updated or None))
        return records


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _unterminated(text: str) -> str:
    """A record's text without its line ending (the csv module reads it as one record)."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith(("\n", "\r")) else text


class _CsvLines:
    """The raw records of a CSV file from a byte offset: (offset, line, bytes, problem or None).

    A record ends at a line end outside quotes; a double quote never occurs inside a multi-byte
    character of UTF-8 or GB18030, so quotes are counted on bytes. A quote left open to the end of
    the file or over :data:`MAX_RECORD_BYTES` makes its first line a bad record, and reading goes
    on at the next line. After each record, ``offset`` and ``line`` say where the next one starts.
    """

    def __init__(self, handle: IO[bytes], offset: int, line: int) -> None:
        self.handle = handle
        self.offset = offset
        self.line = line
        handle.seek(offset)

    def _readline(self) -> tuple[bytes, bool]:
        """The next physical line (bounded), and whether it was cut because it is too long."""
        data = self.handle.readline(MAX_RECORD_BYTES + 1)
        if len(data) > MAX_RECORD_BYTES and not data.endswith(b"\n"):
            rest = len(data)
            while True:  # skip to the end of the over-long line without holding it
                chunk = self.handle.readline(1 << 20)
                rest += len(chunk)
                if not chunk or chunk.endswith(b"\n"):
                    break
            return data[:4096], True
        return data, False

    def restart(self, offset: int, line: int) -> None:
        """Go on reading at ``offset`` (the start of ``line``) instead of after the last record."""
        self.offset, self.line = offset, line
        self.handle.seek(offset)

    def __iter__(self) -> Iterator[tuple[int, int, bytes, str | None]]:
        self.handle.seek(self.offset)
        while True:
            start, line = self.offset, self.line
            first, cut = self._readline()
            if not first:
                return
            if cut:
                self.offset, self.line = self.handle.tell(), line + 1
                yield start, line, first, f"a line longer than {MAX_RECORD_BYTES} bytes"
                continue
            quotes = first.count(b'"')
            parts, total = [first], len(first)
            while quotes % 2:
                more, cut = self._readline()
                if not more or cut or total + len(more) > MAX_RECORD_BYTES:
                    parts = []
                    break
                parts.append(more)
                total += len(more)
                quotes += more.count(b'"')
            if not parts:
                self.offset, self.line = start + len(first), line + 1
                self.handle.seek(self.offset)
                yield start, line, first, "a quote that is never closed (a quoted field runs to the end of the file)"
                continue
            raw = b"".join(parts)
            self.offset, self.line = start + len(raw), line + len(parts)
            yield start, line, raw, None


class FileDropPusher:
    """Writes each batch as one JSON file, atomically (``.part`` then rename); receipts are QUEUED."""

    def __init__(self, spec: FilePushSpec) -> None:
        self.spec = spec

    def push(self, batch: list[OutboundItem]) -> list[Receipt]:
        if not batch:
            return []
        key = batch_key(batch)
        self.spec.folder.mkdir(parents=True, exist_ok=True)
        target = self.spec.folder / f"{self.spec.file_prefix}_{key}.json"
        if not target.exists():
            records = []
            for item in batch:
                if isinstance(item.payload, bytes):
                    raise PayloadError(f"item {item.idempotency_key}: the file pusher writes JSON records")
                records.append({"idempotency_key": item.idempotency_key, "record_type": item.record_type, "record": dict(item.payload)})
            body = json.dumps({"batch": key, "records": records}, ensure_ascii=False, indent=1, sort_keys=True)
            partial = target.with_name(target.name + ".part")
            partial.write_bytes(body.encode(self.spec.encoding))
            os.replace(partial, target)
        return [Receipt(item.idempotency_key, ReceiptStatus.QUEUED, receipt_id=target.name) for item in batch]


def build_files(config: FileDropConfig) -> Adapters:
    done = config.folder / config.done_folder
    pullers: dict[str, Puller] = {spec.record_type: FileDropPuller(config.folder, done, spec, page_size=config.page_size) for spec in config.pull}
    return Adapters(pullers=pullers, pusher=FileDropPusher(config.push) if config.push else None)
