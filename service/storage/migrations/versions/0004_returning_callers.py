"""returning callers; outbox indexes for STOP and claims

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "returning_callers",
        sa.Column("caller_hash", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("remembered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("caller_hash"),
    )
    with op.batch_alter_table("returning_callers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_returning_callers_remembered_at"), ["remembered_at"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_to_number"), ["to_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_claimed_by"), ["claimed_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_claimed_by"))
        batch_op.drop_index(batch_op.f("ix_outbox_to_number"))
    with op.batch_alter_table("returning_callers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_returning_callers_remembered_at"))
    op.drop_table("returning_callers")
