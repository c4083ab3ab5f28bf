"""disclosures: what a person should review in a disclosure that went out (an address masked in free text);
enforcement_publicity: the day the act was made public

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 14:40:00

Issue 14. ``disclosures.review`` holds ``[{field, rule, message, revision}]``: findings that do not stop a
disclosure — it is published, masked — but that a person should look at, such as the street part of an
address jnx masked in a natural person's 违法事实 (an address has no reliable shape: a village or a room
the pattern missed would be published). Unlike ``problems`` it is not cleared by the outbox when the
platform acknowledges; derivation replaces it with each revision's findings, and ``jnx disclosures
reviewed ID`` clears it. NULL: nothing to review.

``enforcement_publicity.published_on`` is the 执法公示日期 a source reports (the case-handling system's 2026
release, ``gsrq``): the 20-working-day clock is judged by it; NULL (a source without the date) keeps the
judgement by the day the record reached jnx. Existing rows stay NULL until their record is revised.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review', sa.JSON(), nullable=True))
    with op.batch_alter_table('enforcement_publicity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('enforcement_publicity', schema=None) as batch_op:
        batch_op.drop_column('published_on')
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_column('review')
