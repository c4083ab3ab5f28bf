"""jobs: long actions of the API and the console with their progress, seen by every process

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 14:30:00

Issue 15. ``jobs`` holds one row per long action (a run, a replay, a delivery, a reconciliation)
started over HTTP or from the console: who started it, its phase, done/total, its result or error,
and the lease of the process running it — ``jnx web`` with several workers and the CLI read the same
rows; a job whose lease ran out while running is marked failed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('owner_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.Enum('queued', 'running', 'succeeded', 'failed', name='jobstatus', native_enum=False,
                                create_constraint=False, length=16), nullable=False),
    sa.Column('phase', sa.String(length=200), nullable=False),
    sa.Column('done', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('hint', sa.Text(), nullable=True),
    sa.Column('back', sa.String(length=500), nullable=True),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_owner_created_at'), ['owner', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_status_lease_expires_at'), ['status', 'lease_expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_status_lease_expires_at'))
        batch_op.drop_index(batch_op.f('ix_jobs_owner_created_at'))
    op.drop_table('jobs')
