"""The month's standard records in one pass: completeness, compliance and withdrawals (licences and
penalties with their disclosures), the enforcement totals (penalties, fines and confiscations,
inspections and problems found, coercive measures) and the 执法主体's names — one aggregate by
(执法主体, record type) where there were three.

The month's records lie scattered over the table (a record is stored when it is pulled, not when it
was decided), so each pass reads about one heap page per record; at 10^6 stored records the three
passes re-read the same ~27,000 pages three times (docs/performance.md). The JSON fields are read
once per record in inner queries (``OFFSET 0`` keeps PostgreSQL from folding them into the outer
one, which would parse the document again for every 处罚类别); on PostgreSQL the ``json`` document
is parsed once, as ``jsonb``, and its seven fields taken from that (seven ``->>`` on ``json`` parse
the text seven times: 1.25 s of the pass at 10^6 records, against 0.18 s). The drill-down lists keep their own
queries (:func:`jnx.indicators.publicity_sql.missing_list`, :func:`jnx.indicators.exchange_sql.penalties`
…) with the same WHERE; tests/indicators checks every count against its list.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, cast, func, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from jnx.indicators.definitions import PENALTY_TYPES, PROBLEM_RESULTS
from jnx.indicators.publicity_sql import RecordFields, excluded_condition
from jnx.indicators.scope import Scope, count_if, department_of, has_token, json_text, month_where, wan_sum
from jnx.publicity.rules import DEFAULT_PUBLICATION, PublicationPolicy
from jnx.store.models import Disclosure, DisclosureStatus, StandardRecord

D, S = Disclosure, StandardRecord


def month_records(session: Session, scope: Scope, policy: PublicationPolicy = DEFAULT_PUBLICATION) -> list[Any]:
    """(department, record_type, name, records, disclosed, excluded, blocked, rejected, withdrawn,
    fines, confiscations, problems, t0 … tN) of the month's records; the disclosure columns count
    for licences and penalties only, the money for penalties only (:func:`jnx.indicators.compute`)."""
    document: Any = cast(S.data, JSONB) if scope.dialect == "postgresql" else S.data
    docs = (select(department_of(S.business_key).label("department"), S.record_type, document.label("doc"),
                   D.id.label("disclosure_id"), D.status.label("status"))
            .select_from(S).outerjoin(D, D.standard_record_id == S.id).where(*month_where(scope))
            .offset(0).subquery("month_docs"))
    doc = docs.c.doc
    inner = (select(docs.c.department, docs.c.record_type, docs.c.disclosure_id, docs.c.status,
                    func.coalesce(json_text(doc, "authority_name"), json_text(doc, "inspecting_department")).label("name"),
                    json_text(doc, "party_type").label("party_type"), json_text(doc, "penalty_types").label("types"),
                    json_text(doc, "inspection_results").label("results"), json_text(doc, "fine_amount").label("fine"),
                    json_text(doc, "confiscation_amount").label("confiscation"))
             .offset(0).subquery("month_records"))
    c = inner.c
    fields = RecordFields(c.record_type, c.party_type, c.types, c.fine)
    per_type = [count_if(has_token(c.types, t)).label(f"t{i}") for i, t in enumerate(PENALTY_TYPES)]
    problem = or_(*(has_token(c.results, code) for code in PROBLEM_RESULTS))
    query = (select(c.department, c.record_type, func.max(c.name).label("name"), count_if(true()).label("records"),
                    count_if(c.disclosure_id.is_not(None)).label("disclosed"),
                    count_if(and_(c.disclosure_id.is_(None), excluded_condition(policy, fields))).label("excluded"),
                    count_if(c.status == DisclosureStatus.BLOCKED).label("blocked"),
                    count_if(c.status == DisclosureStatus.REJECTED).label("rejected"),
                    count_if(c.status == DisclosureStatus.WITHDRAWN).label("withdrawn"),
                    wan_sum(c.fine, scope.dialect).label("fines"), wan_sum(c.confiscation, scope.dialect).label("confiscations"),
                    count_if(problem).label("problems"), *per_type)
             .group_by(c.department, c.record_type))
    return list(session.execute(query))
