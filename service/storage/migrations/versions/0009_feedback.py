"""Did this help? One row per answer: channel, topic, yes or no, the London day. No number, no call id.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("helped", sa.Boolean(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_feedback_topic", "feedback", ["topic"])
    op.create_index("ix_feedback_day", "feedback", ["day"])


def downgrade() -> None:
    op.drop_index("ix_feedback_day", table_name="feedback")
    op.drop_index("ix_feedback_topic", table_name="feedback")
    op.drop_table("feedback")
