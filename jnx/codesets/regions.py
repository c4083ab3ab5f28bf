"""The regions of Jining (区划) across their numbering systems.

A Jining record may name its region by a GB/T 2260 code (370811), by a statistics code (370871
for 济宁高新区, which has no GB/T 2260 code) or by the local 政务服务 code (370890–370892 for the
functional zones). The ``region`` code set keys every entry by one standard code and lists the
other numberings as ``aliases`` and ``attrs``; :func:`resolve_region` turns any of them into the
entry, so callers never compare region codes themselves.

Every entry has a ``level``: ``prefecture`` (济宁市), ``county`` (the districts, counties, county-level
cities and the functional zones) or ``township`` (乡镇 and 街道, loaded by a deployment:
:mod:`jnx.codesets.townships`). :func:`agency_level` gives an enforcement agency's level — 市级,
县级 or 乡级, the three levels of 三级全覆盖 — from the region code it acts for.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from jnx.codesets.errors import UnknownCodeError
from jnx.codesets.registry import CodeEntry, CodeSetRegistry, default_registry

REGION = "region"


class RegionKind(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    COUNTY = "county"
    FUNCTIONAL_ZONE = "functional_zone"
    STREET = "street"  # 街道
    TOWN = "town"  # 镇
    TOWNSHIP = "township"  # 乡
    OTHER = "other"  # another 乡级 unit (a zone's 管委会 …)


class AgencyLevel(StrEnum):
    """The level of an enforcement agency (执法主体层级), by the region it acts for."""

    CITY = "市级"
    COUNTY = "县级"
    TOWNSHIP = "乡级"


LEVEL_OF_REGION = {"prefecture": AgencyLevel.CITY, "county": AgencyLevel.COUNTY, "township": AgencyLevel.TOWNSHIP}


def resolve_region(code: str, on: dt.date | None = None, *, registry: CodeSetRegistry | None = None) -> CodeEntry:
    """The region ``code`` denotes (GB/T 2260, statistics or 政务服务 numbering), in force on ``on``.

    Raises :class:`~jnx.codesets.errors.UnknownCodeError` for a code that is not a Jining region,
    or that was abolished before ``on`` (its message names the code that replaced it).
    """
    return (registry or default_registry()).get(REGION).resolve(code, on)


def region_kind(entry: CodeEntry) -> RegionKind:
    return RegionKind(entry.attrs["kind"])


def region_level(entry: CodeEntry) -> AgencyLevel:
    """市级, 县级 or 乡级: the level of the region ``entry`` (its ``level`` attribute)."""
    return LEVEL_OF_REGION[str(entry.attrs["level"])]


def agency_level(region: str | None, credit_code: str | None = None, on: dt.date | None = None, *,
                 registry: CodeSetRegistry | None = None) -> AgencyLevel | None:
    """An agency's level from the region code it acts for (a record's 行政区划), else from the region
    digits of its credit code (positions 3–8, the registering authority's county-level code); None when
    neither names a Jining region. A 乡镇 agency is 乡级 only by a loaded 乡级 region code: its credit
    code carries its county's."""
    for code in (region, credit_code[2:8] if credit_code and len(credit_code) == 18 else None):
        if not code:
            continue
        try:
            return region_level(resolve_region(code, on, registry=registry))
        except UnknownCodeError:
            continue
    return None
