"""a question kept for `faq review` numbers the moves ratings make (review events), so that a paging keeps
each question in the place it had when the paging began

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Questions kept before: no event, so a paging takes them in the places they have now.
    with op.batch_alter_table("faq_feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opened", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("moved_up", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_faq_feedback_opened"), ["opened"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_feedback_moved_up"), ["moved_up"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("faq_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_feedback_moved_up"))
        batch_op.drop_index(batch_op.f("ix_faq_feedback_opened"))
        batch_op.drop_column("moved_up")
        batch_op.drop_column("opened")
