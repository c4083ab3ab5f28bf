"""A natural person's address in free text: masked in what goes out, and reported for a person to review
(``disclosures.review``, ``jnx disclosures reviews`` / ``reviewed``) — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select, text

from jnx.codesets import agency_level
from jnx.errors import InputError
from jnx.publicity.derive import DisclosureRules
from jnx.publicity.derive_reference import ReferenceDeriver
from jnx.publicity.free_text import ADDRESS_REVIEW, address_reviews, mask_payload_text
from jnx.store.models import AuditEntry, Delivery, DeliveryStatus, Disclosure, DisclosureStatus
from tests.exchange.conftest import case_system, derive, sample, store
from tests.publicity.test_derive import cli_env, jnx  # noqa: F401 - the command-line fixture and runner

FACTS = "当事人王某某（联系电话15008328858，住济宁市嘉祥县古槐路158号）于2022年3月经营超过保质期的食品。"


def test_the_fields_whose_address_was_masked_are_named_with_what_went_out() -> None:
    payload = {"CF_SY": FACTS, "CF_NR": "罚款人民币伍仟元整", "BZ": "住济宁市任城区建设路12号3单元"}
    fields = mask_payload_text(payload, {"party_name": "王某某"}, True)
    assert fields == [("CF_SY", True), ("BZ", True)]
    assert "古槐路158号" not in payload["CF_SY"] and "济宁市嘉祥县" in payload["CF_SY"]
    [sy, bz] = address_reviews(payload, fields)
    assert (sy["field"], sy["rule"]) == ("CF_SY", ADDRESS_REVIEW)
    assert payload["CF_SY"][:40] in sy["message"] and "古槐路" not in sy["message"]
    assert "15008328858" not in sy["message"]
    assert bz["field"] == "BZ"


def test_an_organisations_address_and_a_text_without_one_need_no_review() -> None:
    payload = {"CF_SY": "当事人住所济宁市任城区建设路12号", "CF_NR": "警告"}
    assert mask_payload_text(dict(payload), {"party_name": "某公司"}, False) == []
    assert mask_payload_text({"CF_SY": "经查，当事人经营超过保质期的食品。"}, {"party_name": "王某某"}, True) == []
    assert mask_payload_text({"CF_SY": "当事人经营住宿业，未办理住房登记。"}, {"party_name": "王某某"}, True) == []


def test_an_address_jnx_cannot_mask_by_its_shape_is_still_reported() -> None:
    payload = {"CF_SY": "当事人王某某，住嘉祥县马村东头第三户，经营超过保质期的食品。"}
    fields = mask_payload_text(payload, {"party_name": "王某某"}, True)
    assert fields == [("CF_SY", False)]
    [finding] = address_reviews(payload, fields)
    assert "could not mask" in finding["message"] and "马村东头" in finding["message"]  # what went out, quoted


def _natural(**changes: Any) -> dict[str, Any]:
    return sample("penalty.natural_person", **changes)


def _disclosure(sessions: Any) -> Disclosure:
    with sessions() as session:
        return session.scalars(select(Disclosure)).one()


def test_a_penalty_with_an_address_goes_out_masked_and_waits_for_review_until_marked(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", _natural(illegal_facts=FACTS)))
    disclosure = _disclosure(sessions)
    assert disclosure.status is DisclosureStatus.PENDING and disclosure.problems is None  # not blocked: it is published
    assert [(n["field"], n["rule"], n["revision"]) for n in disclosure.review or []] == [("CF_SY", ADDRESS_REVIEW, 1)]
    # the platform acknowledges: the outbox clears problems, never the review
    with sessions.begin() as session:
        for delivery in session.scalars(select(Delivery)):
            delivery.status = DeliveryStatus.ACKNOWLEDGED
        session.get(Disclosure, disclosure.id).status = DisclosureStatus.PUBLISHED  # type: ignore[union-attr]
    derive(sessions, rules, ("penalty", _natural(illegal_facts=FACTS)))  # the same again: unchanged, still to review
    assert _disclosure(sessions).review == disclosure.review
    # a correction whose text names no address: nothing left to review
    derive(sessions, rules, ("penalty", _natural(illegal_facts="经查，当事人经营超过保质期的食品。")))
    corrected = _disclosure(sessions)
    assert corrected.current_revision == 2 and corrected.review is None
    with sessions() as session:
        assert session.scalar(text("SELECT count(*) FROM disclosures WHERE review IS NULL")) == 1


def test_the_bulk_and_the_reference_derivation_keep_the_same_review(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", _natural(illegal_facts=FACTS)))
    bulk = _disclosure(sessions).review
    with sessions.begin() as session:
        session.query(Delivery).delete()
        from jnx.store.models import DisclosureRevision

        session.query(DisclosureRevision).delete()
        session.query(Disclosure).delete()
    deriver = ReferenceDeriver(rules)
    with sessions.begin() as session:
        stored = [store(session, "penalty", _natural(illegal_facts=FACTS))]
        deriver.on_stored(session, case_system(), stored)
    assert _disclosure(sessions).review == bulk and bulk


@pytest.mark.usefixtures("cli_env")
def test_reviews_are_listed_and_marked_reviewed_with_an_audited_note(database_url: str, rules: DisclosureRules) -> None:
    from jnx.store.db import create_engine_for, session_factory

    engine = create_engine_for(database_url)
    sessions = session_factory(engine)
    derive(sessions, rules, ("penalty", _natural(illegal_facts=FACTS)))
    listed = jnx("disclosures", "reviews", "--json")
    assert listed.exit_code == 0, listed.output
    [item] = json.loads(listed.stdout)["disclosures"]
    assert item["review"][0]["rule"] == ADDRESS_REVIEW and "15008328858" not in listed.stdout
    assert "to review (revision 1)" in jnx("disclosures", "show", str(item["id"])).stdout
    record = _natural(illegal_facts=FACTS)
    level = agency_level(record.get("region"), record["authority_credit_code"], dt.date.fromisoformat(record["decision_date"]))
    assert level is not None
    assert json.loads(jnx("disclosures", "show", str(item["id"]), "--json").stdout)["agency_level"] == level.value
    refused = jnx("disclosures", "reviewed", str(item["id"]), "--note", " ")
    assert isinstance(refused.exception, InputError) and refused.exception.exit_code == 2  # jnx.cli.main exits 2
    done = jnx("disclosures", "reviewed", str(item["id"]), "--note", "地址已完整遮蔽", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"id": item["id"], "cleared": 1}
    assert json.loads(jnx("disclosures", "reviews", "--json").stdout)["count"] == 0
    again = jnx("disclosures", "reviewed", str(item["id"]), "--note", "再看一次")
    assert isinstance(again.exception, InputError) and "nothing to review" in str(again.exception)
    with sessions() as session:
        assert session.scalar(text("SELECT count(*) FROM disclosures WHERE review IS NOT NULL")) == 0  # SQL NULL, not JSON null
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "disclosure.reviewed")).one()
        assert entry.details["note"] == "地址已完整遮蔽" and entry.details["cleared"][0]["field"] == "CF_SY"
    engine.dispose()
