"""delivery tracking, reminders and the Slack app's shared state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_message_copies",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("ts", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "channel", name=op.f("pk_slack_message_copies")),
    )
    op.create_table(
        "slack_processed_requests",
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_slack_processed_requests")),
    )
    with op.batch_alter_table("slack_processed_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slack_processed_requests_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "reminder",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("migration_id", sa.Integer(), nullable=False),
        sa.Column("affected_user_id", sa.Integer(), nullable=True),
        sa.Column("time_zone", sa.String(), nullable=True),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["affected_user_id"],
            ["affected_user.id"],
            name=op.f("fk_reminder_affected_user_id_affected_user"),
        ),
        sa.ForeignKeyConstraint(
            ["migration_id"], ["migration.id"], name=op.f("fk_reminder_migration_id_migration")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder")),
        sa.UniqueConstraint("key", name=op.f("uq_reminder_key")),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_affected_user_id"), ["affected_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_migration_id"), ["migration_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_next_at"), ["next_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_status"), ["status"], unique=False)

    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("migration_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("in_flight", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("uncertain", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("error_code", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("delivered_ref", sa.String(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbound_message_migration_id"), ["migration_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbound_message_migration_id_migration"), "migration", ["migration_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbound_message_migration_id_migration"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbound_message_migration_id"))
        batch_op.drop_column("delivered_ref")
        batch_op.drop_column("error_code")
        batch_op.drop_column("uncertain")
        batch_op.drop_column("in_flight")
        batch_op.drop_column("migration_id")

    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_status"))
        batch_op.drop_index(batch_op.f("ix_reminder_next_at"))
        batch_op.drop_index(batch_op.f("ix_reminder_migration_id"))
        batch_op.drop_index(batch_op.f("ix_reminder_affected_user_id"))

    op.drop_table("reminder")
    with op.batch_alter_table("slack_processed_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_processed_requests_seen_at"))

    op.drop_table("slack_processed_requests")
    op.drop_table("slack_message_copies")
