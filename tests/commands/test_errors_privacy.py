"""``jnx errors list|show|groups|ignore`` at their edges: no valid full ID number printed, whatever field
holds it; a group is a prefix, never a wildcard; out-of-range options are usage errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jnx.store.db import create_engine_for
from jnx.store.models import MappingErrorEntry, MappingErrorStatus, RawRecord
from tests.commands.conftest import Jnx, assert_error

EXAMPLES = Path(__file__).parents[2] / "examples" / "systems"
ID = "370811199002150027"  # a valid ID number (area, birth date, MOD 11-2)
ID15 = "370811900215002"


def _seed_errors(url: str) -> None:
    """Two errors as an older jnx stored them: the ID number in clear in the value and the message."""
    engine = create_engine_for(url)
    with Session(engine) as session, session.begin():
        raw = RawRecord(system_id="jn-case-handling", source_key=f"case-{ID}", record_type="penalty", content_hash="h" * 64,
                        payload=f'{{"party_credit_code": "{ID}", "note": "旧证{ID15}"}}'.encode(), encoding="utf-8")
        session.add(raw)
        session.flush()
        for group, field in (("ab%cd" + "0" * 59, "party_credit_code"), ("abcdef" + "1" * 58, f"note_{ID}")):
            session.add(MappingErrorEntry(
                raw_record_id=raw.id, system_id="jn-case-handling", mapping_name="case_handling.penalty", mapping_version="1",
                record_type="penalty", field=field, source_path=f"$.party_credit_code[{ID}]", masked_value=ID,
                rule="uscc.check_digit", message=f"{ID} is not a credit code (旧证 {ID15})", group_key=group,
                status=MappingErrorStatus.OPEN, created_at=dt.datetime.now(dt.UTC)))
    engine.dispose()


@pytest.fixture
def seeded(jnx: Jnx, db: str) -> str:
    assert jnx("systems", "register", str(EXAMPLES / "case-handling.yaml")).code == 0
    _seed_errors(db)
    return db


def test_errors_list_show_and_groups_never_print_a_valid_full_id_number(jnx: Jnx, seeded: str) -> None:
    engine = create_engine_for(seeded)
    with Session(engine) as session:
        ids = list(session.scalars(select(MappingErrorEntry.id).order_by(MappingErrorEntry.id)))
    engine.dispose()
    outputs = [jnx("errors", "list"), jnx("errors", "list", "--json"), jnx("errors", "groups"), jnx("errors", "groups", "--json")]
    outputs += [jnx("errors", "show", str(i), *flag) for i in ids for flag in ((), ("--json",))]
    for outcome in outputs:
        assert outcome.code == 0, outcome.err
        assert ID not in outcome.out and ID15 not in outcome.out, outcome.out
        assert "370811********0027" in outcome.out or "groups" in outcome.out


def test_a_group_is_a_prefix_never_a_wildcard(jnx: Jnx, seeded: str) -> None:
    ignored = jnx("errors", "ignore", "--group", "%", "--reason", "try a wildcard", "--json")
    assert ignored.code == 0 and ignored.json() == {"ignored": 0}
    assert jnx("errors", "ignore", "--group", "ab_", "--reason", "r", "--json").json() == {"ignored": 0}
    assert len(jnx("errors", "list", "--group", "%", "--json").json()["errors"]) == 0
    assert jnx("errors", "ignore", "--group", "ab%", "--reason", "the literal prefix", "--json").json() == {"ignored": 1}
    assert len(jnx("errors", "list", "--json").json()["errors"]) == 1


@pytest.mark.parametrize("args", [
    ("errors", "list", "--limit", "99999999999999999999"),
    ("errors", "list", "--limit", "0"),
    ("runs", "list", "--limit", "99999999999999999999"),
    ("disclosures", "list", "--limit", "99999999999999999999"),
])
def test_out_of_range_options_are_usage_errors(jnx: Jnx, db: str, args: tuple[str, ...]) -> None:
    outcome = jnx(*args)
    assert outcome.code == 2 and "Traceback" not in outcome.err
    assert "--limit" in outcome.err


def test_a_refused_ignore_names_its_reason_without_the_id_number(jnx: Jnx, db: str) -> None:
    assert_error(jnx("errors", "ignore", "--reason", ID), 3, says="say which errors to ignore")
