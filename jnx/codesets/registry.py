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
          - {code: "370802", label: 市中区, valid_to: 2013-10-07, replaced_by: "370811"}
          - {code: 其他-, label: 其他（注明）, match: prefix}     # 其他-军官证 is valid, 其他- alone is not
          - {code: "370890", label: 济宁高新区, aliases: ["370871"]}  # another numbering resolves here

Entry keys: ``code``, ``label`` (required), ``label_en``, ``valid_from``/``valid_to`` (inclusive),
``replaced_by``, ``match`` (``exact``, the default, or ``prefix``: the code followed by free text),
``aliases`` (codes of other numbering systems that denote this entry; accepted with a warning) and
``attrs`` (free attributes). A data file's ``name`` must be its file name without ``.yaml``.

A deployment adds entries a shipped version lacks (Jining's 乡镇 and 街道 in ``region``) with
extension files in ``<JNX_HOME>/codesets/`` (:mod:`jnx.codesets.townships`), merged by
:func:`default_registry`.

Pure: no database, no clock (callers pass the date), no logging.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from jnx.codesets.errors import UnknownCodeError
from jnx.codesets.validators import Notice, Verdict
from jnx.errors import CodeSetError

DATA_DIR = Path(__file__).with_name("data")
FORMAT = 1
MATCH_KINDS = ("exact", "prefix")
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_LIST_CODES_UP_TO = 20


@dataclass(frozen=True, slots=True)
class CodeEntry:
    code: str
    label: str
    label_en: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    replaced_by: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)
    match: str = "exact"
    aliases: tuple[str, ...] = ()

    def in_force(self, on: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_to is None or on <= self.valid_to)

    def matches_prefix(self, value: str) -> bool:
        """For a ``prefix`` entry: ``value`` is the code followed by some free text."""
        return self.match == "prefix" and value.startswith(self.code) and bool(value[len(self.code) :].strip())


@dataclass(frozen=True, slots=True)
class CodeSetVersion:
    version: str
    valid_from: dt.date
    valid_to: dt.date | None
    entries: Mapping[str, CodeEntry]
    source: str | None = None
    _aliases: Mapping[str, CodeEntry] = field(init=False, repr=False, compare=False)
    _prefixed: tuple[CodeEntry, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        aliases = {alias: entry for entry in self.entries.values() for alias in entry.aliases if alias not in self.entries}
        object.__setattr__(self, "_aliases", aliases)
        object.__setattr__(self, "_prefixed", tuple(e for e in self.entries.values() if e.match == "prefix"))

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def __contains__(self, code: object) -> bool:
        return code in self.entries

    def lookup(self, value: str) -> CodeEntry | None:
        """The entry ``value`` denotes: its exact code first, then an alias, then a ``prefix`` entry."""
        entry = self.entries.get(value)
        if entry is not None and entry.match == "prefix":
            entry = None  # the bare prefix is not a value; the free text after it is required
        if entry is None:
            entry = self._aliases.get(value)
        if entry is None:
            entry = next((e for e in self._prefixed if e.matches_prefix(value)), None)
        return entry

    def bare_prefix(self, value: str) -> CodeEntry | None:
        """The ``prefix`` entry ``value`` starts but does not complete (``其他-`` with no text after it)."""
        return next((e for e in self._prefixed if value.startswith(e.code) and not e.matches_prefix(value)), None)

    def fingerprint(self) -> str:
        """SHA-256 over the version's name, start and entries (canonical JSON); a published version keeps it.

        ``valid_to`` is left out: closing the version when a successor is published is the one change
        allowed, and the loader requires versions to follow each other without a gap.
        """
        content = {
            "version": self.version,
            "valid_from": self.valid_from.isoformat(),
            "entries": [
                {**{k: getattr(e, k) for k in ("code", "label", "label_en", "replaced_by", "match")},
                 "valid_from": e.valid_from.isoformat() if e.valid_from else None,
                 "valid_to": e.valid_to.isoformat() if e.valid_to else None,
                 "aliases": list(e.aliases), "attrs": dict(e.attrs)}
                for e in self.entries.values()
            ],
        }
        canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def codes_hint(self) -> str:
        codes = [e.code + ("…" if e.match == "prefix" else "") for e in self.entries.values()]
        if len(codes) > _LIST_CODES_UP_TO:
            return f"{len(codes)} codes; see `jnx codesets show`"
        return "codes: " + ", ".join(codes)


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
        raise CodeSetError(
            f"no version of code set {self.name!r} is in force on {on.isoformat()}; versions: {spans}",
            hint=f"check the record's date; a list for that time is added as a new version of {self.name}.yaml",
        )

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
        """Is ``value`` a code of this set in force on ``on`` (default: the latest version)?

        An alias (a code of another numbering system) passes with a ``codeset.<name>.alias`` warning
        naming the standard code.
        """
        version = self.version_on(on) if on is not None else self.latest
        entry = version.lookup(value)
        if entry is None:
            return self._why_not(value, version, on)
        if on is not None and not entry.in_force(on):
            hint = f"; use {entry.replaced_by!r}" if entry.replaced_by else ""
            return Verdict(
                False,
                f"codeset.{self.name}.not_in_force",
                f"{value!r} ({entry.label}) is valid {entry.valid_from or '…'}–{entry.valid_to or '…'}, "
                f"not on {on.isoformat()}{hint}",
            )
        notices = []
        if value in entry.aliases:
            notices.append(Notice(
                f"codeset.{self.name}.alias",
                f"{value!r} is another numbering of {entry.code!r} ({entry.label}); the standard code is {entry.code!r}",
            ))
        if on is None and (entry.valid_from or entry.valid_to):
            replaced = f"; replaced by {entry.replaced_by!r}" if entry.replaced_by else ""
            notices.append(Notice(
                f"codeset.{self.name}.dated_entry",
                f"{entry.code!r} ({entry.label}) is valid only {entry.valid_from or '…'}–{entry.valid_to or '…'}{replaced}; "
                "give the record's date to check it",
            ))
        return Verdict(True, warnings=tuple(notices))

    def _why_not(self, value: str, version: CodeSetVersion, on: dt.date | None) -> Verdict:
        bare = version.bare_prefix(value)
        if bare is not None:
            return Verdict(
                False,
                f"codeset.{self.name}.free_text_missing",
                f"{value!r} needs a description after {bare.code!r} ({bare.label})",
            )
        for other in self.versions:
            if other is not version and other.lookup(value) is not None:
                return Verdict(
                    False,
                    f"codeset.{self.name}.not_in_version",
                    f"{value!r} is a {self.title} code of version {other.version} "
                    f"({other.valid_from}–{other.valid_to or '…'}), not of version {version.version} in force"
                    + (f" on {on.isoformat()}" if on else ""),
                )
        return Verdict(
            False,
            f"codeset.{self.name}.unknown",
            f"{value!r} is not a {self.title} ({self.name}) code of version {version.version}; {version.codes_hint()}",
        )

    def resolve(self, value: str, on: dt.date | None = None) -> CodeEntry:
        """The entry ``value`` denotes (by code, alias or prefix) and in force on ``on``.

        Raises :class:`UnknownCodeError` carrying the rule and reason of the failed check.
        """
        verdict = self.check(value, on)
        if not verdict:
            raise UnknownCodeError(self.name, value, verdict.rule or "", verdict.reason or "")
        version = self.version_on(on) if on is not None else self.latest
        entry = version.lookup(value)
        assert entry is not None  # the check passed
        return entry


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise CodeSetError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from exc


def _entry(raw: Mapping[str, Any], where: str) -> CodeEntry:
    known = {"code", "label", "label_en", "valid_from", "valid_to", "replaced_by", "attrs", "match", "aliases"}
    if not isinstance(raw, Mapping):
        raise CodeSetError(f"{where}: an entry is a mapping with code and label; got {raw!r}")
    unknown = set(raw) - known
    if unknown or "code" not in raw or "label" not in raw:
        raise CodeSetError(f"{where}: an entry needs code and label (known keys: {sorted(known)}); got {sorted(raw)}")
    match = raw.get("match", "exact")
    if match not in MATCH_KINDS:
        raise CodeSetError(f"{where}: match must be one of {', '.join(MATCH_KINDS)}; got {match!r}")
    aliases = raw.get("aliases") or []
    if not isinstance(aliases, list):
        raise CodeSetError(f"{where}: aliases must be a list of codes; got {aliases!r}")
    return CodeEntry(
        code=str(raw["code"]),
        label=str(raw["label"]),
        label_en=raw.get("label_en"),
        valid_from=_date(raw.get("valid_from"), where),
        valid_to=_date(raw.get("valid_to"), where),
        replaced_by=None if raw.get("replaced_by") is None else str(raw["replaced_by"]),
        attrs=dict(raw.get("attrs") or {}),
        match=match,
        aliases=tuple(str(a) for a in aliases),
    )


def parse_codeset(doc: Mapping[str, Any], source: str) -> CodeSet:
    """Build and check a code set from a parsed data file; CodeSetError names the file and the problem."""
    if not isinstance(doc, Mapping):
        raise CodeSetError(f"{source}: a code set file is a YAML mapping with format, name and versions")
    if doc.get("format") != FORMAT:
        raise CodeSetError(f"{source}: format must be {FORMAT}, got {doc.get('format')!r}")
    versions = []
    for i, raw in enumerate(doc.get("versions") or []):
        where = f"{source}: versions[{i}]"
        entries: dict[str, CodeEntry] = {}
        aliases: set[str] = set()
        for j, raw_entry in enumerate(raw.get("entries") or []):
            entry = _entry(raw_entry, f"{where}.entries[{j}]")
            if entry.code in entries:
                raise CodeSetError(f"{where}: code {entry.code!r} appears twice")
            entries[entry.code] = entry
            if aliases & set(entry.aliases):
                raise CodeSetError(f"{where}: alias {sorted(aliases & set(entry.aliases))[0]!r} names two entries")
            aliases |= set(entry.aliases)
        if not entries:
            raise CodeSetError(f"{where}: a version needs at least one entry")
        if "version" not in raw:
            raise CodeSetError(f"{where}: version (its name, e.g. \"2021\") is required")
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
    if "name" not in doc:
        raise CodeSetError(f"{source}: name is required")
    ordered = sorted(versions, key=lambda v: v.valid_from)
    for before, after in itertools.pairwise(ordered):
        if before.valid_to is None or before.valid_to >= after.valid_from:
            raise CodeSetError(f"{source}: versions {before.version} and {after.version} overlap")
        if before.valid_to + dt.timedelta(days=1) != after.valid_from:
            raise CodeSetError(
                f"{source}: a gap between version {before.version} (to {before.valid_to}) and "
                f"{after.version} (from {after.valid_from}); a version ends the day before the next begins"
            )
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
        self._by_name: dict[str, CodeSet] = {}
        for codeset in codesets:
            if codeset.name in self._by_name:
                raise CodeSetError(f"code set {codeset.name!r} is defined twice")
            self._by_name[codeset.name] = codeset

    @classmethod
    def from_directory(cls, directory: Path) -> CodeSetRegistry:
        """Read every ``*.yaml`` code set file of ``directory``; the first bad file stops with its name."""
        sets = []
        for path in sorted(directory.glob("*.yaml")):
            try:
                with path.open(encoding="utf-8") as handle:
                    doc = yaml.load(handle, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader, C when built
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                raise CodeSetError(f"{path.name}: cannot read the code set file: {exc}") from exc
            codeset = parse_codeset(doc, path.name)
            if codeset.name != path.stem:
                raise CodeSetError(f"{path.name}: name {codeset.name!r} must match the file name {path.stem!r}")
            sets.append(codeset)
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


def extension_folder() -> Path:
    """``<JNX_HOME>/codesets``: where a deployment keeps its extension files (the 乡镇(街道) list of the
    ``region`` set, :mod:`jnx.codesets.townships`). ``JNX_HOME`` is the home of jnx's settings (default ``.jnx``)."""
    return Path(os.environ.get("JNX_HOME") or ".jnx") / "codesets"


@lru_cache(maxsize=1)
def default_registry() -> CodeSetRegistry:
    """The code sets shipped with jnx, with the deployment's extension files (:func:`extension_folder`)
    merged in; read once per process."""
    from jnx.codesets.townships import extend  # the extension reader builds on this module

    shipped = CodeSetRegistry.from_directory(DATA_DIR)
    folder = extension_folder()
    if not folder.is_dir():
        return shipped
    return CodeSetRegistry(extend(shipped.get(name), folder) for name in shipped.names())
