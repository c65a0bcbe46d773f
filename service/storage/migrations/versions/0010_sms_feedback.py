"""A texter's 'did this help?': whether the last reply asked it, and the London day it was last asked
(a number is asked at most once a week).

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sms_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("asking", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("asked_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sms_sessions", schema=None) as batch_op:
        batch_op.drop_column("asked_on")
        batch_op.drop_column("asking")
