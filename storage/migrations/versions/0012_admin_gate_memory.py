"""the admin gate's refusals and confirmations in the database, shared by every replica

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Each process kept these in memory until now: nothing to carry over.
    op.create_table(
        "admin_confirmation",
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("organization", sa.String(), nullable=False),
        sa.Column("as_typed", sa.String(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person", "organization", name=op.f("pk_admin_confirmation")),
    )
    with op.batch_alter_table("admin_confirmation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_confirmation_confirmed_at"), ["confirmed_at"], unique=False)
    op.create_table(
        "admin_refusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("organization", sa.String(), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remembered_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_refusal")),
    )
    with op.batch_alter_table("admin_refusal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_refusal_person"), ["person"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_refusal_refused_at"), ["refused_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("admin_refusal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_refusal_refused_at"))
        batch_op.drop_index(batch_op.f("ix_admin_refusal_person"))
    op.drop_table("admin_refusal")
    with op.batch_alter_table("admin_confirmation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_confirmation_confirmed_at"))
    op.drop_table("admin_confirmation")
