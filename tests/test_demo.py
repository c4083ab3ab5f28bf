"""`jnx demo`, the main job, end to end as a user runs it: one command, one JSON summary."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

KEYS = ("pulled", "standard_records", "mapping_errors", "error_groups", "duplicates_merged", "seconds",
        "disclosures", "disclosures_acknowledged", "disclosures_rejected", "overdue")


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JNX_")}
    completed = subprocess.run(
        [sys.executable, "-m", "jnx.cli", "demo", "--records", "300", "--json"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    data = json.loads(completed.stdout)
    data["_folder"] = str(folder)
    data["_stderr"] = completed.stderr
    return data


def test_the_summary_has_what_a_scheduler_reads(summary: dict) -> None:
    for key in KEYS:
        assert key in summary, key
    assert summary["pulled"] >= 4 * 300 * 0.9
    assert 0 < summary["standard_records"] <= summary["pulled"]
    assert summary["mapping_errors"] > 0 and summary["error_groups"] > 0
    assert summary["duplicates_merged"] > 0, "the provincial mirror reports decisions the case-handling system has"


def test_every_run_succeeded(summary: dict) -> None:
    assert [r["status"] for r in summary["runs"]] == ["succeeded"] * len(summary["runs"])


def test_disclosures_reach_the_platform_once_and_without_clear_id_numbers(summary: dict) -> None:
    platform = summary["platform"]
    assert summary["disclosures_acknowledged"] > 0
    assert summary["disclosures_rejected"] == 0, "every disclosure jnx derives is one the platform accepts"
    # revisions acknowledged: the first pass's disclosures, then the second pass's corrections and withdrawals
    assert summary["disclosures_acknowledged"] >= platform["records_from_jnx"] > 0
    assert platform["records_from_jnx"] <= summary["disclosures"]
    assert platform["clear_id_numbers"] == 0


def test_no_revoked_decision_stays_published(summary: dict) -> None:
    """《行政处罚法》第四十八条: the sources' revoked penalties are never shown; those shown before are withdrawn."""
    revoked = summary["revoked"]
    assert revoked["records"] > 0 and revoked["acknowledged_before"] > 0, "the sandbox revokes published decisions"
    assert revoked["published"] == 0
    assert revoked["withdrawals_acknowledged"] == revoked["acknowledged_before"]


def test_the_demo_keeps_its_data_in_its_own_folder_and_says_where_to_look(summary: dict) -> None:
    assert (Path(summary["_folder"]) / ".jnx" / "demo" / "jnx.db").exists()
    assert "registered jn-case-handling" in summary["_stderr"]


def _demo_db(summary: dict) -> Any:
    from sqlalchemy import create_engine

    return create_engine(f"sqlite:///{Path(summary['_folder']) / '.jnx' / 'demo' / 'jnx.db'}")


def test_the_sandbox_revocations_are_withdrawn_3_working_days_after_their_change_date(summary: dict) -> None:
    from sqlalchemy import text

    from jnx.publicity.calendar import WorkdayCalendar
    from jnx.publicity.rules import withdrawal_deadline

    calendar = WorkdayCalendar.load(None)
    with _demo_db(summary).connect() as db:
        rows = db.execute(text(
            "SELECT r.due_date, s.data FROM disclosure_revisions r JOIN disclosures d ON d.id = r.disclosure_id"
            " JOIN standard_records s ON s.id = d.standard_record_id WHERE r.action = 'withdrawal'")).all()
    revoked = [(due, json.loads(data) if isinstance(data, str) else data) for due, data in rows]
    revoked = [(due, data) for due, data in revoked if data.get("change_date")]
    assert revoked, "the sandbox's revisions revoke published penalties, with their change dates"
    for due, data in revoked:
        expected = withdrawal_deadline(dt.date.fromisoformat(data["change_date"]), calendar).date
        assert str(due) == expected.isoformat(), (data["document_number"], data["change_date"], due)


def test_natural_persons_data_in_free_text_is_masked_in_what_the_platform_receives(summary: dict) -> None:
    from sqlalchemy import text

    from jnx.publicity.free_text import FIRST_GENERATION_ID, MOBILE

    with _demo_db(summary).connect() as db:
        rows = db.execute(text(
            "SELECT r.payload, s.data FROM disclosure_revisions r JOIN disclosures d ON d.id = r.disclosure_id"
            " JOIN standard_records s ON s.id = d.standard_record_id JOIN deliveries v ON v.disclosure_revision_id = r.id"
            " WHERE v.status = 'acknowledged' AND d.kind = 'penalty'")).all()
    persons = [(json.loads(p) if isinstance(p, str) else p, json.loads(s) if isinstance(s, str) else s) for p, s in rows]
    persons = [(p, s) for p, s in persons if s.get("party_type") == "自然人" and "身份证号码" in s.get("illegal_facts", "")]
    assert persons, "the sandbox writes natural persons' names, phones and ID numbers into 违法事实"
    for payload, record in persons:
        facts = payload["CF_SY"]
        assert record["party_name"] not in facts
        assert not MOBILE.search(facts) and not FIRST_GENERATION_ID.search(facts)
        assert record["party_id_number"] not in facts


def test_the_supervision_data_is_fed_coercive_measures_enforcement_and_their_publicity_clock(summary: dict) -> None:
    from sqlalchemy import text

    with _demo_db(summary).connect() as db:
        types = dict(db.execute(text("SELECT record_type, count(*) FROM standard_records GROUP BY record_type")).all())
        tracked = dict(db.execute(text("SELECT record_type, count(*) FROM enforcement_publicity GROUP BY record_type")).all())
    assert types.get("coercive_measure", 0) > 0 and types.get("coercive_enforcement", 0) > 0
    assert set(tracked) == {"coercive_measure", "coercive_enforcement", "inspection"}
    assert sum(summary["enforcement_publicity"].values()) == sum(tracked.values())


def test_the_case_life_cycle_and_legal_review_reach_the_standard_and_a_bare_other_is_queued(summary: dict) -> None:
    from sqlalchemy import text

    with _demo_db(summary).connect() as db:
        rows = db.execute(text("SELECT data FROM standard_records WHERE record_type = 'penalty'")).scalars().all()
        measures = db.execute(text("SELECT data FROM standard_records WHERE record_type = 'coercive_measure'")).scalars().all()
        queued = db.execute(text("SELECT count(*) FROM mapping_errors WHERE field = 'penalty_types'"
                                 " AND rule = 'codeset.penalty_type.name_required'")).scalar_one()
    penalties = [json.loads(r) if isinstance(r, str) else r for r in rows]
    assert penalties and all(p.get("case_status") in ("已决定", "执行中", "已结案") for p in penalties)
    assert all(p["filing_date"] <= p["decision_date"] <= p["service_date"] for p in penalties)
    closed = [p for p in penalties if p["case_status"] == "已结案"]
    assert closed and all(p["decision_date"] <= p["execution_date"] <= p["closing_date"] for p in closed)
    assert {p["legal_review"] for p in penalties} == {"true", "false"}
    assert {p.get("hearing_held") for p in penalties} == {"true", "false"}
    assert {(json.loads(m) if isinstance(m, str) else m).get("legal_review") for m in measures} == {"true", "false"}
    assert not [p for p in penalties if "其他" in p["penalty_types"]], "a bare 其他 is never stored"
    assert queued > 0, "penalties whose source writes a bare 其他 wait in the errors queue"


def test_a_natural_persons_address_goes_out_masked_and_waits_for_review(summary: dict) -> None:
    from sqlalchemy import text

    with _demo_db(summary).connect() as db:
        reviewed = db.execute(text("SELECT id, review FROM disclosures WHERE review IS NOT NULL")).all()
        sent = {(d, n): json.loads(p) if isinstance(p, str) else p for d, n, p in db.execute(text(
            "SELECT disclosure_id, revision, payload FROM disclosure_revisions WHERE disclosure_id IN"
            " (SELECT id FROM disclosures WHERE review IS NOT NULL)")).all()}
    assert reviewed, "the sandbox writes natural persons' addresses into 违法事实"
    for disclosure_id, review in reviewed:
        notes = json.loads(review) if isinstance(review, str) else review
        for note in notes:
            payload = sent[(disclosure_id, note["revision"])]
            assert note["rule"] == "personal_data.address_review" and note["field"] in payload
            assert payload[note["field"]][:40] in note["message"]


def test_the_publicity_clock_of_coercive_acts_is_judged_by_the_day_they_were_made_public(summary: dict) -> None:
    from sqlalchemy import text

    with _demo_db(summary).connect() as db:
        rows = db.execute(text("SELECT record_type, published_on, received_on, deadline, status FROM enforcement_publicity"
                               " WHERE status != 'revoked'")).all()
    dated = [r for r in rows if r[1] is not None]
    assert dated and {r[0] for r in dated} == {"coercive_measure", "coercive_enforcement"}
    for _, published, _, deadline, status in dated:  # SQLite returns ISO strings: compared as text, in order
        assert status == ("on_time" if str(published) <= str(deadline) else "late")
    assert any(r[0] == "inspection" and r[1] is None for r in rows), "the 双随机 system reports no publicity date"
