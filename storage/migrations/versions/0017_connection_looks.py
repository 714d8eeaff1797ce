"""when the connection watch last read each migration short of the portal step, shared by every replica

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Each process kept these in memory until now: nothing to carry over (the first look after the
    # upgrade reads every resting migration once, as a restart did before).
    op.create_table(
        "connection_look",
        sa.Column("migration_id", sa.Integer(), nullable=False),
        sa.Column("looked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["migration_id"], ["migration.id"], name=op.f("fk_connection_look_migration_id_migration")
        ),
        sa.PrimaryKeyConstraint("migration_id", name=op.f("pk_connection_look")),
    )


def downgrade() -> None:
    op.drop_table("connection_look")
