"""Teams: conversation references, activities acted on, shared cards and their copies, dispatches

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams_conversation",
        sa.Column("conversation_id", sa.String(), nullable=False),
        sa.Column("service_url", sa.String(), nullable=False),
        sa.Column("tenant_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=True),
        sa.Column("time_zone", sa.String(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_teams_conversation")),
    )
    with op.batch_alter_table("teams_conversation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teams_conversation_user_id"), ["user_id"], unique=False)
    op.create_table(
        "teams_seen_activity",
        sa.Column("activity_key", sa.String(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("activity_key", name=op.f("pk_teams_seen_activity")),
    )
    with op.batch_alter_table("teams_seen_activity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teams_seen_activity_seen_at"), ["seen_at"], unique=False)
    op.create_table(
        "teams_shared_card",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        sa.Column("viewers", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_teams_shared_card")),
    )
    op.create_table(
        "teams_card_copy",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("conversation_id", sa.String(), nullable=False),
        sa.Column("activity_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "conversation_id", name=op.f("pk_teams_card_copy")),
    )
    op.create_table(
        "teams_dispatch",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("conversation_id", sa.String(), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_teams_dispatch")),
    )


def downgrade() -> None:
    op.drop_table("teams_dispatch")
    op.drop_table("teams_card_copy")
    op.drop_table("teams_shared_card")
    with op.batch_alter_table("teams_seen_activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_seen_activity_seen_at"))
    op.drop_table("teams_seen_activity")
    with op.batch_alter_table("teams_conversation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_conversation_user_id"))
    op.drop_table("teams_conversation")
