"""indicators: when each disclosure revision was first acknowledged; indexes the monthly indicators read

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 12:40:00

Issue 18. ``disclosure_revisions.acknowledged_at`` is the instant the credit platform's first
acceptance of the revision was recorded (by the outbox or by reconciliation), and ``acknowledged_on``
its Beijing calendar day — the day 公示及时率 compares with ``due_date``. Both are written once and
never moved by later changes (``updated_at`` of a delivery or disclosure is).

Backfill of rows that existed before this revision: a revision with an acknowledged delivery gets
the earliest ``updated_at`` of its acknowledged deliveries (an acknowledged delivery is final, so
that is when its receipt was written); ``acknowledged_on`` is that instant's day in UTC+8. Revisions
never acknowledged stay NULL.

Indexes for the month's aggregation: raw_records(received_at), disclosure_revisions(due_date), disclosures(deadline),
mapping_errors(created_at), runs(finished_at).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('disclosure_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_disclosure_revisions_due_date'), ['due_date'], unique=False)
    op.create_index(op.f('ix_disclosures_deadline'), 'disclosures', ['deadline'], unique=False)
    # what is waiting (overdue now, due soon): revisions not acknowledged, disclosures with no revision
    op.create_index('ix_disclosure_revisions_waiting_due', 'disclosure_revisions', ['due_date'], unique=False,
                    postgresql_where=sa.text('acknowledged_at IS NULL'), sqlite_where=sa.text('acknowledged_at IS NULL'))
    op.create_index('ix_disclosures_unrevised_deadline', 'disclosures', ['deadline'], unique=False,
                    postgresql_where=sa.text('current_revision = 0'), sqlite_where=sa.text('current_revision = 0'))
    op.create_index(op.f('ix_raw_records_received_at'), 'raw_records', ['received_at'], unique=False)
    op.create_index(op.f('ix_mapping_errors_created_at'), 'mapping_errors', ['created_at'], unique=False)
    op.create_index(op.f('ix_runs_finished_at'), 'runs', ['finished_at'], unique=False)
    op.execute(
        "UPDATE disclosure_revisions SET acknowledged_at = (SELECT min(d.updated_at) FROM deliveries d "
        "WHERE d.disclosure_revision_id = disclosure_revisions.id AND d.status = 'acknowledged') "
        "WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.disclosure_revision_id = disclosure_revisions.id "
        "AND d.status = 'acknowledged')"
    )
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("UPDATE disclosure_revisions SET acknowledged_on = date(acknowledged_at, '+8 hours') "
                   "WHERE acknowledged_at IS NOT NULL")
    else:
        op.execute("UPDATE disclosure_revisions SET acknowledged_on = (acknowledged_at AT TIME ZONE 'Asia/Shanghai')::date "
                   "WHERE acknowledged_at IS NOT NULL")


def downgrade() -> None:
    op.drop_index(op.f('ix_runs_finished_at'), table_name='runs')
    op.drop_index(op.f('ix_mapping_errors_created_at'), table_name='mapping_errors')
    op.drop_index(op.f('ix_raw_records_received_at'), table_name='raw_records')
    op.drop_index('ix_disclosures_unrevised_deadline', table_name='disclosures')
    op.drop_index('ix_disclosure_revisions_waiting_due', table_name='disclosure_revisions')
    op.drop_index(op.f('ix_disclosures_deadline'), table_name='disclosures')
    with op.batch_alter_table('disclosure_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_revisions_due_date'))
        batch_op.drop_column('acknowledged_on')
        batch_op.drop_column('acknowledged_at')
