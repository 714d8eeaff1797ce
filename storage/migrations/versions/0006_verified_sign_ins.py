"""sign-ins verified from Azure DevOps' data: a to-do item knows when it was verified; a watch per migration

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("todo_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "sign_in_watch",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("migration_id", sa.Integer(), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_through", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("swept_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("still_personal", sa.JSON(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["migration_id"], ["migration.id"], name=op.f("fk_sign_in_watch_migration_id_migration")
        ),
        sa.PrimaryKeyConstraint("migration_id", name=op.f("pk_sign_in_watch")),
    )
    with op.batch_alter_table("sign_in_watch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_watch_next_at"), ["next_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sign_in_watch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_watch_next_at"))
    op.drop_table("sign_in_watch")
    with op.batch_alter_table("todo_item", schema=None) as batch_op:
        batch_op.drop_column("verified_at")
