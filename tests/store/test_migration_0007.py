"""0007 backfills when each disclosure revision was first acknowledged (docs/indicators.md)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from jnx.store.db import create_engine_for, upgrade


def test_backfill_takes_the_earliest_acknowledged_delivery_in_beijing_time(empty_database_url: str) -> None:
    upgrade(empty_database_url, "0006")
    engine = create_engine_for(empty_database_url)
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO standard_records (id, record_type, business_key, current_revision, content_hash, data, "
                           "created_at, updated_at) VALUES (1, 'penalty', 'k', 1, 'h', '{}', :t, :t)"),
                      {"t": dt.datetime(2026, 9, 1)})
            c.execute(text("INSERT INTO disclosures (id, kind, standard_record_id, business_key, status, decision_date, "
                           "deadline_provisional, current_revision, created_at, updated_at) VALUES "
                           "(1, 'penalty', 1, 'k', 'published', '2026-09-28', false, 2, :t, :t)"), {"t": dt.datetime(2026, 9, 28)})
            for rev in (1, 2):
                c.execute(text("INSERT INTO disclosure_revisions (id, disclosure_id, revision, action, payload, idempotency_key, "
                               "created_at) VALUES (:r, 1, :r, 'new', '{}', :k, :t)"),
                          {"r": rev, "k": f"k{rev}", "t": dt.datetime(2026, 9, 28)})
            # revision 1: acknowledged 2026-10-12 17:30 UTC (= 10-13 01:30 Beijing) and, again later, 10-14
            for i, (status, at) in enumerate((("acknowledged", dt.datetime(2026, 10, 14, 2)), ("failed", dt.datetime(2026, 10, 1)),
                                              ("acknowledged", dt.datetime(2026, 10, 12, 17, 30)))):
                c.execute(text("INSERT INTO deliveries (id, disclosure_revision_id, status, attempts, next_attempt_at, "
                               "created_at, updated_at) VALUES (:i, 1, :s, 1, :t, :t, :t)"), {"i": i + 1, "s": status, "t": at})
        upgrade(empty_database_url)
        with engine.connect() as c:
            rows = c.execute(text("SELECT revision, acknowledged_at, acknowledged_on FROM disclosure_revisions ORDER BY revision")).all()
    finally:
        engine.dispose()
    (r1, at1, on1), (r2, at2, on2) = rows
    assert str(on1)[:10] == "2026-10-13" and str(at1).startswith("2026-10-12 17:30")
    assert at2 is None and on2 is None
