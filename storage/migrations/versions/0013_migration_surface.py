"""a migration remembers the surface it was started on: one started in a Teams personal chat has no channel

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("migration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("surface", sa.String(), nullable=True))
    op.execute("UPDATE migration SET surface = 'teams' WHERE channel_id LIKE 'teams:%'")
    # Started outside a channel: Teams' if its starter has a personal chat with the bot (a Teams object id);
    # otherwise left NULL, routed as before this revision (to Slack when it is configured).
    op.execute(
        "UPDATE migration SET surface = 'teams' WHERE channel_id IS NULL AND EXISTS ("
        "SELECT 1 FROM teams_conversation WHERE teams_conversation.kind = 'personal'"
        " AND teams_conversation.user_id = migration.started_by_id)"
    )


def downgrade() -> None:
    # dropped in place (SQLite 3.35+ can): a copy of the table would be dropped in its stead, which the
    # foreign keys to migrations refuse once any exists
    with op.batch_alter_table("migration", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("surface")
