"""What an `invite` run's answer says: how it went, counted ("2 invited, 1 failed") and, for the admin who
ran it, whom it failed or could not confirm; what the invited still need after connecting; whose lists a
refusal changed; and, when nobody needs an invitation, who ran the invitations last."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from storage import AuditEntry
from workflows.mapping import map_by_hand
from workflows.results import Actor, InvitationOutcome
from workflows.stages.interrupted_invitations import RECOVERED
from workflows.stages.unit import Unit, hhmm, same_person


def after_connecting_note(outcomes: Sequence[InvitationOutcome], switched: int, state: str) -> str:
    """What the invited still need after connecting: accept, sign in, and (for their history) a mapping;
    and whose lists changed (the invited, and those found already in the directory)."""
    told = (
        f" I changed {switched} to-do {'list' if switched == 1 else 'lists'} to say what each now needs;"
        f" {ON_ITS_WAY}."
        if switched
        else ""
    )
    emailed = sum(o.status in ("sent", "re-invited") and o.detail != RECOVERED for o in outcomes)
    recovered = sum(o.status == "sent" and o.detail == RECOVERED for o in outcomes)
    if not emailed and not recovered:
        return told
    if not switched and state == "connected":
        told = " `notify` gives them that step on their to-do lists."
    return (
        f" {_who_has_the_email(emailed, recovered)}: once they accept it and sign in with that address, they"
        " are back in." + told + " Their old work history stays with their Microsoft account: to keep it,"
        f" {map_by_hand('them', 'the guest account')}."
    )


def permission_still_fails(policy: str, fix: str) -> str:
    """A failing invitation check when nobody needs an invitation (`inviting`): it barred nobody now, but
    the next person who needs one meets it. Its fix, not its message, which counts as needing an invitation
    those just invited whom the directory's search does not show yet."""
    setting = f" (allowInvitesFrom: {policy})" if policy else ""
    return f" Should someone need an invitation later, the directory would refuse it{setting}: {fix}"


def changed_before_refusal(invited: int, found: int) -> str:
    """Whose lists an `invite` stopped by a refusal changed after connecting: those it invited before it (and
    those it found in the directory), if anyone's."""
    if not invited and not found:
        return ""
    whose = [f"{_people(invited)} invited before the refusal"] if invited else []
    whose += [f"{_people(found)} found in the directory"] if found else []
    lists = "list" if invited + found == 1 else "lists"
    return f" I changed the to-do {lists} of {' and '.join(whose)}; {ON_ITS_WAY}."


ON_ITS_WAY = "my message telling them is on its way"
"""The changed lists' news is queued with the change: when the admin reads the answer it has not reached
them yet."""


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count:,} people"


def _who_has_the_email(emailed: int, recovered: int) -> str:
    """Who gets Microsoft's invitation email now, and who got it before its answer was lost: their link,
    fetched again, comes with no second email (`interrupted_invitations`)."""
    no_second = "before its answer was lost (I fetched their link again, with no second email)"
    if not recovered:
        return "Each gets Microsoft's invitation email"
    if not emailed:
        return f"Each already got Microsoft's invitation email {no_second}"
    gets = "gets" if emailed == 1 else "get"
    return f"{emailed} {gets} Microsoft's invitation email now, and {recovered} already got it {no_second}"


def nobody_to_invite(unit: Unit, actor: Actor) -> str:
    """Nobody to invite, and who ran the invitations last, when: an admin pressing *Invite* a moment after
    another did finds the invitations already sent, not that none were needed. A run interrupted since the
    last that invited people is the last run: its own count is not recorded, so it is named without one.
    So is a run refused since (a 403, or a permission missing), with how many it invited before the refusal
    (a refusal audited before that count was recorded is named without one): whoever it could not invite
    needs no invitation now, yet the admin reads that the last run was refused, not an older run's count as
    though the refusal never happened."""
    runs = unit.session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.migration_id == unit.row.id,
            col(AuditEntry.action).in_(("invitations_sent", "invite_denied", "interrupt")),
        )
        .order_by(col(AuditEntry.id).desc())
    )
    last = next((run for run in runs if _ran_invitations(run)), None)
    if last is None:
        return "Nobody needs an invitation."
    yours = same_person(actor, last.actor_id, last.actor_email)
    who = "you" if yours else last.actor_name or last.actor_email
    at = f"{hhmm(last.at)} UTC"
    if last.action == "interrupt":
        return f"Nobody needs an invitation now: {who} last ran the invitations, interrupted at {at}."
    sent = int(last.details.get("sent") or 0)
    if last.action == "invite_denied":
        before = f" after inviting {_people(sent)}" if sent else ""
        return (
            f"Nobody needs an invitation now: {who} last ran the invitations, refused permission to invite"
            f" guests at {at}{before}."
        )
    return f"Nobody needs an invitation now: {who} invited {_people(sent)} at {at}."


def _ran_invitations(entry: AuditEntry) -> bool:
    """A run that invited people, one interrupted (which may have), or one refused (which was asked to)."""
    if entry.action == "interrupt":
        return bool(entry.details.get("step") == "invitations")
    return entry.action == "invite_denied" or bool(entry.details.get("sent"))


def counted(outcomes: Sequence[InvitationOutcome]) -> str:
    """How an `invite` went, counted and naming nobody ("2 invited, 1 failed"): for a channel, where
    people's names (their addresses) are not shown."""
    parts = []
    for kind, label in (
        ("sent", "invited"),
        ("re-invited", "invited again (their earlier guest account is no longer in the directory)"),
        ("found", "already in the directory"),
        ("already-invited", "invited earlier"),
        ("failed", "failed"),
        ("unanswered", "with no answer from Microsoft"),
        ("skipped", "being handled elsewhere"),
        ("denied", "refused by the directory (403 Forbidden)"),
    ):
        count = sum(outcome.status == kind for outcome in outcomes)
        if count:
            parts.append(f"{count} {label}")
    return ", ".join(parts)


def summary(outcomes: Sequence[InvitationOutcome]) -> str:
    failures = "; ".join(f"{o.email}: {o.detail}" for o in outcomes if o.status == "failed")
    unanswered = "; ".join(f"{o.email}: {o.detail}" for o in outcomes if o.status == "unanswered")
    return (
        counted(outcomes)
        + "."
        + (f" Failures: {failures}. Run `invite` again to retry them." if failures else "")
        + (
            f" No answer: {unanswered}. Microsoft's directory search may not show a new guest before"
            " then: `invite` then looks, and sends each their link with no second email, or their"
            " invitation if none went out. I tell you when that time comes."
            if unanswered
            else ""
        )
    )
