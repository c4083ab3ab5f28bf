"""双公示 by the law: 当场 (简易程序) penalties follow the policy, thresholds differ by party type, a 罚款 in
消防 is displayed at least a year, a revoked record is never planned for publication."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jnx.exchange.ingest import StoredRecord
from jnx.publicity.derive import DisclosureDeriver, DisclosureRules, revocation
from jnx.publicity.rules import (
    DisclosureKind,
    Procedure,
    PublicationPolicy,
    Sector,
    SimpleProcedurePublication,
    SubjectCategory,
    assess_publication,
    display_period,
)
from jnx.store.models import DisclosureKind as StoredKind
from tests.exchange.conftest import sample

PERSON, ORG = SubjectCategory.NATURAL_PERSON, SubjectCategory.ORGANIZATION


@pytest.mark.parametrize(("policy", "published"), [
    (PublicationPolicy(), True),
    (PublicationPolicy(simple_procedure=SimpleProcedurePublication.WITHHELD), False),
])
def test_a_penalty_decided_on_the_spot_follows_the_policy(policy: PublicationPolicy, published: bool) -> None:
    verdict = assess_publication(DisclosureKind.PENALTY, ["罚款"], ORG, fine_wan=Decimal("0.01"), policy=policy,
                                 procedure=Procedure.SIMPLE)
    assert verdict.publish is published
    assert published or "简易程序" in verdict.reason
    ordinary = assess_publication(DisclosureKind.PENALTY, ["罚款"], ORG, fine_wan=Decimal("0.01"), policy=policy,
                                  procedure=Procedure.ORDINARY)
    assert ordinary.publish


def test_low_fine_thresholds_differ_by_party_type() -> None:
    policy = PublicationPolicy(low_fine_thresholds_wan={PERSON: Decimal("0.02"), ORG: Decimal("0.3")})
    fine = Decimal("0.1")  # 1,000 元: below 3,000 元 for an organisation, above 200 元 for a citizen
    assert not assess_publication(DisclosureKind.PENALTY, ["罚款"], ORG, fine_wan=fine, policy=policy).publish
    assert assess_publication(DisclosureKind.PENALTY, ["罚款"], PERSON, fine_wan=fine, policy=policy).publish


def test_a_threshold_with_more_than_six_places_is_refused() -> None:
    with pytest.raises(ValueError, match="6 places"):
        PublicationPolicy(low_fine_thresholds_wan={PERSON: Decimal("0.0000001")})


def test_a_fine_in_fire_safety_is_displayed_at_least_a_year() -> None:
    period = display_period(DisclosureKind.PENALTY, ["罚款"], dt.date(2025, 3, 10), sector=Sector.FIRE)
    assert period.shortest_end == dt.date(2026, 3, 10)
    assert period.longest_end >= period.shortest_end


def test_derivation_passes_the_records_sector_to_the_display_period(rules: DisclosureRules) -> None:
    deriver = DisclosureDeriver(rules)
    data = sample("penalty.valid", sector="消防", penalty_types=["罚款"], decision_date="2025-03-10")
    seen: list[Sector | None] = []
    import jnx.publicity.derive as derive

    real = derive.display_period

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(kwargs.get("sector"))  # type: ignore[arg-type]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    derive.display_period = spy  # type: ignore[assignment]
    try:
        tables = {kind: rules.tables.compiled(*ref) for kind, ref in derive.DEFAULT_TABLES.items()}
        plan = deriver.plan(StoredRecord(1, "penalty", "k", 1, data), tables, derive.context_of(None), rules.today())
    finally:
        derive.display_period = real
    assert seen == [Sector.FIRE]
    assert plan.display_until is not None and plan.kind is StoredKind.PENALTY


def test_a_revoked_record_is_never_planned_for_publication(rules: DisclosureRules) -> None:
    data = sample("penalty.valid", revoked=True, change_type="撤销", change_date="2025-06-20",
                  change_document_number="济市监撤〔2025〕3号")
    assert revocation(data) == "决定被撤销（2025-06-20，济市监撤〔2025〕3号）：《行政处罚法》第四十八条"
    assert revocation(sample("penalty.valid", change_type="确认无效")) is not None
    assert revocation(sample("penalty.valid", change_type="变更")) is None
    assert revocation(sample("penalty.valid", revoked=False)) is None
    deriver = DisclosureDeriver(rules)
    from jnx.publicity.derive import DEFAULT_TABLES, context_of

    tables = {kind: rules.tables.compiled(*ref) for kind, ref in DEFAULT_TABLES.items()}
    plan = deriver.plan(StoredRecord(1, "penalty", "k", 1, data), tables, context_of(None), rules.today())
    assert plan.published is not None and plan.payload == {} and plan.changed_on == dt.date(2025, 6, 20)
