"""disclosures: deadline basis and problems; revision reason; delivery envelope

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:40:00

Adds what the 双公示 derivation and the outbox keep (jnx/publicity/derive.py, outbox.py):
``disclosures.deadline_basis`` (the rule and calendar sources of the deadline, so a provisional
deadline can be shown and recomputed), ``disclosures.problems`` (why a disclosure is blocked by the
outbound mapping or rejected by the platform), ``disclosure_revisions.reason`` (why a correction or
withdrawal) and ``deliveries.envelope`` (the sealed item, resent byte for byte on retries). The
statuses ``blocked`` and ``rejected`` need no DDL (enums are stored as VARCHAR values).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline_basis", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("problems", sa.JSON(), nullable=True))
    with op.batch_alter_table("disclosure_revisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("envelope", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("envelope")
    with op.batch_alter_table("disclosure_revisions", schema=None) as batch_op:
        batch_op.drop_column("reason")
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.drop_column("problems")
        batch_op.drop_column("deadline_basis")
