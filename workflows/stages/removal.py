"""Removing users nobody needs any more (prerequisite 4): who has not signed in for months, and the
removal itself, audited one user at a time: whoever was removed by mistake is added back by hand."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import Session, col, select

from storage import AuditEntry, Migration
from workflows import _plan_codec
from workflows.directory import MicrosoftError, MissingPermission, OrgUser
from workflows.errors import ConflictError, PermissionDenied, WorkflowError
from workflows.machine import describe_state, next_commands, refusal
from workflows.plan import PlannedUser
from workflows.plan_organization import removal_by_hand
from workflows.results import Actor
from workflows.results_preparing import RemovalResult
from workflows.stages import redeem_links
from workflows.stages.checking import check_prerequisites
from workflows.stages.connecting import CONNECTED_STATES
from workflows.stages.unit import (
    Context,
    Unit,
    commit,
    failing_on_error,
    heartbeat,
    interrupt,
    note,
    organization_name,
    paced,
    status,
    step,
    step_began,
)
from workflows.step_progress import StepProgress, unheard

log = logging.getLogger(__name__)


def stale_users(ctx: Context, organization: str | None, days: int | None = None) -> list[OrgUser]:
    """Users who have not signed in for `days` (default from settings): candidates for removal."""
    days = ctx.settings.stale_after_days if days is None else days
    if days < 1:
        raise WorkflowError("Give a number of days of 1 or more, e.g. `stale-users 90`.")
    name = organization_name(ctx, organization)
    try:
        users = ctx.microsoft.org_users(name)
    except MicrosoftError as error:
        raise WorkflowError(f"I could not read the users of {name}: {error}") from None
    cutoff = ctx.now() - timedelta(days=days)
    return [user for user in users if (seen := user.last_accessed or user.date_created) and seen < cutoff]


def why_not_removable(state: str, organization: str) -> str | None:
    """Why the bot does not remove users in `state`, and what to do instead; None where it does.

    Removing is prerequisite 4, before the switch; a removal re-plans, and a connected migration has no
    plan left to change, so after connecting the portal is the way.
    """
    if "remove-users" in next_commands(state):
        return None
    if state in CONNECTED_STATES:
        return (
            f"The migration is {describe_state(state)}, so I no longer remove users: removing them is a"
            f" step before connecting. To remove someone now, open https://dev.azure.com/{organization}"
            "/_settings/users, select them and choose *Remove from organization*."
        )
    return str(refusal(state, "remove-users"))


def remove_users(
    ctx: Context,
    organization: str | None,
    user_ids: Sequence[str],
    actor: Actor,
    progress: StepProgress = unheard,
) -> RemovalResult:
    """Remove users an admin confirmed, each removal audited; then re-plan.

    Never the owner or an administrator: removing them could lock everyone out of the organization's
    settings, where they would be added back.
    """
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "remove_users") as unit:
            row = unit.row
            if (why := why_not_removable(row.state, row.organization)) is not None:
                raise WorkflowError(why)
            wanted = removable(ctx, row.organization, _plan_codec.decode(row.plan or {}).users, user_ids)
            unit.flow.fire("remove_users", details={"user_ids": wanted})
        return remove(unit, actor, progress)


def removable(
    ctx: Context, organization: str, users: Sequence[PlannedUser], user_ids: Sequence[str]
) -> list[str]:
    """The ids of the users `user_ids` name (an id, an address, or a display name only one of them has),
    once each, refused unless each is a user of the plan and none is the owner or a Project Collection
    Administrator: asked before the admin confirms as well as when they do."""
    known = {user.id: user for user in users}
    if len(user_ids) > 1 and (whole := _named(organization, users, " ".join(user_ids))) in known:
        user_ids = [whole]  # one display name with spaces in it (`Gus Gone`), typed without quotes
    named = [_named(organization, users, reference) for reference in user_ids]
    wanted = list(dict.fromkeys(user_id for user_id in named if user_id in known))
    unknown = [reference for reference, user_id in zip(user_ids, named, strict=True) if user_id not in known]
    if unknown or not wanted:
        listed = ", ".join(f"`{reference}`" for reference in unknown) or "(none given)"
        raise WorkflowError(
            f"Not users of {organization}: {listed}. Name them by their id, address or display name, as"
            f" `stale-users {organization}` lists them."
        )
    admins = set(ctx.admins.emails(organization))
    protected = [
        known[user_id].principal_name
        for user_id in wanted
        if {_email_key(known[user_id].principal_name), _email_key(known[user_id].mail_address)} & admins
    ]
    if protected:
        raise PermissionDenied(
            f"I do not remove the owner or the Project Collection Administrators of"
            f" {organization}: {', '.join(protected)}. Nothing was removed; run"
            " `remove-users` again without them."
        )
    return wanted


def _named(organization: str, users: Sequence[PlannedUser], reference: str) -> str:
    """The id of the one user `reference` names: their id, an address of theirs, or their display name
    when nobody else has it; `reference` itself when it names nobody (it is then refused as unknown)."""
    key = reference.strip().casefold()
    for user in users:
        if user.id.casefold() == key:
            return user.id
    found = [user for user in users if key in (user.principal_name.casefold(), user.mail_address.casefold())]
    found = found or [user for user in users if user.display_name.strip().casefold() == key]
    if len(found) > 1:
        raise WorkflowError(
            f"`{reference}` names several users of {organization}:"
            f" {', '.join(f'{user.principal_name} (id {user.id})' for user in found)}. Name the one you mean"
            " by their id."
        )
    return found[0].id if found else reference


def remove(unit: Unit, actor: Actor, progress: StepProgress = unheard) -> RemovalResult:
    """In `removing`: remove who the request named and is not removed yet, then re-plan; `progress` hears
    how many of them were asked for so far (`Paced`)."""
    row, session = unit.row, unit.session
    names = {user.id: user.principal_name for user in _plan_codec.decode(row.plan or {}).users}
    removed: list[str] = []
    failed: list[tuple[str, str]] = []
    refused: MissingPermission | None = None

    def stopped(why: str) -> RemovalResult:
        done = f" Removed before that: {', '.join(removed)}." if removed else " Nobody was removed."
        return RemovalResult(tuple(removed), tuple(failed), status(session, row), why + done)

    try:
        with failing_on_error(unit, "removal of users"):
            wanted, left = _removals(session, row)
            before = len(wanted) - len(left)
            with paced(unit, progress, "remove", step_began(unit), len(wanted), before) as progressed:
                for done, user_id in enumerate(left, before + 1):
                    if unit.ctx.stopping.is_set():  # between two removals, each recorded whole
                        return stopped(interrupt(unit, "removals", done - 1, len(wanted)))
                    name = names.get(user_id, user_id)
                    # Committed before the irreversible call: a cancel meanwhile stops us here.
                    heartbeat(row, unit.ctx.now())
                    commit(unit)
                    try:
                        unit.ctx.microsoft.remove_org_user(row.organization, user_id)
                    except MissingPermission as error:
                        # Every other removal would be refused alike: the scope and its fix, said once.
                        refused = error
                        failed.extend(
                            (names.get(each, each), f"not allowed ({error.permission})")
                            for each in left[done - before - 1 :]
                        )
                        break
                    except MicrosoftError as error:
                        failed.append((name, str(error)))
                    else:
                        removed.append(name)
                        note(unit, actor, "remove_user", {"user_id": user_id, "principal_name": name})
                        # Their invitation to the directory was for a user the organization no longer has.
                        redeem_links.forget(session, row, [user_id])
                        session.commit()  # each removal is recorded as soon as Microsoft confirmed it
                    progressed(done, before + len(removed))
            unit.flow.now = unit.ctx.now()
            unit.flow.fire("users_removed", details={"removed": len(removed), "failed": len(failed)})
            commit(unit)
    except ConflictError as conflict:
        return stopped(str(conflict))
    except Exception:
        log.exception("removing users from %s stopped", row.organization)
        return stopped(f"{row.blocked_reason} {row.blocked_fix}")
    check_prerequisites(unit)
    told = ""
    if refused is not None:
        told = (
            f"{refused.reason} Fix: {refused.fix}; or remove them by hand:"
            f" {removal_by_hand(row.organization)}."
        )
    return RemovalResult(tuple(removed), tuple(failed), status(session, row), told)


def _removals(session: Session, row: Migration) -> tuple[list[str], list[str]]:
    """The ids the latest `remove-users` named, and those of them not removed yet: a resume skips the
    others, and counts them done."""
    entries = session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.migration_id == row.id,
            col(AuditEntry.action).in_(("remove_users", "remove_user")),
        )
        .order_by(col(AuditEntry.id).desc())
    ).all()
    done: set[str] = set()
    for entry in entries:
        if entry.action == "remove_user":
            done.add(str(entry.details.get("user_id")))
        else:
            wanted = [str(user_id) for user_id in entry.details.get("user_ids", ())]
            return wanted, [user_id for user_id in wanted if user_id not in done]
    return [], []


def _email_key(address: str) -> str:
    return address.strip().lower()
