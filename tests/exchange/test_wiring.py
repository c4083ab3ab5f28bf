"""The composition root: every way of running systems derives 双公示 disclosures unless told not to."""

from __future__ import annotations

from pathlib import Path

from jnx.exchange.wiring import Exchange
from jnx.settings import Settings
from jnx.store.db import create_engine_for


def _exchange(tmp_path: Path, **options: object) -> Exchange:
    url = f"sqlite:///{tmp_path / 'jnx.db'}"
    return Exchange(settings=Settings(home=tmp_path, database_url=url), engine=create_engine_for(url), environment={},
                    **options)


def test_runs_and_replays_derive_disclosures_by_default(tmp_path: Path) -> None:
    ex = _exchange(tmp_path)
    assert ex.runs().on_stored == ex.deriver.on_stored
    assert ex.deriver is ex.deriver  # one deriver, one summary, for every run of this exchange


def test_a_caller_may_study_ingestion_alone_or_bring_its_own_hook(tmp_path: Path) -> None:
    assert _exchange(tmp_path, derive_disclosures=False).runs().on_stored is None

    def own(session: object, system: object, stored: object) -> None:
        return None

    assert _exchange(tmp_path, on_stored=own).runs().on_stored is own
