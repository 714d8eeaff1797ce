"""An invitation whose answer was lost: the process died (kill -9, SIGTERM) between Microsoft's answer and
its record, or Microsoft's answer never came (a timeout, a dropped connection: `Unanswered`), after a
refusal or not. Either way Graph may have invited the person, and nothing here can tell whether it did.

Each address is claimed (`pending`) before Microsoft is asked, and a claim whose answer never came is
`failed` and says so (`unanswered`), so the next `invite` (or `resume`) looks in the directory first and
never invites twice; it looks even when the plan, re-read since, takes the guest Graph made for the
person's account (`inviting._answers_lost`). One who still has to accept (Graph's `externalUserState` is
`PendingAcceptance`) got their invitation email from that lost call, but its link to accept
(`inviteRedeemUrl`, see `redeem_links`) was never stored, and Graph returns it only in answer to
`POST /invitations`. Inviting an existing guest again answers with a new link, and with
`sendInvitationMessage: false` Microsoft mails nothing (its default; "if you wish to send the redemption URL
through some other means, you can set the sendInvitationMessage to false", the invitation resource,
https://learn.microsoft.com/graph/api/resources/invitation; https://learn.microsoft.com/graph/api/invitation-post,
https://learn.microsoft.com/entra/external-id/reset-redemption-status): so the person gets their link and
still one email, however often it is asked. A guest who has accepted needs no link and stays `found`.

Graph's search by address is eventually consistent (an index of its own, with no documented bound on its
lag: https://learn.microsoft.com/graph/aad-advanced-queries), and the guest's id came in the answer that was
lost: moments after, finding nobody proves nothing, and inviting again would send the person a second email
(for a guest still to accept, an invitation is the admin center's *Resend invitation*, "to send another
email": https://learn.microsoft.com/entra/external-id/add-users-administrator). Nor is a link-only
invitation safe then: if the lost call did nothing, it would make the guest with no email at all, and the
person, who has to accept before the switch, would not know. So for `SEARCH_CATCHES_UP` after the lost
answer nobody is invited again, and `invite` says when it will look; after it, the search is believed: the
guest it shows gets their link alone, and someone it still does not show gets the invitation, and its first
email. One email each either way, unless the search lags longer than that.

Nobody would otherwise think of that `invite` once the wait is over, and the person, who has to accept before
the switch, might never hear: each lost answer (re)opens the migration's `WAIT_OVER` schedule for the moment
its search is believed, in the transaction that records it, and `workflows.invitation_wait` tells the admin
when the wait is over."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, case, update
from sqlmodel import Session, col, select

from storage import Invitation, Reminder
from storage.inserts import insert_once
from workflows.directory import (
    DirectoryUser,
    InvitePermissionDenied,
    MicrosoftError,
    MissingPermission,
    Unanswered,
)
from workflows.results import Actor, InvitationOutcome
from workflows.stages.unit import Unit, commit, hhmm, note

SEARCH_CATCHES_UP = timedelta(minutes=10)
"""How long after a lost answer Graph's search by address is not believed when it finds nobody: a new guest
usually shows within seconds or minutes, and waiting costs the person a while, not a second email. As long
as a step's default lease (`WorkflowSettings.step_lease`), so a step resumed after its process died waiting
does not wait again."""

RECOVERED = "invited before the interruption; link recovered"

_UNFETCHED = "invited before the interruption; its link could not be fetched"

_UNANSWERED = "no answer came, so the invitation may have gone out"

WAIT_OVER = "invitation_wait"
"""The `Reminder.kind` of a migration's wait for Graph's search: one schedule a migration, due when the
newest lost answer's search is believed (`believed_at`)."""


def wait_key(migration_id: int) -> str:
    """The `Reminder.key` of the migration's `WAIT_OVER` schedule."""
    return f"{WAIT_OVER}:{migration_id}"


def unanswered(error: Unanswered) -> str:
    """What a `failed` claim records when Microsoft's answer never came: `invite` again looks first."""
    return f"{_UNANSWERED} ({error})"


def asked_unanswered(claim: Invitation) -> bool:
    """Whether Microsoft was asked for this claim's invitation and the answer never recorded: the process
    died waiting (`pending`), the answer never came (`unanswered`), or this module's own fetch of the link
    failed. Any other `failed` claim had an answer (Graph refused it, say), so a guest found since was
    invited by someone else (an admin in the portal) and is theirs: a link-only call on their invitation
    would be recorded as ours. A guest found after a lost answer may be someone else's too, as after a
    death: either way a link-only call sends no email and gives the person a link of their own guest."""
    return claim.status == "pending" or (
        claim.status == "failed" and (claim.result or "").startswith((_UNFETCHED, _UNANSWERED))
    )


def awaits_search(claim: Invitation) -> bool:
    """Whether Microsoft's answer to this claim was lost and nothing has shown its guest since: the process
    died waiting (`pending`) or the answer never came (`unanswered`), so Graph's search decides, once it is
    believed (`believed_at`). Not a claim whose link could not be fetched: the search showed its guest, and
    its email went out; the next `invite` asks for the link again at any time."""
    return asked_unanswered(claim) and not mailed(claim)


def mailed(claim: Invitation) -> bool:
    """Whether this claim's invitation email went out though its link is missing: the search showed its guest
    still to accept (`recover_link`), so the lost call invited them, and only the link-only call failed. The
    next `invite` asks for the link again, with no second email."""
    return claim.status == "failed" and (claim.result or "").startswith(_UNFETCHED)


def lost_answers(session: Session, migration_id: int, entitlement_id: str | None = None) -> list[Invitation]:
    """The migration's claims (one person's, with `entitlement_id`) whose answer was lost and not made good
    since (`asked_unanswered`): the invitation may have gone out, and the bot has no link of it."""
    claims = _claims(session, migration_id, ("pending", "failed"), entitlement_id)
    return [claim for claim in claims if asked_unanswered(claim)]


def in_doubt(session: Session, migration_id: int) -> dict[str, str]:
    """The migration's people whose invitation may have gone out unrecorded (`lost_answers`), by
    entitlement id: the address it may have gone to. The admins' next `invite` finds out."""
    return {claim.entitlement_id: claim.email for claim in lost_answers(session, migration_id)}


def mailed_unlinked(session: Session, migration_id: int) -> set[str]:
    """The entitlement ids among `in_doubt` whose email is known to have gone out (`went_out`)."""
    return {claim.entitlement_id for claim in lost_answers(session, migration_id) if mailed(claim)}


def went_out(lost: Iterable[Invitation]) -> bool:
    """Whether one person's `lost_answers` show their invitation email went out: one `mailed` claim is an
    email they got, whatever became of another address's. Their item, reminder, digest row and FAQ answer
    all say so from this."""
    return any(map(mailed, lost))


def mailed_to(session: Session, migration_id: int, entitlement_id: str) -> bool:
    """Whether this person is among `mailed_unlinked`: their item says the email went out."""
    return went_out(lost_answers(session, migration_id, entitlement_id))


def refused(session: Session, migration_id: int) -> dict[str, Invitation]:
    """The migration's people whose invitation Microsoft answered with a refusal, by entitlement id: a 403
    (`denied`) or another answer (`failed`, not `asked_unanswered`). None went out."""
    claims = _claims(session, migration_id, ("denied", "failed"))
    return {claim.entitlement_id: claim for claim in claims if not asked_unanswered(claim)}


def _claims(
    session: Session, migration_id: int, statuses: tuple[str, ...], entitlement_id: str | None = None
) -> Sequence[Invitation]:
    query = select(Invitation).where(
        Invitation.migration_id == migration_id, col(Invitation.status).in_(statuses)
    )
    if entitlement_id is not None:
        query = query.where(Invitation.entitlement_id == entitlement_id)
    return session.exec(query).all()


def believed_at(claim: Invitation) -> datetime:
    """When Graph's search is believed about the person of a claim whose answer was lost."""
    return claim.updated_at + SEARCH_CATCHES_UP


def too_soon(unit: Unit, claim: Invitation, email: str, now: datetime) -> InvitationOutcome | None:
    """For a claim whose answer was lost and whose guest the directory does not show: while its search may
    not show them yet, the outcome that says so (`unknown`), with Microsoft asked nothing; None once it is
    believed (or for any other claim)."""
    if not asked_unanswered(claim) or now >= believed_at(claim):
        return None
    return unknown(unit, claim, email)


def unknown(unit: Unit, claim: Invitation, email: str) -> InvitationOutcome:
    """The outcome of a claim whose answer was lost: what is known, and when `invite` looks again; the
    admin hears when that is, once (`WAIT_OVER`, opened in the caller's transaction, which commits it)."""
    believed = believed_at(claim)
    _remind_when_believed(unit.session, claim.migration_id, believed, unit.ctx.now())
    detail = f"{claim.result or _UNANSWERED}; run `invite` again after {hhmm(believed)} UTC"
    return InvitationOutcome(email, claim.display_name, "unanswered", detail)


def _remind_when_believed(session: Session, migration_id: int, at: datetime, now: datetime) -> None:
    """Open the migration's `WAIT_OVER` schedule for `at`, or again if it ended, or put it off to `at`:
    it is due when the last of the waits is over, so that one `invite` settles them all. A plain UPDATE,
    with no version read first: a tick firing the schedule at this moment loses its commit (its row's
    version moved on) and reads the waits again at its next look, never this step its commit."""
    key = wait_key(migration_id)
    later = and_(col(Reminder.status) == "active", col(Reminder.next_at) > at)
    reopened = session.connection().execute(
        update(Reminder)
        .where(col(Reminder.key) == key)
        .values(
            status="active",
            next_at=case((later, col(Reminder.next_at)), else_=at),
            version=col(Reminder.version) + 1,
        )
    )
    if reopened.rowcount == 0:
        schedule = Reminder(key=key, kind=WAIT_OVER, migration_id=migration_id, next_at=at, created_at=now)
        insert_once(session, schedule, unique=("key",))


def recover_link(
    unit: Unit, claim: Invitation, existing: DirectoryUser, email: str, redirect_url: str, actor: Actor
) -> InvitationOutcome | None:
    """The outcome for a guest this step invited without recording it, with their new link stored;
    None for anyone else (`invite` records them `found`)."""
    if not asked_unanswered(claim) or not existing.invitation_pending:
        return None
    row = unit.row
    try:
        invitation = unit.ctx.microsoft.invite_guest(
            row.tenant_id,
            email=email,
            display_name=claim.display_name,
            message="",  # no email goes out: they have Microsoft's first one
            redirect_url=redirect_url,
            inviter=actor.email,
            send_email=False,
        )
    except (InvitePermissionDenied, MicrosoftError) as error:
        # Still `failed`, so the next `invite` asks for the link again rather than forgetting it.
        claim.updated_at = unit.ctx.now()
        claim.status = "failed"
        claim.result = f"{_UNFETCHED}: {error}"
        claim.invited_user_id = existing.id
        commit(unit)
        if isinstance(error, MissingPermission):
            raise
        return InvitationOutcome(email, claim.display_name, "failed", claim.result)
    claim.updated_at = unit.ctx.now()
    claim.status, claim.result = "sent", RECOVERED
    claim.invited_user_id = invitation.invited_user_id or existing.id
    claim.redeem_url = invitation.redeem_url
    note(unit, actor, "invitation_link_recovered", {"email": claim.email})  # never the link: a credential
    commit(unit)
    return InvitationOutcome(email, claim.display_name, "sent", RECOVERED)
