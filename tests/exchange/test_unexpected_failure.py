"""A defect inside a puller (an exception that is no JnxError) ends the run failed with a message that
names it, keeps the pages committed before it, and never leaves the run ``running``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.adapters.base import Adapters, PayloadEncoding, RawRecord
from jnx.adapters.testing import FakePuller
from jnx.exchange.registry import SystemRegistry, parse_registration
from jnx.exchange.runs import RunStatus
from jnx.exchange.wiring import Exchange
from jnx.sandbox.case_data import penalties
from jnx.sandbox.systems import load as load_registration
from jnx.settings import Settings
from jnx.store.models import Run, StandardRecord

SYSTEM = "jn-case-handling"


def test_an_unexpected_exception_fails_the_run_and_the_next_run_goes_on(migrated_engine: Engine, tmp_path: Path) -> None:
    records, _ = penalties(seed=5, count=30)
    feed = [RawRecord(r.fields["ajbh"], "penalty", dict(r.fields), PayloadEncoding.JSON, f"2025-01-02 09:00:{i:02d}")
            for i, r in enumerate(records)]
    with Session(migrated_engine) as session, session.begin():
        SystemRegistry().register(session, parse_registration(load_registration("case-handling.yaml"), "case-handling.yaml"))
    ex = Exchange(settings=Settings(home=tmp_path, database_url=str(migrated_engine.url)), engine=migrated_engine, environment={})
    service = ex.runs()
    broken: Any = FakePuller(feed, page_size=10, fail_on_page=2, failure=TypeError("'NoneType' object is not subscriptable"))
    service.adapters_factory = lambda config, secrets: Adapters(pullers={"penalty": broken})

    failed = service.run_now(SYSTEM, full=True)

    assert failed.status is RunStatus.FAILED
    assert failed.error is not None and "unexpected TypeError" in failed.error and "page 2" in failed.error
    assert "defect of jnx" in failed.error
    with Session(migrated_engine) as session:
        run = session.get(Run, failed.run_id)
        assert run is not None and run.status is RunStatus.FAILED and run.error == failed.error
        kept = session.scalar(select(StandardRecord.id).limit(1))
        assert kept is not None  # page 1 was committed before the defect

    service.adapters_factory = lambda config, secrets: Adapters(pullers={"penalty": FakePuller(feed, page_size=10)})
    again = service.run_now(SYSTEM)
    assert again.status is RunStatus.SUCCEEDED
