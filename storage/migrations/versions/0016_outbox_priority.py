"""messages someone waits for (an approval prompt, a progress line, an answer) are claimed before a wave's

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WAVES = (
    "advance_notice",
    "todo_list",
    "access_kept",
    "access_lost",
    "account_decided",
    "invited_after_connecting",
    "access_lost_taken_back",
    "todo_reminder",
    "sign_in_verified",
    "migration_called_off",
)
"""`storage.outbox.WAVES` when this revision was written: a copy, so that it means the same later on."""


def upgrade() -> None:
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(
            "ix_outbound_message_claim_order", ["status", "priority", "id"], unique=False
        )
    # The messages of a wave still pending (a notify under way during the upgrade) go back behind the
    # admins' ones; those already sent or failed are marked too, so a retry of them is a wave's again.
    outbound = sa.table("outbound_message", sa.column("kind", sa.String()), sa.column("priority", sa.Integer()))
    op.execute(outbound.update().where(outbound.c.kind.in_(_WAVES)).values(priority=1))


def downgrade() -> None:
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_message_claim_order")
        batch_op.drop_column("priority")
