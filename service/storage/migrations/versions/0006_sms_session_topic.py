"""A texter's last topic, so that MORE leads on to the menu that follows it.

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sms_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("topic", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sms_sessions", schema=None) as batch_op:
        batch_op.drop_column("topic")
