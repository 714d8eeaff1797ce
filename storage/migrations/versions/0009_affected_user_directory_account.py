"""an affected user knows their directory account (sign-in name and object id), so chat finds them by it

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("affected_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("directory_account", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("directory_id", sa.String(), nullable=True))
        batch_op.create_index(batch_op.f("ix_affected_user_directory_id"), ["directory_id"], unique=False)
    _fill_from_plans()


def _fill_from_plans() -> None:
    """People notified before this revision get the directory account their plan names, as `notify` now
    records it (a disabled account aside: nobody can use it), so chat finds them by it too."""
    bind = op.get_bind()
    migration = sa.table("migration", sa.column("id", sa.Integer), sa.column("plan", sa.JSON))
    affected = sa.table(
        "affected_user",
        sa.column("migration_id", sa.Integer),
        sa.column("entitlement_id", sa.String),
        sa.column("directory_account", sa.String),
        sa.column("directory_id", sa.String),
    )
    fill = (
        sa.update(affected)
        .where(
            affected.c.migration_id == sa.bindparam("in_migration"),
            affected.c.entitlement_id == sa.bindparam("entitlement"),
        )
        .values(directory_account=sa.bindparam("account"), directory_id=sa.bindparam("object_id"))
    )
    plans = bind.execute(sa.select(migration.c.id, migration.c.plan).where(migration.c.plan.is_not(None)))
    for migration_id, plan in plans.all():
        rows = [
            {
                "in_migration": migration_id,
                "entitlement": user["id"],
                "account": user["match"]["user_principal_name"],
                "object_id": user["match"]["id"],
            }
            for user in (plan or {}).get("users", [])
            if user.get("match") and user.get("outcome") != "disabled"
        ]
        if rows:
            bind.execute(fill, rows)


def downgrade() -> None:
    # dropped in place (SQLite 3.35+ can): a copy of the table would be dropped in its stead, which the
    # to-do items' foreign keys refuse once any exists
    with op.batch_alter_table("affected_user", schema=None, recreate="never") as batch_op:
        batch_op.drop_index(batch_op.f("ix_affected_user_directory_id"))
        batch_op.drop_column("directory_id")
        batch_op.drop_column("directory_account")
