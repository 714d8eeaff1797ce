"""Teams: a shared rate limit is N lanes counted from each answer, not evenly spaced slots; the newest
conversation found by an index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the old rows only said when the next request might go: nothing to carry over
    op.drop_table("teams_rate_slot")
    op.create_table(
        "teams_rate_lane",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=False),
        sa.Column("free_at", sa.Float(), nullable=False),
        sa.Column("busy_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", "lane", name=op.f("pk_teams_rate_lane")),
    )
    with op.batch_alter_table("teams_conversation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teams_conversation_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("teams_conversation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_conversation_updated_at"))
    op.drop_table("teams_rate_lane")
    op.create_table(
        "teams_rate_slot",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_teams_rate_slot")),
    )
