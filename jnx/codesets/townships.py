"""乡镇(街道) codes a deployment loads into the ``region`` code set.

The shipped ``region`` set holds 济宁市 and its county-level units (REFERENCE.md §6); no list of
Jining's 乡镇 and 街道 is shipped, because none was found in a citable source. A deployment loads
the list it holds (国家统计局 统计用区划代码 for 济宁市, or the city's 民政 list) as an *extension file*
``<JNX_HOME>/codesets/region.<name>.yaml``::

    format: 1
    extends: region
    version: gbt2260-jining          # the shipped version the entries join
    list: jining-townships-2023      # the list's own name, kept on every entry (attrs.list)
    source: 国家统计局 2023年度统计用区划代码（济宁市，乡级）
    entries:
      - {code: "370811001", label: 古槐街道}          # 9 digits: the county's 6 and the 乡级 3
      - {code: "370811100000", label: 某某镇}           # or the 12-digit 统计用区划代码 ending in 000
      - {code: "370890001", label: 某某街道, valid_from: 2019-01-01}

Every entry is checked before anything is merged (:func:`parse_township_list`): 9 digits, or 12
ending in ``000`` (then the 9-digit code is the entry's code and the 12-digit one its alias); the
first six digits are a county-level entry of the extended version (a functional zone's 统计 code
370871 counts for 370890); a label; no code twice, none that is already a code of the set. Each
entry gets ``attrs`` ``level: township``, ``kind`` (``street`` for 乡级 digits 001–099, ``town``
100–199, ``township`` 200–399, ``other`` above — the ranges of the 统计用区划代码 rules, *unconfirmed*
here: no source in the domain folder), ``parent`` (the county-level code), ``nbs`` (the 12-digit
code) and ``list``.

Pure apart from reading the file; no clock, no database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from jnx.codesets.model import CodeEntry, CodeSet, CodeSetVersion
from jnx.errors import CodeSetError

FORMAT = 1
EXTENDABLE = ("region",)
MAX_BYTES = 4 * 1024 * 1024
_NINE = re.compile(r"[1-9][0-9]{8}")
_TWELVE = re.compile(r"[1-9][0-9]{8}000")
_KEYS = {"format", "extends", "version", "list", "source", "entries"}
_ENTRY_KEYS = {"code", "label", "label_en", "valid_from", "valid_to", "replaced_by", "aliases"}
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def township_kind(code: str) -> str:
    """``street`` (街道, 乡级 digits 001–099), ``town`` (镇, 100–199), ``township`` (乡, 200–399) or ``other``."""
    digits = int(code[6:9])
    if digits < 100:
        return "street"
    if digits < 200:
        return "town"
    if digits < 400:
        return "township"
    return "other"


def _day(value: Any, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CodeSetError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _parent(version: CodeSetVersion, code: str, where: str) -> CodeEntry:
    county = version.lookup(code[:6])
    if county is None or county.attrs.get("level") != "county":
        raise CodeSetError(
            f"{where}: {code!r} does not begin with the code of a county-level region of version {version.version} "
            f"({code[:6]!r} is {'not a region' if county is None else county.label + ', level ' + str(county.attrs.get('level'))})",
            hint="a 乡级 code is the county's 6 digits and 3 more; check the list's source")
    return county


def parse_township_list(doc: Any, origin: str, codeset: CodeSet) -> tuple[str, list[CodeEntry]]:
    """The version name and the checked entries of one extension file (parsed YAML)."""
    if not isinstance(doc, Mapping):
        raise CodeSetError(f"{origin}: an extension file is a mapping with format, extends, version, list, source, entries")
    unknown = set(doc) - _KEYS
    if unknown:
        raise CodeSetError(f"{origin}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; known: {', '.join(sorted(_KEYS))}")
    if doc.get("format") != FORMAT:
        raise CodeSetError(f"{origin}: format must be {FORMAT}, got {doc.get('format')!r}")
    if doc.get("extends") != codeset.name:
        raise CodeSetError(f"{origin}: extends must be {codeset.name!r} (the file name's first part); got {doc.get('extends')!r}")
    for key in ("list", "source"):
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise CodeSetError(f"{origin}: {key} is required: "
                               + ("the list's name, kept on every entry" if key == "list" else "where the codes come from"))
    try:
        version = codeset.version(str(doc.get("version")))
    except CodeSetError as exc:
        raise CodeSetError(f"{origin}: version: {exc}") from None
    raw_entries = doc.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise CodeSetError(f"{origin}: entries must be a non-empty list of {{code, label}}")
    entries: dict[str, CodeEntry] = {}
    for i, raw in enumerate(raw_entries):
        where = f"{origin}: entries[{i}]"
        if not isinstance(raw, Mapping) or "code" not in raw or "label" not in raw or set(raw) - _ENTRY_KEYS:
            raise CodeSetError(f"{where}: an entry needs code and label (known keys: {', '.join(sorted(_ENTRY_KEYS))})")
        code = str(raw["code"]).strip()
        if _TWELVE.fullmatch(code):
            nbs, code = code, code[:9]
        elif _NINE.fullmatch(code):
            nbs = code + "000"
        else:
            raise CodeSetError(f"{where}: code {code!r} is not a 乡级 code (9 digits, or 12 digits ending in 000)")
        if code in entries or code in version.entries or version.lookup(code) is not None:
            raise CodeSetError(f"{where}: code {code!r} appears twice (in this list or in version {version.version})")
        label = str(raw["label"]).strip()
        if not label:
            raise CodeSetError(f"{where}: label (the 乡镇/街道's name) is empty")
        county = _parent(version, code, where)
        valid_from, valid_to = _day(raw.get("valid_from"), where), _day(raw.get("valid_to"), where)
        if valid_from and valid_to and valid_to < valid_from:
            raise CodeSetError(f"{where}: valid_to {valid_to} is before valid_from {valid_from}")
        aliases = [str(a) for a in raw.get("aliases") or []]
        entries[code] = CodeEntry(
            code=code, label=label, label_en=raw.get("label_en"), valid_from=valid_from, valid_to=valid_to,
            replaced_by=None if raw.get("replaced_by") is None else str(raw["replaced_by"]),
            attrs={"level": "township", "kind": township_kind(code), "parent": county.code, "nbs": nbs,
                   "list": str(doc["list"]).strip()},
            aliases=tuple(dict.fromkeys([nbs, *aliases])))
    for entry in entries.values():
        if entry.replaced_by and entry.replaced_by not in entries and version.lookup(entry.replaced_by) is None:
            raise CodeSetError(f"{origin}: {entry.code!r} is replaced_by {entry.replaced_by!r}, which is no code of the set")
    return version.version, list(entries.values())


def extend(codeset: CodeSet, folder: Path) -> CodeSet:
    """``codeset`` with the entries of every ``<folder>/<name>.*.yaml`` extension file merged into their versions."""
    paths = sorted(folder.glob(f"{codeset.name}.*.yaml")) if folder.is_dir() else []
    if not paths:
        return codeset
    if codeset.name not in EXTENDABLE:
        raise CodeSetError(f"{paths[0]}: code set {codeset.name!r} takes no extension files; only {', '.join(EXTENDABLE)}")
    added: dict[str, list[CodeEntry]] = {}
    for path in paths:
        try:
            if path.stat().st_size > MAX_BYTES:
                raise CodeSetError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise CodeSetError(f"{path}: cannot read the extension file: {exc}") from exc
        version, entries = parse_township_list(doc, str(path), codeset)
        seen = {e.code for e in added.get(version, [])}
        twice = [e.code for e in entries if e.code in seen]
        if twice:
            raise CodeSetError(f"{path}: code {twice[0]!r} is also in another extension file of {codeset.name}")
        added.setdefault(version, []).extend(entries)
    versions = tuple(
        replace(v, entries={**v.entries, **{e.code: e for e in added[v.version]}}) if v.version in added else v
        for v in codeset.versions)
    return replace(codeset, versions=versions)


__all__ = ["EXTENDABLE", "extend", "parse_township_list", "township_kind"]
