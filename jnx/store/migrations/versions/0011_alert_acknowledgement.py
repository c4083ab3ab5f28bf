"""alert acknowledgement: who took an open alert on, when, with what note

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 15:30:00

Issue 19: an operator acknowledges an open alert (`jnx alerts ack ID --note …`, ``POST
/api/v1/alerts/{id}/acknowledge``, audited): it stays open until its cause ends, but no longer
counts as unattended (`jnx alerts check` exits 0 when every open alert is acknowledged).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.add_column(sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('acknowledged_by', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('acknowledged_note', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.drop_column('acknowledged_note')
        batch.drop_column('acknowledged_by')
        batch.drop_column('acknowledged_at')
