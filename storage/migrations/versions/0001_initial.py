"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "migration",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization", sa.String(), nullable=False),
        sa.Column("tenant_id", sa.String(), nullable=False),
        sa.Column("tenant_name", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("previous_state", sa.String(), nullable=True),
        sa.Column("blocked_reason", sa.Text(), nullable=True),
        sa.Column("blocked_fix", sa.Text(), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("plan_fingerprint", sa.String(), nullable=True),
        sa.Column("started_by_id", sa.String(), nullable=False),
        sa.Column("started_by_email", sa.String(), nullable=False),
        sa.Column("started_by_name", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=True),
        sa.Column("invite_recheck_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_migration")),
    )
    with op.batch_alter_table("migration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_migration_organization"), ["organization"], unique=False)
        batch_op.create_index(batch_op.f("ix_migration_state"), ["state"], unique=False)

    op.create_table(
        "active_migration",
        sa.Column("organization_key", sa.String(), nullable=False),
        sa.Column("migration_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["migration_id"], ["migration.id"], name=op.f("fk_active_migration_migration_id_migration")
        ),
        sa.PrimaryKeyConstraint("organization_key", name=op.f("pk_active_migration")),
        sa.UniqueConstraint("migration_id", name=op.f("uq_active_migration_migration_id")),
    )
    op.create_table(
        "outbound_message",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_message")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbound_message_idempotency_key")),
    )
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbound_message_status"), ["status"], unique=False)

    op.create_table(
        "affected_user",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("migration_id", sa.Integer(), nullable=False),
        sa.Column("entitlement_id", sa.String(), nullable=False),
        sa.Column("principal_name", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("chat_user_id", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["migration_id"], ["migration.id"], name=op.f("fk_affected_user_migration_id_migration")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affected_user")),
        sa.UniqueConstraint(
            "migration_id", "entitlement_id", name=op.f("uq_affected_user_migration_id_entitlement_id")
        ),
    )
    with op.batch_alter_table("affected_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_affected_user_chat_user_id"), ["chat_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_affected_user_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_affected_user_migration_id"), ["migration_id"], unique=False)

    op.create_table(
        "approval",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("migration_id", sa.Integer(), nullable=False),
        sa.Column("plan_fingerprint", sa.String(), nullable=False),
        sa.Column("requested_by_id", sa.String(), nullable=False),
        sa.Column("requested_by_email", sa.String(), nullable=False),
        sa.Column("requested_by_name", sa.String(), nullable=False),
        sa.Column("approvers_required", sa.Integer(), nullable=False),
        sa.Column("approvals", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["migration_id"], ["migration.id"], name=op.f("fk_approval_migration_id_migration")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval")),
    )
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approval_migration_id"), ["migration_id"], unique=False)

    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("migration_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(), nullable=False),
        sa.Column("actor_email", sa.String(), nullable=False),
        sa.Column("actor_name", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("state_before", sa.String(), nullable=True),
        sa.Column("state_after", sa.String(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["migration_id"], ["migration.id"], name=op.f("fk_audit_entry_migration_id_migration")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_migration_id"), ["migration_id"], unique=False)

    op.create_table(
        "invitation",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("migration_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("entitlement_id", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("invited_user_id", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["migration_id"], ["migration.id"], name=op.f("fk_invitation_migration_id_migration")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation")),
        sa.UniqueConstraint("migration_id", "email", name=op.f("uq_invitation_migration_id_email")),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_migration_id"), ["migration_id"], unique=False)

    op.create_table(
        "approval_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=False),
        sa.Column("approver_id", sa.String(), nullable=False),
        sa.Column("approver_email", sa.String(), nullable=False),
        sa.Column("approver_name", sa.String(), nullable=False),
        sa.Column("approve", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approval_id"], ["approval.id"], name=op.f("fk_approval_decision_approval_id_approval")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_decision")),
        sa.UniqueConstraint(
            "approval_id", "approver_id", name=op.f("uq_approval_decision_approval_id_approver_id")
        ),
    )
    with op.batch_alter_table("approval_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approval_decision_approval_id"), ["approval_id"], unique=False)

    op.create_table(
        "todo_item",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("affected_user_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["affected_user_id"],
            ["affected_user.id"],
            name=op.f("fk_todo_item_affected_user_id_affected_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_todo_item")),
        sa.UniqueConstraint("affected_user_id", "key", name=op.f("uq_todo_item_affected_user_id_key")),
    )
    with op.batch_alter_table("todo_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_todo_item_affected_user_id"), ["affected_user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("todo_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_todo_item_affected_user_id"))

    op.drop_table("todo_item")
    with op.batch_alter_table("approval_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_decision_approval_id"))

    op.drop_table("approval_decision")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_migration_id"))

    op.drop_table("invitation")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_migration_id"))

    op.drop_table("audit_entry")
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_migration_id"))

    op.drop_table("approval")
    with op.batch_alter_table("affected_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_affected_user_migration_id"))
        batch_op.drop_index(batch_op.f("ix_affected_user_email"))
        batch_op.drop_index(batch_op.f("ix_affected_user_chat_user_id"))

    op.drop_table("affected_user")
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_message_status"))

    op.drop_table("outbound_message")
    with op.batch_alter_table("migration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_migration_state"))
        batch_op.drop_index(batch_op.f("ix_migration_organization"))

    op.drop_table("active_migration")
    op.drop_table("migration")
