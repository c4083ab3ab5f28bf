"""operations: alerts, their notification attempts, and the registry of jnx serve processes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 14:30:00

Issue 19: ``alerts`` (one open row per kind and subject — a partial unique index — updated while the
cause lasts, resolved when it ends, with the state of its notifications), ``alert_notifications``
(each attempt to send one, on the webhook or by e-mail) and ``workers`` (host, pid, version, start,
heartbeat and what each ``jnx serve`` process is doing). On PostgreSQL, triggers NOTIFY the channel
``jnx_work`` with the table's name when runs are queued or outbox rows inserted, which wakes idle
workers (jnx/ops/workers.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

_NOTIFY = """
CREATE OR REPLACE FUNCTION jnx_notify_work() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted) THEN
        PERFORM pg_notify('jnx_work', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION jnx_notify_requeued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('jnx_work', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER runs_notify_work AFTER INSERT ON runs REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION jnx_notify_work();
CREATE TRIGGER runs_notify_requeued AFTER UPDATE OF status ON runs FOR EACH ROW
    WHEN (NEW.status = 'queued' AND OLD.status IS DISTINCT FROM 'queued') EXECUTE FUNCTION jnx_notify_requeued();
CREATE TRIGGER deliveries_notify_work AFTER INSERT ON deliveries REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION jnx_notify_work();
"""

_UNNOTIFY = """
DROP TRIGGER IF EXISTS deliveries_notify_work ON deliveries;
DROP TRIGGER IF EXISTS runs_notify_requeued ON runs;
DROP TRIGGER IF EXISTS runs_notify_work ON runs;
DROP FUNCTION IF EXISTS jnx_notify_requeued();
DROP FUNCTION IF EXISTS jnx_notify_work();
"""


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('kind', sa.Enum('system_late', 'line_down', 'outbox_stale', 'disclosure_due', 'audit_broken', 'key_expiring',
                              name='alertkind', native_enum=False, create_constraint=False, length=32), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('severity', sa.Enum('warning', 'critical', name='alertseverity', native_enum=False, create_constraint=False,
                                  length=16), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notifications', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    )
    op.create_index('uq_alerts_open_kind_subject', 'alerts', ['kind', 'subject'], unique=True,
                    postgresql_where=sa.text('resolved_at IS NULL'), sqlite_where=sa.text('resolved_at IS NULL'))
    op.create_index(op.f('ix_alerts_resolved_at'), 'alerts', ['resolved_at'], unique=False)
    op.create_table('alert_notifications',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('alert_id', _ID, nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_notifications_alert_id_alerts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_notifications')),
    )
    op.create_index(op.f('ix_alert_notifications_alert_id'), 'alert_notifications', ['alert_id'], unique=False)
    op.create_table('workers',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('threads', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('doing', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workers')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_NOTIFY)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_UNNOTIFY)
    op.drop_table('workers')
    op.drop_index(op.f('ix_alert_notifications_alert_id'), table_name='alert_notifications')
    op.drop_table('alert_notifications')
    op.drop_index(op.f('ix_alerts_resolved_at'), table_name='alerts')
    op.drop_index('uq_alerts_open_kind_subject', table_name='alerts')
    op.drop_table('alerts')
