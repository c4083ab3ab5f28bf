"""errors queue: business-key conflicts (two source records, one business key)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 11:40:00

``mapping_errors.conflict_record_id``: for an error of rule ``business_key.conflict``, the standard
record whose business key another source record claimed (the error's raw record is that other one).
Open conflicts hold the record's disclosure back (deliveries ``held``: a VARCHAR value, no DDL)
until an admin merges the two, ignores the newcomer, or the source corrects it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mapping_errors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conflict_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.create_index(batch_op.f("ix_mapping_errors_conflict_record_id"), ["conflict_record_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_mapping_errors_conflict_record_id_standard_records"), "standard_records",
                                    ["conflict_record_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("mapping_errors", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_mapping_errors_conflict_record_id_standard_records"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_mapping_errors_conflict_record_id"))
        batch_op.drop_column("conflict_record_id")
