"""The regions of Jining (区划) across their numbering systems.

A Jining record may name its region by a GB/T 2260 code (370811), by a statistics code (370871
for 济宁高新区, which has no GB/T 2260 code) or by the local 政务服务 code (370890–370892 for the
functional zones). The ``region`` code set keys every entry by one standard code and lists the
other numberings as ``aliases`` and ``attrs``; :func:`resolve_region` turns any of them into the
entry, so callers never compare region codes themselves.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from jnx.codesets.registry import CodeEntry, CodeSetRegistry, default_registry

REGION = "region"


class RegionKind(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    COUNTY = "county"
    FUNCTIONAL_ZONE = "functional_zone"


def resolve_region(code: str, on: dt.date | None = None, *, registry: CodeSetRegistry | None = None) -> CodeEntry:
    """The region ``code`` denotes (GB/T 2260, statistics or 政务服务 numbering), in force on ``on``.

    Raises :class:`~jnx.codesets.errors.UnknownCodeError` for a code that is not a Jining region,
    or that was abolished before ``on`` (its message names the code that replaced it).
    """
    return (registry or default_registry()).get(REGION).resolve(code, on)


def region_kind(entry: CodeEntry) -> RegionKind:
    return RegionKind(entry.attrs["kind"])
