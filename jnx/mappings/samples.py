"""Reading files of sample source records for ``jnx mappings test``: JSON, JSONL, CSV.

A JSON file holds one record or an array of records; JSONL one record a line (a bad line is
reported for that line, the rest are read); CSV has a header row (UTF-8, or GB18030 as the
double-random system exports it — ``auto`` tries UTF-8 first). Numbers with a fraction are read as
Decimal, never float.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from jnx.mappings.errors import SampleFileError

ENCODINGS = ("auto", "utf-8", "gb18030")


@dataclass(frozen=True, slots=True)
class Sample:
    """One source record of a sample file, or why that entry is unreadable."""

    where: str
    record: Any = None
    error: str | None = None


def _decode(data: bytes, encoding: str, path: Path) -> str:
    tries = ("utf-8-sig", "gb18030") if encoding == "auto" else (encoding,)
    for name in tries:
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    raise SampleFileError(f"{path}: not readable as {' or '.join(tries)}", hint="give --encoding")


def read_samples(path: Path, encoding: str = "auto") -> Iterator[Sample]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SampleFileError(f"{path}: cannot read: {exc.strerror}") from exc
    text = _decode(data, encoding, path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        for number, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2):
            yield Sample(f"{path.name}:{number}", dict(row))
    elif suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    yield Sample(f"{path.name}:{number}", json.loads(line, parse_float=Decimal))
                except json.JSONDecodeError as exc:
                    yield Sample(f"{path.name}:{number}", error=f"not JSON: {exc.msg} at column {exc.colno}")
    elif suffix == ".json":
        try:
            document = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise SampleFileError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from exc
        for index, record in enumerate(document if isinstance(document, list) else [document]):
            yield Sample(f"{path.name}[{index}]", record)
    else:
        raise SampleFileError(f"{path}: give a .json, .jsonl or .csv file")
