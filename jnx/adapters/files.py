"""File drops (CSV or XML) in a folder: the platforms that export files instead of offering an API.

Files are read oldest first (modification time, then name); a file still being written is skipped
(a partial suffix such as ``.part``, a missing ``NAME.ok`` marker when ``ready_suffix`` is set, or
younger than ``min_age_seconds``). The encoding is the registration's, else the XML declaration's,
else UTF-8 (a BOM allowed); bytes that do not decode are a :class:`FileEncodingError` naming the file
and byte offset. Each page's watermark is (file mtime in ns, file name, row offset); when the exchange
acknowledges a file's last page, the file moves to ``done/``. A file the watermark already covers
but that is still in the folder (a crash between commit and move) is moved on the next pull.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    dig,
)
from jnx.adapters.config import FileDropConfig, FilePullSpec, FilePushSpec
from jnx.adapters.errors import FileEncodingError, PayloadError
from jnx.adapters.receipts import batch_key
from jnx.adapters.xmlsafe import parse_xml_text

_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


@dataclass(frozen=True)
class DroppedFile:
    path: Path
    mtime_ns: int

    @property
    def position(self) -> tuple[int, str]:
        return (self.mtime_ns, self.path.name)


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


class FileDropPuller:
    def __init__(
        self,
        folder: Path,
        done_folder: Path,
        spec: FilePullSpec,
        *,
        page_size: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.folder = folder
        self.done_folder = done_folder
        self.spec = spec
        self.page_size = page_size
        self._clock = clock

    def ready_files(self) -> list[DroppedFile]:
        files = []
        now = self._clock()
        for path in self.folder.glob(self.spec.pattern):
            name = path.name
            if not path.is_file() or name.startswith((".", "~")) or name.endswith(self.spec.partial_suffixes):
                continue
            if self.spec.ready_suffix and not path.with_name(name + self.spec.ready_suffix).exists():
                continue
            stat = path.stat()
            if now - stat.st_mtime < self.spec.min_age_seconds:
                continue
            files.append(DroppedFile(path, stat.st_mtime_ns))
        return sorted(files, key=lambda f: f.position)

    def pull(self, watermark: Watermark | None, *, page_size: int | None = None) -> Iterator[Page]:
        size = page_size or self.page_size
        mark = (int(watermark.since), watermark.key or "") if watermark else None
        todo = []
        for dropped in self.ready_files():
            if mark is not None and dropped.position < mark or mark is not None and dropped.position == mark and watermark and watermark.cursor is None:
                self._move_done(dropped.path)
            else:
                todo.append(dropped)
        number = 0
        for file_index, dropped in enumerate(todo):
            start = int(watermark.cursor) if watermark and watermark.cursor and dropped.position == mark else 0
            records = self._read(dropped.path)
            offsets = list(range(start, len(records), size)) or [start]
            for offset in offsets:
                number += 1
                end = min(offset + size, len(records))
                done = end >= len(records)
                page_mark = Watermark(since=str(dropped.mtime_ns), key=dropped.path.name, cursor=None if done else str(end))
                last = done and file_index == len(todo) - 1
                yield Page(tuple(records[offset:end]), page_mark, number, str(dropped.path), last=last)

    def acknowledge(self, page: Page) -> None:
        if page.watermark.cursor is None and page.watermark.key:
            self._move_done(self.folder / page.watermark.key)

    def _move_done(self, path: Path) -> None:
        if not path.exists():
            return
        self.done_folder.mkdir(parents=True, exist_ok=True)
        target = self.done_folder / path.name
        if target.exists():
            target = self.done_folder / f"{path.stem}.{time.time_ns()}{path.suffix}"
        os.replace(path, target)
        if self.spec.ready_suffix:
            marker = path.with_name(path.name + self.spec.ready_suffix)
            if marker.exists():
                os.replace(marker, self.done_folder / marker.name)

    def _read(self, path: Path) -> list[RawRecord]:
        size = path.stat().st_size
        if size > self.spec.max_bytes:
            raise PayloadError(f"{path}: {size} bytes is over the limit of {self.spec.max_bytes}")
        data = path.read_bytes()
        xml = self.spec.format == "xml"
        text = decode_file(path, data, declared=self.spec.encoding, xml=xml)
        rows = self._xml_rows(path, text) if xml else self._csv_rows(path, text)
        encoding = PayloadEncoding.XML if xml else PayloadEncoding.CSV
        records = []
        for where, row in rows:
            key = dig(row, self.spec.key_field)
            if key in (None, ""):
                raise PayloadError(f"{path}: {where} has no source key `{self.spec.key_field}`")
            updated = dig(row, self.spec.updated_field) if self.spec.updated_field else None
            records.append(RawRecord(str(key).strip(), self.spec.record_type, row, encoding, updated or None))
        return records

    def _csv_rows(self, path: Path, text: str) -> list[tuple[str, dict[str, Any]]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.spec.delimiter, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                return []
            header = [h.strip() for h in header]
            rows = []
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise PayloadError(
                        f"{path}: line {reader.line_num} has {len(row)} fields where the header has {len(header)}"
                    )
                rows.append((f"line {reader.line_num}", dict(zip(header, row, strict=True))))
            return rows
        except csv.Error as exc:
            raise PayloadError(f"{path}: line {reader.line_num}: {exc}") from exc

    def _xml_rows(self, path: Path, text: str) -> list[tuple[str, dict[str, Any]]]:
        root = parse_xml_text(text, source=str(path), max_bytes=self.spec.max_bytes)
        rows = []
        for index, element in enumerate(root.iter(f"{{*}}{self.spec.record_element}")):
            row = {child.tag.split("}")[-1]: (child.text or "") for child in element if isinstance(child.tag, str)}
            rows.append((f"record {index} (line {element.sourceline})", row))
        return rows


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
