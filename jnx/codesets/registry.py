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
import itertools
import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from jnx.codesets.model import CodeEntry as CodeEntry  # re-exported: callers import them from here
from jnx.codesets.model import CodeSet as CodeSet
from jnx.codesets.model import CodeSetVersion as CodeSetVersion
from jnx.codesets.townships import extend
from jnx.codesets.validators import Verdict
from jnx.errors import CodeSetError

DATA_DIR = Path(__file__).with_name("data")
FORMAT = 1
MATCH_KINDS = ("exact", "prefix")
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    shipped = CodeSetRegistry.from_directory(DATA_DIR)
    folder = extension_folder()
    if not folder.is_dir():
        return shipped
    return CodeSetRegistry(extend(shipped.get(name), folder) for name in shipped.names())
