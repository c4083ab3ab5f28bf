"""Row scope: which rows a user may see, as SQL conditions the services add to their queries.

A department officer (``Access.OWN`` in :mod:`jnx.security.rights`) sees

* the source systems whose ``department_credit_code`` is their department — and, when the user has
  a region, whose ``region_code`` lies inside it (a county user sees the county's systems only);
* the runs, raw records and mapping errors of those systems;
* the standard records and disclosures whose deciding or issuing agency (执法主体 credit code, the
  first part of the business key ``authority_credit_code|document_number``) is their department.

A row outside the scope is not there: the service answers "not found", exactly as for a missing row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, select, true

from jnx.security.rights import region_prefix
from jnx.store.models import Disclosure, MappingErrorEntry, RawRecord, Run, SourceSystem, StandardRecord


@dataclass(frozen=True)
class RowScope:
    """Everything (``everything``), or the rows of one department and optionally one region."""

    everything: bool
    department: str | None = None
    region: str | None = None

    @classmethod
    def all(cls) -> RowScope:
        return cls(everything=True)

    @classmethod
    def own(cls, department: str | None, region: str | None = None) -> RowScope:
        return cls(everything=False, department=department, region=region)

    @property
    def region_like(self) -> str | None:
        return f"{region_prefix(self.region)}%" if self.region else None

    # --- conditions --------------------------------------------------------------------------------

    def systems(self) -> ColumnElement[bool]:
        """On ``source_systems``."""
        if self.everything:
            return true()
        if not self.department:
            return false()
        condition = SourceSystem.department_credit_code == self.department
        if self.region_like:
            condition = and_(condition, SourceSystem.region_code.like(self.region_like))
        return condition

    def system_ids(self) -> Select[Any]:
        return select(SourceSystem.id).where(self.systems())

    def _by_system(self, column: ColumnElement[str]) -> ColumnElement[bool]:
        if self.everything:
            return true()
        if not self.department:
            return false()
        return column.in_(self.system_ids())

    def runs(self) -> ColumnElement[bool]:
        return self._by_system(Run.system_id)  # type: ignore[arg-type]

    def raw_records(self) -> ColumnElement[bool]:
        return self._by_system(RawRecord.system_id)  # type: ignore[arg-type]

    def errors(self) -> ColumnElement[bool]:
        return self._by_system(MappingErrorEntry.system_id)  # type: ignore[arg-type]

    def _by_agency(self, business_key: ColumnElement[str]) -> ColumnElement[bool]:
        if self.everything:
            return true()
        if not self.department:
            return false()
        return business_key.startswith(f"{self.department}|", autoescape=True)

    def records(self) -> ColumnElement[bool]:
        return self._by_agency(StandardRecord.business_key)  # type: ignore[arg-type]

    def disclosures(self) -> ColumnElement[bool]:
        return self._by_agency(Disclosure.business_key)  # type: ignore[arg-type]

    # --- one row -----------------------------------------------------------------------------------

    def sees_system(self, department_credit_code: str, region_code: str) -> bool:
        if self.everything:
            return True
        if not self.department or department_credit_code != self.department:
            return False
        return not self.region or region_code.startswith(region_prefix(self.region))

    def sees_business_key(self, business_key: str) -> bool:
        return self.everything or (bool(self.department) and business_key.startswith(f"{self.department}|"))
