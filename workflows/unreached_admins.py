"""An approval prompt or the connector's portal steps that chat could not deliver, said rather than left
unsaid: with Slack beside Teams an admin may be on neither as the bot finds them, and the channel heard
"the other admins have the prompt" while the migration sat waiting until the approval expired."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlmodel import Session, col, select

from storage import Migration, OutboundMessage
from storage.outbox import NOT_IN_CHAT
from workflows import notices
from workflows._codec import decode
from workflows.results import MigrationStatus
from workflows.results_approving import AdminUnreached

_MISSED: dict[str, Literal["approval_prompt", "portal_steps"]] = {
    notices.APPROVAL_PROMPT: "approval_prompt",
    notices.PORTAL_STEPS: "portal_steps",
}
"""The notices an admin must act on: one that reached nobody is told to the other admins."""


def record(
    session: Session,
    message: OutboundMessage,
    now: datetime,
    *,
    code: str | None,
    reason: str,
    surfaces: tuple[str, ...],
) -> bool:
    """`message` could not reach its person for good through the bot's chat `surfaces`, failing with `code`
    for `reason`: when it is an approver's prompt or the portal steps, the admins are told whom it missed
    (queued with the others' notices); True when told now."""
    missed = _MISSED.get(message.kind)
    if missed is None or message.migration_id is None or message.recipient.startswith(notices.CHANNEL_PREFIX):
        return False
    row = session.get(Migration, message.migration_id)
    if row is None or notices.every_admin(row, message.payload.get("shared_with") or ()) == [
        message.recipient
    ]:
        return False  # nobody else to tell
    why = _why(code, reason)
    unreached = _unreached(message, missed, why, row.organization, row.directory_name, surfaces)
    return notices.admin_unreached(session, row, message, unreached, now)


def of_migration(session: Session, status: MigrationStatus) -> tuple[AdminUnreached, ...]:
    """While it matters (the approval pending, or the connection awaited), whom its prompt or portal steps
    could not reach, for `status` to say."""
    if status.state == "awaiting_approval" and status.pending_approval_id:
        kind, thread = notices.APPROVAL_PROMPT, notices.approval_thread(status.pending_approval_id)
    elif status.state == "connecting":
        kind, thread = notices.PORTAL_STEPS, None
    else:
        return ()
    failed = session.exec(
        select(OutboundMessage)
        .where(OutboundMessage.migration_id == status.id)
        .where(OutboundMessage.kind == kind)
        .where(OutboundMessage.status == "failed")
        .order_by(col(OutboundMessage.id))
    ).all()
    return tuple(
        _unreached(
            message,
            _MISSED[kind],
            _why(message.error_code, message.last_error or "no reason given"),
            status.organization,
            status.directory_name,
            _told_surfaces(session, message),
        )
        for message in failed
        if thread is None or message.payload.get("updates") == thread
    )


def _why(code: str | None, reason: str) -> str:
    """Why it missed, worded for its kind: only `NOT_IN_CHAT` is about the person (no account, no chat with
    the bot, the bot blocked), and its reason says so; any other failure is the chat platform's or the
    bot's app's (an outage outlasting the retries, the app refused or lacking a permission), which the
    admins look at there rather than at the person."""
    return reason if code == NOT_IN_CHAT else f"sending failed on the bot's side, not theirs: {reason}"


def _told_surfaces(session: Session, message: OutboundMessage) -> tuple[str, ...]:
    """The surfaces the admins were told they could point the person to when `message` failed: `status`
    says the same; none when they were not told (nobody else to tell)."""
    told = session.exec(
        select(OutboundMessage).where(OutboundMessage.idempotency_key == notices.unreached_key(message))
    ).first()
    return decode(AdminUnreached, told.payload["unreached"]).surfaces if told is not None else ()


def _unreached(
    message: OutboundMessage,
    missed: Literal["approval_prompt", "portal_steps"],
    why: str,
    organization: str,
    directory: str,
    surfaces: tuple[str, ...],
) -> AdminUnreached:
    thread = str(message.payload.get("updates") or "")  # `approval:N` or `portal:N`
    approval_id = int(thread.rpartition(":")[2] or 0)
    return AdminUnreached(missed, message.recipient, why, organization, approval_id, directory, surfaces)
