"""An outbox row as the message it stands for: the payload is read here, the words come from the views."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.conversation import (
    announcement_views,
    approval_views,
    closing_views,
    digest_views,
    invitation_views,
    item_help_views,
    list_message_views,
    reminder_views,
    sign_in_views,
    starting_views,
)
from bot.conversation.messages import Channel, DirectMessage, Message, greeting_name, sent_again
from bot.delivery.notices import CHAT_MESSAGE, ChatNotice
from bot.delivery.sender import Envelope
from storage import OutboundMessage
from storage.outbox import SENT_AGAIN_KEY
from workflows import help_requests, invitation_wait, notices
from workflows._codec import decode
from workflows.results import Actor, MigrationStatus
from workflows.results_approving import AdminUnreached, ApprovalRequest, ConnectionResult, DecisionResult
from workflows.results_closing import CalledOff, LeftBehind
from workflows.results_todo_lists import TodoEntry
from workflows.stages import left_behind_notes, list_messages, mapped_identities, told_early
from workflows.stages.verification import StillPersonal
from workflows.todo import ACCEPT_INVITATION


def envelope_of(message: OutboundMessage, *, accept_url: str | None = None) -> Envelope:
    """`accept_url`: the recipient's own link to accept their invitation (`redeem_links.for_list`, for a
    message it is `offered` to), which their list's *Accept the invitation* item offers."""
    payload = message.payload
    updates: str | None = None
    match message.kind:
        case kind if kind == CHAT_MESSAGE:
            notice = ChatNotice.from_payload(payload)
            rendered, updates = notice.message, notice.updates
        case kind if kind in notices.KINDS:
            rendered = _notice(kind, payload, shared=message.recipient.startswith(notices.CHANNEL_PREFIX))
            updates = payload.get("updates")
        case list_messages.TODO_LIST_MESSAGE:
            rendered = list_message_views.todo_list_dm(
                organization=payload["organization"],
                tenant=str(payload.get("tenant") or ""),
                name=_name(payload),
                notes=[str(note) for note in payload.get("notes", [])],
                items=_entries(payload, accept_url),
                # absent from lists queued before they said it (a notice then said it after)
                waiting_item=str(payload.get("waiting_item") or ""),
                admins=[str(admin) for admin in payload.get("admins", [])],
                awaits_mapping=bool(payload.get("awaits_mapping")),  # absent before it was said
                mailed=bool(payload.get("mailed")),  # absent before it was said
            )
        case list_messages.INVITED_MESSAGE:
            rendered = list_message_views.invited_after_connecting_dm(
                organization=payload["organization"],
                tenant=str(payload.get("tenant") or ""),
                name=_name(payload),
                items=_entries(payload, accept_url),
                invited=bool(payload.get("invited", True)),
                refused=bool(payload.get("refused")),
            )
        case list_messages.DECIDED_MESSAGE:
            rendered = list_message_views.account_decided_dm(
                organization=payload["organization"],
                name=_name(payload),
                account=str(payload["account"]),
                items=_entries(payload, accept_url),
                corrects=str(payload.get("corrects") or ""),  # absent before an account could change
                carried_over=bool(payload.get("carried_over")),  # absent before a guest's could
                dropped=[f"{item['number']}. {item['title']}" for item in payload.get("dropped", [])],
                own_address=str(payload.get("email") or ""),
            )
        case list_messages.ACCESS_KEPT_MESSAGE:
            rendered = list_message_views.access_kept_dm(
                organization=payload["organization"],
                name=_name(payload),
                account=str(payload["account"]),
                corrects=bool(payload["corrects"]),
                items=_entries(payload, accept_url),
                carried_over=bool(payload.get("carried_over")),
                own_address=str(payload.get("email") or ""),
            )
        case list_messages.LOST_ACCESS_MESSAGE:
            rendered = list_message_views.access_lost_dm(
                organization=payload["organization"],
                tenant=str(payload.get("tenant") or ""),
                name=_name(payload),
                decided_by=str(payload["decided_by"]),
                case=str(payload["case"]),
                withdraws=bool(payload.get("withdraws")),  # not in notices queued before it existed
                told_early=bool(payload.get("told_early")),
                takes_back=bool(payload.get("takes_back", True)),  # not in notices queued before it existed
                connected=bool(payload.get("connected", True)),  # only told early before connecting
            )
        case told_early.ACCESS_BACK_MESSAGE:
            rendered = list_message_views.access_back_dm(
                organization=payload["organization"],
                name=_name(payload),
                account=str(payload["account"]),
                connected=bool(payload["connected"]),
                own_address=str(payload.get("email") or ""),
            )
        case "advance_notice":
            rendered = announcement_views.advance_notice_dm(
                organization=payload["organization"],
                tenant=str(payload["tenant"]),
                name=_name(payload),
                when=str(payload.get("when") or ""),
                lines=[str(line) for line in payload["lines"]],
            )
        case list_messages.REMINDER_MESSAGE if payload.get("waiting_item"):
            rendered = reminder_views.waiting_reminder(
                organization=payload["organization"],
                name=_name(payload),
                sender=str(payload.get("sender") or ""),
                waiting_item=str(payload["waiting_item"]),
                admins=[str(admin) for admin in payload.get("admins", [])],  # absent before it was told
                mailed=bool(payload.get("mailed")),  # absent before it was said
            )
        case list_messages.REMINDER_MESSAGE:
            rendered = reminder_views.todo_reminder(
                organization=payload["organization"],
                name=_name(payload),
                items=_entries(payload, accept_url),
                total=int(payload["total"]),
                reminder_id=int(payload["reminder_id"]),
                sender=str(payload.get("sender") or ""),  # absent from reminders queued before it was told
                awaits_mapping=bool(payload.get("awaits_mapping")),
            )
        case "straggler_digest":
            rendered = digest_views.straggler_digest(
                organization=payload["organization"],
                users=int(payload["users"]),
                stragglers=[
                    (str(e), str(n), int(left), int(total)) for e, n, left, total in payload["stragglers"]
                ],
                unreachable=int(payload.get("unreachable", 0)),
                # absent from digests queued before it was counted
                finished=int(payload["finished"]) if "finished" in payload else None,
                not_signed_in=[(str(e), str(n)) for e, n in payload.get("not_signed_in", [])],
                grace_working_days=int(payload.get("grace_working_days", 0)),
                still_personal=[
                    StillPersonal("", str(name), str(outcome), str(step))
                    for name, outcome, step in payload.get("still_personal", [])
                ],
                # a payload queued before the bare address was added names them by it alone
                waiting=[
                    digest_views.Waiting(
                        str(row[0]),
                        str(row[1]),
                        str(row[3]),
                        str(row[4] if len(row) > 4 else row[0]),
                        bool(row[5]) if len(row) > 5 else False,  # absent before it was said
                        _waiting_delivery(row[6] if len(row) > 6 else False),
                    )
                    for row in payload.get("waiting", [])
                ],
                maybe_sent=[str(who) for who in payload.get("maybe_sent", [])],  # absent before it was said
                failed=[str(who) for who in payload.get("failed", [])],  # absent before it was said
                lost=[(str(email), str(by)) for email, by in payload.get("lost_access", [])],
                named=not message.recipient.startswith(notices.CHANNEL_PREFIX),
            )
        case left_behind_notes.LEFT_BEHIND_MESSAGE:
            rendered = closing_views.left_behind_dm(
                organization=payload["organization"],
                tenant=str(payload.get("tenant") or ""),
                name=_name(payload),
                closed_by=str(payload["closed_by"]),
                items=_entries(payload),
                waiting_item=str(payload.get("waiting_item") or ""),
                mailed=bool(payload.get("mailed")),  # absent before it was said
            )
        case "sign_in_verified":
            rendered = sign_in_views.sign_in_verified_dm(
                organization=payload["organization"],
                name=_name(payload),
                title=str(payload["title"]),
                account=str(payload.get("account") or "work account"),  # queued before it was said
            )
        case invitation_wait.WAIT_OVER_MESSAGE:
            stuck_since = payload.get("stuck_since")  # none in a message queued before it was said
            rendered = invitation_views.invitation_wait_over(
                organization=payload["organization"],
                count=int(payload["count"]),
                people=[str(address) for address in payload["people"]],
                command=str(payload["command"]),
                state=str(payload["state"]),
                stuck_since=datetime.fromisoformat(stuck_since) if stuck_since else None,
            )
        case mapped_identities.MAPPED_MESSAGE:
            rendered = sign_in_views.identity_mapped_dm(
                organization=payload["organization"],
                name=_name(payload),
                account=str(payload["account"]),
                planned=str(payload.get("planned") or ""),
                elsewhere=bool(payload.get("elsewhere")),  # queued before it was said: as planned
                items=_entries(payload),
            )
        case mapped_identities.ELSEWHERE_MESSAGE:
            rendered = sign_in_views.identity_mapped_elsewhere_dm(
                organization=payload["organization"],
                person=str(payload["principal_name"]),
                account=str(payload["account"]),
                planned=str(payload.get("planned") or ""),
                told=bool(payload.get("told", True)),  # queued before it was said: as it said then
            )
        case "billing_moved":
            rendered = reminder_views.billing_moved(
                organization=payload["organization"], message=str(payload["message"])
            )
        case "billing_reminder":
            rendered = reminder_views.billing_reminder(
                organization=payload["organization"],
                message=payload["message"],
                steps=[str(step) for step in payload["steps"]],
                deadline=payload["deadline"],
                missed=payload.get("missed"),
                every_working_days=int(payload.get("every_working_days") or 0),
            )
        case "help_request":
            rendered = item_help_views.help_request(
                name=str(payload.get("name", "")),  # absent from a channel's copy (`help_requests._shown_to`)
                email=str(payload.get("email", "")),
                reach=str(payload.get("reach", "")),  # absent before it was said
                title=str(payload.get("title", "")),
                key=str(payload.get("key", "")),
                question=str(payload.get("question", "")),
                chose=str(payload.get("chose", "")),
                choosing=_choosing(payload),
                withheld=str(payload.get("withheld", "")),
                sent_privately=bool(payload.get("sent_privately")),
            )
            updates = payload.get("updates")  # an admin's card a decision updates
        case help_requests.CHOICE_SETTLED:
            rendered = item_help_views.choice_settled(
                name=str(payload["name"]),
                email=str(payload["email"]),
                organization=str(payload["organization"]),
                person=str(payload["person_address"]),
                account=str(payload["account"]),
                decided_by=str(payload["decided_by"]),
                chose=str(payload.get("chose", "")),
            )
            updates = str(payload["updates"])
        case other:
            raise ValueError(f"unknown message kind {other!r}")
    if payload.get(SENT_AGAIN_KEY):
        rendered = sent_again(rendered)
    return Envelope(
        message.idempotency_key,
        addressee_of(message),
        rendered,
        check_first=message.uncertain,
        updates=updates,
        shared_with=tuple(str(email) for email in payload.get("shared_with", ())),
        migration_id=message.migration_id,
    )


def addressee_of(message: OutboundMessage) -> DirectMessage | Channel:
    """Where the message goes, read without rendering it."""
    recipient, payload = message.recipient, message.payload
    if recipient.startswith(notices.CHANNEL_PREFIX):
        return Channel(recipient.removeprefix(notices.CHANNEL_PREFIX))
    return DirectMessage(
        recipient,
        also=tuple(str(address) for address in payload.get("also", ())),
        directory_id=str(payload["directory_id"]) if payload.get("directory_id") else None,
        candidates=tuple(str(key) for key in payload.get("candidates", ())),
    )


def _notice(kind: str, payload: dict[str, Any], *, shared: bool) -> Message:
    """A notice the workflow recorded with its step, in the words of the views; `shared`: the copy for a
    channel, which names nobody by their address."""
    match kind:
        case notices.STARTED:
            return starting_views.started(
                decode(MigrationStatus, payload["status"]), _actor(payload["actor"]), shared=shared
            )
        case notices.APPROVAL_PROMPT:
            in_channel = payload.get("in_channel", shared)  # absent from prompts queued before it was kept
            return approval_views.approval_prompt(
                decode(ApprovalRequest, payload["request"]), shared=in_channel
            )
        case notices.APPROVAL_PEOPLE:
            return approval_views.approval_people(decode(ApprovalRequest, payload["request"]))
        case notices.PEOPLE_SETTLED:
            return approval_views.people_settled(
                decode(DecisionResult, payload["result"]),
                _actor(payload["decider"]),
                datetime.fromisoformat(payload["at"]),
            )
        case notices.APPROVAL_DECISION:
            return approval_views.decision_closed(
                decode(DecisionResult, payload["result"]), _actor(payload["decider"])
            )
        case notices.APPROVED:
            return approval_views.approved(
                decode(DecisionResult, payload["result"]), _actor(payload["decider"])
            )
        case notices.PORTAL_STEPS:
            return approval_views.portal_steps(
                decode(MigrationStatus, payload["status"]),
                _actor(payload["connector"]),
                watch_seconds=payload.get("watch_seconds"),  # absent from steps recorded before it was kept
            )
        case notices.CONNECTION:
            privately = None
            if shared:  # who has the names the channel's copy leaves out
                told = payload.get("privately") or []  # absent from notices queued before it was kept
                privately = approval_views.Privately(len(told), str(payload.get("unlisted") or ""))
            result = decode(ConnectionResult, payload["result"])
            return approval_views.connection(result, privately=privately).message
        case notices.COMPLETED:
            left = payload.get("left")  # absent from notices queued before it was told
            return closing_views.completed(
                decode(MigrationStatus, payload["status"]),
                decode(LeftBehind, left) if left else None,
                shared_by=_actor(payload["actor"]) if shared else None,
            )
        case notices.CANCELLED:
            return closing_views.cancelled(
                decode(MigrationStatus, payload["status"]),
                _actor(payload["actor"]),
                decode(tuple[CalledOff, ...], payload.get("told") or []),
                shared=shared,
            )
        case notices.CALLED_OFF:
            return closing_views.called_off_dm(decode(CalledOff, payload["person"]))
        case notices.PORTAL_WITHDRAWN:
            return closing_views.portal_withdrawn(decode(MigrationStatus, payload["status"]))
        case notices.ADMIN_UNREACHED:
            return approval_views.admin_unreached(decode(AdminUnreached, payload["unreached"]))
    raise ValueError(f"unknown notice kind {kind!r}")


def _waiting_delivery(said: object) -> str:
    """Where the list of someone waiting stands (`workflows.reach.delivery_of`): a digest queued before it
    was said marks only whether chat could not reach them, or nothing (then they were taken as reached)."""
    if isinstance(said, bool):
        return "not-in-chat" if said else "sent"
    return str(said)


def _name(payload: dict[str, Any]) -> str:
    """How a direct message greets its reader: their first name, or their address without one."""
    return greeting_name(str(payload.get("display_name") or "")) or str(payload["email"])


def _actor(data: dict[str, Any]) -> Actor:
    return decode(Actor, data)


def _choosing(payload: dict[str, Any]) -> item_help_views.Choosing | None:
    """Whom a word to the admins is about, with the accounts to decide between, if several share their
    address (`workflows.help_requests.HelpRequests.tell_choice`)."""
    if not payload.get("choices"):
        return None
    accounts = tuple((str(account), str(name)) for account, name in payload["choices"])
    return item_help_views.Choosing(str(payload["organization"]), str(payload["person"]), accounts)


def _entries(payload: dict[str, Any], accept_url: str | None = None) -> list[TodoEntry]:
    return [
        TodoEntry(
            id=int(item["id"]),
            affected_user_id=int(payload["affected_user_id"]),
            migration_id=int(payload["migration_id"]),
            organization=str(payload["organization"]),
            key=str(item["key"]),
            title=str(item["title"]),
            body=str(item["body"]),
            link=str(item["link"]),
            done_at=datetime.fromisoformat(item["done_at"]) if item.get("done_at") else None,
            done_by=item.get("done_by"),  # none in a payload stored before it carried who ticked it
            number=int(item.get("number", 0)),
            email=str(payload.get("email", "")),
            verified=bool(item.get("verified")),
            accept_url=accept_url if item["key"] == ACCEPT_INVITATION else None,
        )
        for item in payload["items"]
    ]
