"""What the workflow tells people, recorded in the outbox in the very transaction of the change it tells
about: either the change and its notices are both stored, or neither is. A kill -9 right after the commit
loses nothing; the outbox worker of whichever surface runs next renders and sends each notice once.

A notice is a typed, surface-neutral row: its kind, its recipient (an email, or `channel:ID` for the
migration's channel) and the result value it tells about; no chat formatting is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from storage import Migration, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from storage.outbox_threads import message_thread, supersede
from workflows._codec import encode
from workflows.identities import Reach
from workflows.results import Actor, MigrationStatus
from workflows.results_approving import AdminUnreached, ApprovalRequest, ConnectionResult, DecisionResult
from workflows.results_closing import CalledOff, LeftBehind

STARTED = "migration_started"
APPROVAL_PROMPT = "approval_prompt"
APPROVAL_PEOPLE = "approval_people"
PEOPLE_SETTLED = "approval_people_settled"
APPROVAL_DECISION = "approval_decision"
APPROVED = "approval_approved"
PORTAL_STEPS = "portal_steps"
CONNECTION = "connection_notice"
COMPLETED = "migration_completed"
CANCELLED = "migration_cancelled"
CALLED_OFF = "migration_called_off"
PORTAL_WITHDRAWN = "portal_steps_withdrawn"
ADMIN_UNREACHED = "admin_unreached"
KINDS = (
    STARTED,
    APPROVAL_PROMPT,
    APPROVAL_PEOPLE,
    PEOPLE_SETTLED,
    APPROVAL_DECISION,
    APPROVED,
    PORTAL_STEPS,
    CONNECTION,
    COMPLETED,
    CANCELLED,
    CALLED_OFF,
    PORTAL_WITHDRAWN,
    ADMIN_UNREACHED,
)
"""Every notice kind: a renderer must know each one."""
CHANNEL_PREFIX = "channel:"


def approval_thread(approval_id: int) -> str:
    """Every copy of one approval prompt shares this key: the decision updates them all."""
    return f"approval:{approval_id}"


def people_thread(approval_id: int, approver: str) -> str:
    """An approver's message naming whom an approval affects: settling the approval updates it."""
    return f"approval-people:{approval_id}:{approver.casefold()}"


def portal_thread(approval_id: int) -> str:
    """The connector's portal steps: a cancel updates them to say "do not connect"."""
    return f"portal:{approval_id}"


def admins_address(row: Migration) -> str:
    """The migration's channel, or its starter by direct message when it was started outside one."""
    return f"{CHANNEL_PREFIX}{row.channel_id}" if row.channel_id else row.started_by_email


def every_admin(row: Migration, admins: Sequence[str]) -> list[str]:
    """Where a notice every admin must see goes (approved, connected, billing due, whom a prompt missed):
    the migration's channel; started in a direct message, which only its starter reads, each of `admins`
    privately too, the starter first."""
    if row.channel_id:
        return [admins_address(row)]
    by_address = {address.strip().casefold(): address.strip() for address in reversed(admins)}
    by_address.pop("", None)
    by_address.pop(row.started_by_email.strip().casefold(), None)
    return [row.started_by_email, *reversed(by_address.values())]


def to_every_admin(
    key: str, recipients: Sequence[str], kind: str, payload: dict[str, Any]
) -> list[NewMessage]:
    """One notice per recipient of `every_admin`: the first keeps `key` (the channel's, or the starter's, as
    before there were more), the others' keys name them."""
    return [
        NewMessage(key if n == 0 else f"{key}-{recipient.casefold()}", recipient, kind, payload)
        for n, recipient in enumerate(recipients)
    ]


def started(session: Session, row: Migration, status: MigrationStatus, now: datetime) -> None:
    """The start's summary, with the result of the first prerequisite check: whichever step commits that
    result (`start`, or a `resume` after the process that started it died mid-check) tells it, once."""
    starter = Actor(row.started_by_id, row.started_by_email, row.started_by_name)
    key = f"migration-{row.id}-started"
    told = {"status": encode(status), "actor": encode(starter)}
    _record(session, row, key, admins_address(row), STARTED, now, told)


def approval_prompt(
    session: Session, row: Migration, request: ApprovalRequest, approvers: Sequence[str], now: datetime
) -> None:
    """The prompt, in the channel and to each approver: they have it with its buttons.

    Slack and Teams keep every copy of a prompt equal (a post updates the others, so that the decision shows
    on all): with a copy in a channel, every copy is the channel's, which names nobody (people's names are
    their addresses), and each approver also gets whom it affects by name, in a message of its own, which
    settling the approval updates (`people_thread`; shared with them alone: Teams shows a shared card's
    buttons to those it names)."""
    thread = approval_thread(request.approval_id)
    step = f"approval-{request.approval_id}"
    channel = admins_address(row)
    in_channel = channel.startswith(CHANNEL_PREFIX)
    told = {
        "request": encode(request),
        "updates": thread,
        "shared_with": list(approvers),
        "in_channel": in_channel,
    }
    notices = [
        NewMessage(f"{step}-prompt-{recipient}", recipient, APPROVAL_PROMPT, told)
        for recipient in dict.fromkeys([*approvers, channel])
    ]
    if in_channel:
        named = {"request": encode(request)}
        notices += [
            NewMessage(
                f"{step}-people-{person}",
                person,
                APPROVAL_PEOPLE,
                named | {"updates": people_thread(request.approval_id, person), "shared_with": [person]},
            )
            for person in approvers
        ]
    _record_all(session, row, notices, now)


def decision(
    session: Session,
    row: Migration,
    result: DecisionResult,
    decider: Actor,
    now: datetime,
    watch_every: timedelta,
    admins: Sequence[str] = (),
) -> None:
    """Every copy of the prompt shows the decision (a prompt still waiting to be sent never will be), and
    so, once it is settled, does each approver's message naming whom it affects; once approved, the
    connector gets the portal steps (with how often the watch looks) and the channel (or, started in a
    direct message, each of `admins`) hears who connects."""
    thread = approval_thread(result.approval_id)
    supersede(session, kinds=(APPROVAL_PROMPT, APPROVAL_DECISION), thread=thread, before=now)
    told = {"result": encode(result), "decider": encode(decider)}
    step = f"approval-{result.approval_id}"
    closed = told | {"updates": thread}
    key = f"{step}-{result.outcome}-{result.approvals}"
    notices = [NewMessage(key, admins_address(row), APPROVAL_DECISION, closed)]
    if result.outcome != "recorded":  # an approval still short of approvers still needs the names
        notices += _people_settled(session, row, result.approval_id, told | {"at": now.isoformat()}, now)
    if result.outcome == "approved":
        connector = result.connector or decider
        steps = {
            "status": encode(result.status),
            "connector": encode(connector),
            "watch_seconds": watch_every.total_seconds(),
            "updates": portal_thread(result.approval_id),
        }
        notices.append(NewMessage(f"{step}-portal-steps", connector.email, PORTAL_STEPS, steps))
        notices.extend(to_every_admin(f"{step}-approved", every_admin(row, admins), APPROVED, told))
    _record_all(session, row, notices, now)


def _people_settled(
    session: Session, row: Migration, approval_id: int, told: dict[str, Any], now: datetime
) -> list[NewMessage]:
    """Each approver's message naming whom the approval affects, now that it is settled: one sent (or that
    may be) is updated to say how and no longer names them; one not begun never goes."""
    settled: list[NewMessage] = []
    this_approvals = message_thread.startswith(people_thread(approval_id, ""), autoescape=True)
    named = _NAMED.where(col(OutboundMessage.migration_id) == row.id, this_approvals)
    for key, recipient, thread, sent, in_flight, uncertain in session.execute(named).all():
        if sent == "pending" and not in_flight and not uncertain:
            supersede(session, kinds=(APPROVAL_PEOPLE,), thread=thread, before=now)
        elif sent in ("pending", "sent"):
            updated = told | {"updates": thread}
            settled.append(NewMessage(f"{key}-settled", recipient, PEOPLE_SETTLED, updated))
    return settled


_NAMED = select_columns(
    col(OutboundMessage.idempotency_key),
    col(OutboundMessage.recipient),
    message_thread,
    col(OutboundMessage.status),
    col(OutboundMessage.in_flight),
    col(OutboundMessage.uncertain),
).where(col(OutboundMessage.kind) == APPROVAL_PEOPLE)
"""The approvers' messages naming whom an approval affects, as `_people_settled` needs them: not the names
(their payloads), which it would only throw away."""


def connection(
    session: Session,
    row: Migration,
    result: ConnectionResult,
    now: datetime,
    *,
    admins: Sequence[str] = (),
    unlisted: str = "",
) -> bool:
    """Connected (once), or connected to another directory (once per directory seen); True the first time.
    `admins` hear it by direct message too, with the names of whom it locks out and whom to map; the
    channel's copy counts them and says who has the names (`privately`), or why the admins could not be
    listed (`unlisted`)."""
    seen = "" if result.outcome == "connected" else f"-{result.observed_tenant_id}"
    key = f"migration-{row.id}-{result.outcome}{seen}"
    told = {"result": encode(result)}
    channel = admins_address(row)
    # started by direct message: the channel is the starter
    private = [admin for admin in admins if admin.casefold() != channel.casefold()]
    shared = told | {"privately": private, "unlisted": unlisted} if row.channel_id else told
    notices = [NewMessage(key, channel, CONNECTION, shared)]
    notices += [NewMessage(f"{key}-{admin}", admin, CONNECTION, told) for admin in private]
    return _record_all(session, row, notices, now)


def closed(
    session: Session,
    row: Migration,
    status: MigrationStatus,
    actor: Actor,
    now: datetime,
    *,
    left: LeftBehind | None = None,
    told: Sequence[CalledOff] = (),
) -> None:
    """Completed (with who it left behind) or cancelled (with who was told it is off): the channel hears
    it once."""
    kind = COMPLETED if status.state == "completed" else CANCELLED
    key = f"migration-{row.id}-{status.state}"
    payload = {"status": encode(status), "actor": encode(actor), "left": encode(left), "told": encode(told)}
    _record(session, row, key, admins_address(row), kind, now, payload)


def called_off(
    session: Session,
    row: Migration,
    told: Sequence[tuple[CalledOff, Reach]],
    now: datetime,
    follows: Mapping[str, Mapping[str, object]] | None = None,
) -> None:
    """Each person who heard of the move (announced, or invited as a guest) hears it is off, once; after
    the news to them being sent that it stops (`follows`, by casefolded address: `list_messages.following`
    gives each)."""
    after = follows or {}
    notices = [
        NewMessage(
            f"migration-{row.id}-called-off-{person.email.casefold()}",
            reach.recipient,
            CALLED_OFF,
            {"person": encode(person), **reach.payload(), **after.get(person.email.casefold(), {})},
        )
        for person, reach in told
    ]
    _record_all(session, row, notices, now)


def portal_withdrawn(
    session: Session, row: Migration, approval_id: int, connector: str, status: MigrationStatus, now: datetime
) -> None:
    """The connector's portal steps, updated to "do not connect" (never sent at all if still waiting)."""
    thread = portal_thread(approval_id)
    supersede(session, kinds=(PORTAL_STEPS,), thread=thread, before=now)
    told = {"status": encode(status), "updates": thread}
    _record(session, row, f"approval-{approval_id}-portal-withdrawn", connector, PORTAL_WITHDRAWN, now, told)


def admin_unreached(
    session: Session, row: Migration, missed: OutboundMessage, unreached: AdminUnreached, now: datetime
) -> bool:
    """The admins hear, once per `missed` notice, that an approver's prompt or the connector's portal steps
    reached nobody, and what to do instead: in a direct message, each admin the prompt went to."""
    others = [str(admin) for admin in missed.payload.get("shared_with") or ()]
    recipients = [each for each in every_admin(row, others) if each.casefold() != missed.recipient.casefold()]
    told = to_every_admin(
        unreached_key(missed), recipients, ADMIN_UNREACHED, {"unreached": encode(unreached)}
    )
    return _record_all(session, row, told, now)


def unreached_key(missed: OutboundMessage) -> str:
    """The key of the admins' notice that `missed` (an approver's prompt, the portal steps) reached nobody."""
    return f"{missed.idempotency_key}-unreached"


def _record(
    session: Session,
    row: Migration,
    key: str,
    recipient: str,
    kind: str,
    now: datetime,
    payload: dict[str, Any],
) -> bool:
    """Queue the notice unless it was queued before; True when queued now."""
    return _record_all(session, row, [NewMessage(key, recipient, kind, payload)], now)


def _record_all(session: Session, row: Migration, notices: Sequence[NewMessage], now: datetime) -> bool:
    """Queue each notice (its migration added) unless it was queued before, their keys looked up together:
    one read for a decision's three notices, not one each. True when any was queued now; a notice to nobody
    (a person with no email: the reply to whoever acted says it) never is."""
    assert row.id is not None
    to_tell = [
        replace(notice, payload=notice.payload | {"migration_id": row.id}, migration_id=row.id)
        for notice in notices
        if notice.recipient
    ]
    # a queued row gets its id when flushed: one with an id was there before
    return any(message.id is None for message in enqueue_all(session, to_tell, now=now))
