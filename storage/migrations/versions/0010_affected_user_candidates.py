"""an affected user the plan left ambiguous keeps each candidate directory account, so chat knows them by it

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("affected_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("candidates", sa.JSON(), nullable=False, server_default="[]"))
    _fill_from_plans()


def _fill_from_plans() -> None:
    """People notified before this revision get their plan's candidates: the object ids (Teams knows
    people by them); the sign-in names are read from the directory by `notify`, which this cannot do."""
    bind = op.get_bind()
    migration = sa.table("migration", sa.column("id", sa.Integer), sa.column("plan", sa.JSON))
    affected = sa.table(
        "affected_user",
        sa.column("migration_id", sa.Integer),
        sa.column("entitlement_id", sa.String),
        sa.column("candidates", sa.JSON),
    )
    fill = (
        sa.update(affected)
        .where(
            affected.c.migration_id == sa.bindparam("in_migration"),
            affected.c.entitlement_id == sa.bindparam("entitlement"),
        )
        .values(candidates=sa.bindparam("ids", type_=sa.JSON))
    )
    plans = bind.execute(sa.select(migration.c.id, migration.c.plan).where(migration.c.plan.is_not(None)))
    for migration_id, plan in plans.all():
        rows = [
            {
                "in_migration": migration_id,
                "entitlement": user["id"],
                "ids": [str(candidate).casefold() for candidate in user["candidates"]],
            }
            for user in (plan or {}).get("users", [])
            if user.get("outcome") == "ambiguous" and user.get("candidates")
        ]
        if rows:
            bind.execute(fill, rows)


def downgrade() -> None:
    # dropped in place (SQLite 3.35+ can): a copy of the table would be dropped in its stead, which the
    # to-do items' foreign keys refuse once any exists
    with op.batch_alter_table("affected_user", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("candidates")
