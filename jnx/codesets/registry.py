"""Versioned code sets (代码集) read from data files, and the checks against them.

A code set (e.g. ``penalty_type`` 处罚类别) has versions with validity dates; a value is checked
against the version *in force on a date* — the decision date of the record — so a 2020 penalty
and a 2022 penalty are judged by the lists of their time. Each entry may carry its own validity
(an abolished region code stays known for records of its time) and free attributes (region codes
in other numbering systems).

Data files live in ``jnx/codesets/data/<name>.yaml`` (format 1)::

    format: 1
    name: penalty_type
    title: 处罚类别
    title_en: Penalty category
    description: …
    versions:
      - version: "2017"
        valid_from: 1996-10-01
        valid_to: 2021-07-14          # inclusive; omitted = still in force
        source: 《行政处罚法》(2017) 第八条
        entries:
          - {code: 警告, label: 警告, label_en: Warning}
          - {code: "370802", label: 市中区, valid_to: 2013-10-08, replaced_by: "370811"}

Pure: no database, no clock (callers pass the date), no logging.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from jnx.codesets.validators import Verdict
from jnx.errors import CodeSetError

DATA_DIR = Path(__file__).with_name("data")
FORMAT = 1


@dataclass(frozen=True, slots=True)
class CodeEntry:
    code: str
    label: str
    label_en: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    replaced_by: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)

    def in_force(self, on: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True, slots=True)
class CodeSetVersion:
    version: str
    valid_from: dt.date
    valid_to: dt.date | None
    entries: Mapping[str, CodeEntry]
    source: str | None = None

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def __contains__(self, code: object) -> bool:
        return code in self.entries


@dataclass(frozen=True, slots=True)
class CodeSet:
    name: str
    title: str
    title_en: str
    description: str
    versions: tuple[CodeSetVersion, ...]

    def version_on(self, on: dt.date) -> CodeSetVersion:
        """The version in force on ``on``; CodeSetError if none is."""
        for version in self.versions:
            if version.in_force(on):
                return version
        spans = ", ".join(f"{v.version} ({v.valid_from}–{v.valid_to or '…'})" for v in self.versions)
        raise CodeSetError(f"no version of code set {self.name!r} is in force on {on.isoformat()}; versions: {spans}")

    def version(self, version: str) -> CodeSetVersion:
        for candidate in self.versions:
            if candidate.version == version:
                return candidate
        known = ", ".join(v.version for v in self.versions)
        raise CodeSetError(f"code set {self.name!r} has no version {version!r}; known: {known}")

    @property
    def latest(self) -> CodeSetVersion:
        return max(self.versions, key=lambda v: v.valid_from)

    def check(self, value: str, on: dt.date | None = None) -> Verdict:
        """Is ``value`` a code of this set in force on ``on`` (default: the latest version)?"""
        version = self.version_on(on) if on is not None else self.latest
        entry = version.entries.get(value)
        if entry is None:
            for other in self.versions:
                if other is not version and value in other.entries:
                    return Verdict(
                        False,
                        f"codeset.{self.name}.not_in_version",
                        f"{value!r} is a {self.title} code of version {other.version} "
                        f"({other.valid_from}–{other.valid_to or '…'}), not of version {version.version} in force"
                        + (f" on {on.isoformat()}" if on else ""),
                    )
            return Verdict(False, f"codeset.{self.name}.unknown", f"{value!r} is not a {self.title} ({self.name}) code")
        if on is not None and not entry.in_force(on):
            hint = f"; use {entry.replaced_by!r}" if entry.replaced_by else ""
            return Verdict(
                False,
                f"codeset.{self.name}.not_in_force",
                f"{value!r} ({entry.label}) is valid {entry.valid_from or '…'}–{entry.valid_to or '…'}, "
                f"not on {on.isoformat()}{hint}",
            )
        return Verdict(True)


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise CodeSetError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from exc


def _entry(raw: Mapping[str, Any], where: str) -> CodeEntry:
    known = {"code", "label", "label_en", "valid_from", "valid_to", "replaced_by", "attrs"}
    unknown = set(raw) - known
    if unknown or "code" not in raw or "label" not in raw:
        raise CodeSetError(f"{where}: an entry needs code and label (known keys: {sorted(known)}); got {sorted(raw)}")
    return CodeEntry(
        code=str(raw["code"]),
        label=str(raw["label"]),
        label_en=raw.get("label_en"),
        valid_from=_date(raw.get("valid_from"), where),
        valid_to=_date(raw.get("valid_to"), where),
        replaced_by=None if raw.get("replaced_by") is None else str(raw["replaced_by"]),
        attrs=dict(raw.get("attrs") or {}),
    )


def parse_codeset(doc: Mapping[str, Any], source: str) -> CodeSet:
    """Build and check a code set from a parsed data file; CodeSetError names the file and the problem."""
    if doc.get("format") != FORMAT:
        raise CodeSetError(f"{source}: format must be {FORMAT}, got {doc.get('format')!r}")
    versions = []
    for i, raw in enumerate(doc.get("versions") or []):
        where = f"{source}: versions[{i}]"
        entries: dict[str, CodeEntry] = {}
        for j, raw_entry in enumerate(raw.get("entries") or []):
            entry = _entry(raw_entry, f"{where}.entries[{j}]")
            if entry.code in entries:
                raise CodeSetError(f"{where}: code {entry.code!r} appears twice")
            entries[entry.code] = entry
        valid_from = _date(raw.get("valid_from"), where)
        if valid_from is None:
            raise CodeSetError(f"{where}: valid_from is required")
        versions.append(
            CodeSetVersion(
                version=str(raw["version"]),
                valid_from=valid_from,
                valid_to=_date(raw.get("valid_to"), where),
                entries=entries,
                source=raw.get("source"),
            )
        )
    if not versions:
        raise CodeSetError(f"{source}: a code set needs at least one version")
    ordered = sorted(versions, key=lambda v: v.valid_from)
    for before, after in zip(ordered, ordered[1:]):
        if before.valid_to is None or before.valid_to >= after.valid_from:
            raise CodeSetError(f"{source}: versions {before.version} and {after.version} overlap")
    return CodeSet(
        name=str(doc["name"]),
        title=str(doc.get("title", doc["name"])),
        title_en=str(doc.get("title_en", doc["name"])),
        description=str(doc.get("description", "")),
        versions=tuple(ordered),
    )


class CodeSetRegistry:
    """All code sets by name. Lookup errors list the known names."""

    def __init__(self, codesets: Iterable[CodeSet]) -> None:
        self._by_name = {cs.name: cs for cs in codesets}

    @classmethod
    def from_directory(cls, directory: Path) -> CodeSetRegistry:
        sets = []
        for path in sorted(directory.glob("*.yaml")):
            with path.open(encoding="utf-8") as handle:
                sets.append(parse_codeset(yaml.safe_load(handle), str(path.name)))
        return cls(sets)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> CodeSet:
        try:
            return self._by_name[name]
        except KeyError:
            raise CodeSetError(f"unknown code set {name!r}; known: {', '.join(self.names())}") from None

    def check(self, name: str, value: str, on: dt.date | None = None) -> Verdict:
        return self.get(name).check(value, on)


@lru_cache(maxsize=1)
def default_registry() -> CodeSetRegistry:
    """The code sets shipped with jnx (read once per process)."""
    return CodeSetRegistry.from_directory(DATA_DIR)
