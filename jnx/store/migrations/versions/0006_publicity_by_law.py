"""disclosures: shortest display end and 信用修复; 执法公示 deadlines of 行政强制 and 行政检查

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 12:20:00

``disclosures.display_shortest_until``: the shortest display period's last day (信用修复 admissible
after it), beside ``display_until`` (the longest, 公示截止期). ``disclosures.repaired_on`` /
``repair_reason``: 信用修复 granted — the disclosure stays withdrawn whatever later source edits say.
``enforcement_publicity``: one row per 行政强制 / 行政检查 standard record, its 20-working-day 执法公示
deadline (国办发〔2018〕118号) and the day the record reached jnx — plain columns the indicators
aggregate with SQL (docs/disclosures.md, "执法公示").
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_shortest_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("repaired_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("repair_reason", sa.Text(), nullable=True))
    op.create_table(
        "enforcement_publicity",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("standard_record_id", BIG_ID, nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("business_key", sa.String(length=300), nullable=False),
        sa.Column("authority_credit_code", sa.String(length=18), nullable=True),
        sa.Column("region", sa.String(length=12), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("deadline_provisional", sa.Boolean(), nullable=False),
        sa.Column("deadline_basis", sa.Text(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["standard_record_id"], ["standard_records.id"],
                                name=op.f("fk_enforcement_publicity_standard_record_id_standard_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_publicity")),
        sa.UniqueConstraint("standard_record_id", name=op.f("uq_enforcement_publicity_standard_record_id")),
    )
    with op.batch_alter_table("enforcement_publicity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enforcement_publicity_status_deadline"), ["status", "deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_enforcement_publicity_authority_credit_code"), ["authority_credit_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("enforcement_publicity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enforcement_publicity_authority_credit_code"))
        batch_op.drop_index(batch_op.f("ix_enforcement_publicity_status_deadline"))
    op.drop_table("enforcement_publicity")
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.drop_column("repair_reason")
        batch_op.drop_column("repaired_on")
        batch_op.drop_column("display_shortest_until")
