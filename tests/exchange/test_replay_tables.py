"""``replay_system``: a table re-maps the system's record types it was made for; a table for another
record type or source kind is refused, naming both sides, instead of replaying 0 records."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.adapters.base import Adapters, PayloadEncoding, RawRecord
from jnx.adapters.config import MappingSecrets
from jnx.adapters.testing import FakePuller
from jnx.errors import ConfigError
from jnx.exchange.registry import SystemRegistry, parse_registration
from jnx.exchange.replay import replay_system
from jnx.exchange.runs import RunService
from jnx.exchange.wiring import Exchange
from jnx.sandbox.case_data import penalties
from jnx.sandbox.systems import load as load_registration
from jnx.settings import Settings
from jnx.standard.dictionary import default_dictionary
from jnx.store.models import StandardRecord

SYSTEM = "jn-case-handling"


@pytest.fixture
def exchange(migrated_engine: Engine, tmp_path: Path) -> Exchange:
    """The case-handling system (penalty → case_handling.penalty@4) with 40 penalties staged and stored."""
    with Session(migrated_engine) as session, session.begin():
        SystemRegistry().register(session, parse_registration(load_registration("case-handling.yaml"), "case-handling.yaml"))
    records, _ = penalties(seed=3, count=40)
    feed = [RawRecord(r.key, "penalty", dict(r.fields), PayloadEncoding.JSON, r.updated.isoformat()) for r in records]
    ex = Exchange(settings=Settings(home=tmp_path, database_url=str(migrated_engine.url)), engine=migrated_engine,
                  environment={}, derive_disclosures=False)
    RunService(migrated_engine, tables=ex.catalog, dictionary=default_dictionary(), secrets=MappingSecrets({}),
               adapters_factory=lambda config, secrets: Adapters(pullers={"penalty": FakePuller(feed)})).run_now(SYSTEM)
    return ex


def _standard_records(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(StandardRecord)) or 0


def test_a_newer_version_of_the_pinned_table_re_maps_every_staged_record(exchange: Exchange) -> None:
    report = replay_system(exchange, system=SYSTEM, mapping="case_handling.penalty@2", dry_run=True)
    assert report["records"] == 40


@pytest.mark.parametrize(("mapping", "says"), [
    ("licensing.license@1", "licensing.license@1 maps inbound licensing records to 'license'"),
    ("credit.penalty@1", "credit.penalty@1 maps outbound standard records to 'credit_penalty'"),
])
def test_a_table_for_another_record_type_is_refused_naming_both_sides(exchange: Exchange, mapping: str, says: str) -> None:
    stored = _standard_records(exchange.engine)
    with pytest.raises(ConfigError) as refused:
        replay_system(exchange, system=SYSTEM, mapping=mapping)
    message = str(refused.value)
    assert says in message
    assert "system 'jn-case-handling' streams penalty (case_handling → penalty, case_handling.penalty@4)" in message
    assert "\n" not in message
    assert refused.value.hint is not None and f"jnx systems show {SYSTEM}" in refused.value.hint
    assert _standard_records(exchange.engine) == stored
