"""Teams: lists served as files at signed links; rate limits shared by every process

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams_file",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("organization", sa.String(), nullable=False),
        sa.Column("requester", sa.String(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("content", sa.String(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_file")),
    )
    with op.batch_alter_table("teams_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teams_file_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "teams_rate_slot",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_teams_rate_slot")),
    )


def downgrade() -> None:
    op.drop_table("teams_rate_slot")
    with op.batch_alter_table("teams_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_file_expires_at"))
    op.drop_table("teams_file")
