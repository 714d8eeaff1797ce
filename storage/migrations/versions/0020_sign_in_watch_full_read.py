"""the sign-in watch records when the newest full read it applied began, so that a slower read that began
before it records no mapping it saw; someone mapped by hand records the object id of the account they were
seen mapped to, so that a plan without one knows that account renamed, and when their mapping last changed
(not the first), before which a sign-in does not count

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # in place, as 0018: SQLite adds a nullable column, and drops one (3.35+), without copying the table
    with op.batch_alter_table("sign_in_watch", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("full_read_began_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("affected_user", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("mapped_origin_id", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("remapped_at", sa.DateTime(timezone=True), nullable=True))
    # whether someone already recorded was seen changed is not kept: their sign-ins up to their recording
    # keep not counting, as before
    op.execute("UPDATE affected_user SET remapped_at = mapped_at WHERE mapped_to IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("affected_user", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("remapped_at")
        batch_op.drop_column("mapped_origin_id")
    with op.batch_alter_table("sign_in_watch", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("full_read_began_at")
