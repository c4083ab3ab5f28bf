"""The code set data model: an entry, a version of a set, a set — with the checks against them.

Split from :mod:`jnx.codesets.registry` (which reads the data files into these) so the deployment's
extension reader (:mod:`jnx.codesets.townships`) builds entries without importing the registry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jnx.codesets.errors import UnknownCodeError
from jnx.codesets.validators import Notice, Verdict
from jnx.errors import CodeSetError

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
