"""errors: the run that closed each error

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:25:00

Issue 17 ("has this failure been dealt with?"). ``mapping_errors.resolved_by_run_id``: the run whose
newer source record superseded the error's record (or whose mapping closed it), written when the
run closes it. An error's page links that run; a run's page lists the errors it closed. Errors
closed before this revision, and those closed by a replay, a correction or an ignore (which are not
runs; the audit log names who did them), keep NULL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mapping_errors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolved_by_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.create_index(batch_op.f("ix_mapping_errors_resolved_by_run_id"), ["resolved_by_run_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_mapping_errors_resolved_by_run_id_runs"), "runs", ["resolved_by_run_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("mapping_errors", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_mapping_errors_resolved_by_run_id_runs"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_mapping_errors_resolved_by_run_id"))
        batch_op.drop_column("resolved_by_run_id")
