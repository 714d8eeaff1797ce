"""someone mapped by hand records when the sign-in watch saw their identity mapped, to which account,
and whether it is another than the plan's

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # added in place, on SQLite too: a copy of the table would be dropped in its stead, which the to-do
    # items' foreign keys refuse once any exists
    with op.batch_alter_table("affected_user", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("mapped_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("mapped_to", sa.String(), nullable=True))
        batch_op.add_column(
            sa.Column("mapped_elsewhere", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    # dropped in place (SQLite 3.35+ can): a copy of the table would be dropped in its stead, which the
    # to-do items' foreign keys refuse once any exists
    with op.batch_alter_table("affected_user", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("mapped_elsewhere")
        batch_op.drop_column("mapped_to")
        batch_op.drop_column("mapped_at")
