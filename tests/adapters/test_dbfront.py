"""The front-end database (前置库) adapter on real SQLite and PostgreSQL tables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from jnx.adapters.base import Adapters, OutboundItem, ReceiptStatus, Watermark
from jnx.adapters.config import DbFrontConfig, MappingSecrets
from jnx.adapters.errors import RequestRejectedError, TransportError
from jnx.adapters.factory import build_adapters

meta = sa.MetaData()
SOURCE = sa.Table(
    "xzcf_src",
    meta,
    sa.Column("ajbh", sa.String(40), primary_key=True),
    sa.Column("cfjdsh", sa.String(100)),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)
OUTBOX = sa.Table(
    "sgs_out",
    meta,
    sa.Column("idempotency_key", sa.String(128), primary_key=True),
    sa.Column("record_type", sa.String(40)),
    sa.Column("payload", sa.Text),
    sa.Column("status", sa.String(4)),
    sa.Column("reason", sa.String(400)),
    sa.Column("created_at", sa.DateTime),
)
T0 = datetime(2024, 3, 1, 9, 0, 0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'front.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    engine = sa.create_engine(url)
    meta.create_all(engine)
    with engine.begin() as conn:  # three rows share one update time: the key breaks the tie
        conn.execute(
            SOURCE.insert(),
            [{"ajbh": f"AJ{i}", "cfjdsh": f"济任罚〔2024〕{i}号", "updated_at": T0.replace(minute=min(i, 3))} for i in range(7)],
        )
    engine.dispose()
    yield url


def adapters(url: str) -> Adapters:
    config = DbFrontConfig.model_validate(
        {
            "url": {"env": "FRONT_DB"},
            "retry": {"attempts": 2, "initial": 0, "maximum": 0},
            "pull": [{"record_type": "penalty", "table": "xzcf_src", "key_column": "ajbh", "updated_column": "updated_at"}],
            "push": {"table": "sgs_out"},
        }
    )
    return build_adapters(config, MappingSecrets({"FRONT_DB": url}), sleep=lambda s: None)


def test_rows_are_pulled_in_update_order_with_the_key_breaking_ties(db_url: str) -> None:
    built = adapters(db_url)
    pages = list(built.pullers["penalty"].pull(None, page_size=2))
    assert [[r.source_key for r in p.records] for p in pages] == [["AJ0", "AJ1"], ["AJ2", "AJ3"], ["AJ4", "AJ5"], ["AJ6"]]
    assert pages[1].watermark == Watermark(since="2024-03-01T09:03:00", key="AJ3")
    assert pages[-1].last and pages[0].records[0].payload["cfjdsh"] == "济任罚〔2024〕0号"
    built.close()


def test_a_pull_resumes_after_the_last_committed_row_even_inside_a_tie(db_url: str) -> None:
    built = adapters(db_url)
    resumed = list(built.pullers["penalty"].pull(Watermark(since="2024-03-01T09:03:00", key="AJ4"), page_size=10))
    assert [r.source_key for p in resumed for r in p.records] == ["AJ5", "AJ6"]
    built.close()


def test_pushed_rows_are_inserted_once_and_receipts_follow_the_other_sides_status(db_url: str) -> None:
    built = adapters(db_url)
    pusher = built.pusher
    items = [OutboundItem("k1", "penalty", {"CF_WSH": "济任罚〔2024〕1号"}), OutboundItem("k2", "penalty", {"CF_WSH": "x"})]
    assert [r.status for r in pusher.push(items)] == [ReceiptStatus.QUEUED] * 2
    assert [r.status for r in pusher.push(items)] == [ReceiptStatus.QUEUED] * 2  # idempotent: no second row
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(OUTBOX)).scalar() == 2
        conn.execute(OUTBOX.update().where(OUTBOX.c.idempotency_key == "k1").values(status="1"))
        conn.execute(OUTBOX.update().where(OUTBOX.c.idempotency_key == "k2").values(status="2", reason="CF_XDR_MC 必填"))
    engine.dispose()
    receipts = pusher.poll(["k1", "k2"])
    assert [r.status for r in receipts] == [ReceiptStatus.ACCEPTED, ReceiptStatus.REJECTED]
    assert receipts[1].reasons[0].reason == "CF_XDR_MC 必填"
    built.close()


def test_a_missing_table_is_a_configuration_error_not_retried(db_url: str) -> None:
    config = DbFrontConfig.model_validate(
        {"url": {"env": "U"}, "pull": [{"record_type": "x", "table": "nope", "key_column": "k", "updated_column": "u"}]}
    )
    built = build_adapters(config, MappingSecrets({"U": db_url}), sleep=lambda s: None)
    with pytest.raises(RequestRejectedError, match="nope"):
        list(built.pullers["x"].pull(None))
    built.close()


def test_an_unreachable_database_is_transient_and_names_no_password() -> None:
    config = DbFrontConfig.model_validate(
        {"url": {"env": "U"}, "retry": {"attempts": 2, "initial": 0, "maximum": 0},
         "pull": [{"record_type": "x", "table": "t", "key_column": "k", "updated_column": "u"}]}
    )
    url = "postgresql+psycopg://jnx:s3cret@127.0.0.1:1/front?connect_timeout=1"
    built = build_adapters(config, MappingSecrets({"U": url}), sleep=lambda s: None)
    with pytest.raises(TransportError) as info:
        list(built.pullers["x"].pull(None))
    assert "cannot connect" in str(info.value)
    assert "s3cret" not in str(info.value) and "127.0.0.1:1" in str(info.value)
    built.close()
