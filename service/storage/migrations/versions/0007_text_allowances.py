"""Slots for "text me this": at most so many topic texts per call and per number per day.

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_allowances",
        sa.Column("key", sa.String(length=120), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_text_allowances_created_at", "text_allowances", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_text_allowances_created_at", table_name="text_allowances")
    op.drop_table("text_allowances")
