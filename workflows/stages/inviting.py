"""Inviting the users the plan cannot match as B2B guests: each address claimed before Microsoft is
called, so nobody is invited twice; a 403 waits for the directory's invitation settings. After
connecting the same step invites whoever still has no directory account, and goes back to the connected
step it began in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage import Invitation, Migration
from workflows import _plan_codec
from workflows.directory import (
    DirectoryUser,
    InvitePermissionDenied,
    Microsoft,
    MicrosoftError,
    MissingPermission,
    Tenant,
    Unanswered,
)
from workflows.errors import as_sentence
from workflows.machine import INVITING_AFTER_CONNECTING
from workflows.plan import Check, Plan, PlannedUser
from workflows.plan_invitations import APP_INVITE_PERMISSION, INVITE_PERMISSION, invitation_policy_fix
from workflows.plan_matching import build_plan
from workflows.results import Actor, InvitationOutcome, InviteResult
from workflows.stages import interrupted_invitations, invite_summary, late_invitees
from workflows.stages.checking import check_prerequisites
from workflows.stages.redeem_links import SAME_DIRECTORY, directory_of
from workflows.stages.unit import (
    Context,
    Unit,
    commit,
    failing_on_error,
    heartbeat,
    hhmm,
    interrupt,
    lock_migration,
    note,
    paced,
    status,
    step,
    step_began,
)
from workflows.step_progress import StepProgress, unheard

_NOT_INVITED = frozenset({"denied", "failed", "unanswered"})
"""Outcomes that leave a person without an invitation or an account, or not known to have one; the
progress line counts the rest."""


def invite(
    ctx: Context, organization: str | None, actor: Actor, progress: StepProgress = unheard
) -> InviteResult:
    """Invite every user the plan cannot match as a B2B guest, once; then re-plan."""
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "invite") as unit:
            unit.flow.fire("invite")
            unit.row.blocked_reason = unit.row.blocked_fix = None
        return send_invitations(unit, actor, progress)


def send_invitations(
    unit: Unit, actor: Actor, progress: StepProgress = unheard, *, resumed: bool = False
) -> InviteResult:
    """In `inviting`: invite whoever still needs it, then re-plan (or wait for the settings on a 403).
    In `inviting_after_connecting`: the same, from a fresh look at both sides, then back where it began.
    `progress` hears how many of them were asked about so far (`Paced`). A `resumed` step skips whoever
    its earlier runs invited or found, and counts them among the step's done."""
    row = unit.row
    connected = row.state == INVITING_AFTER_CONNECTING
    outcomes: list[InvitationOutcome] = []
    missing: MissingPermission | None = None
    refused: Check | None = None
    with failing_on_error(unit, "invitations", retry="invite" if connected else "resume"):
        if connected:
            try:
                plan, refused = _today(unit, actor)
            except MicrosoftError as error:
                return _unread(unit, str(error))
        else:
            plan = _plan_codec.decode(row.plan or {})
        users = plan.users_with("invite")
        users += _answers_lost(unit, plan.users, users)
        unneeded = None  # a failing check that bars nobody: those it counts were invited already
        if refused is not None and not _not_invited_yet(unit, users):
            unneeded, refused, users = refused, None, ()
        began = step_began(unit)
        before = _settled_before(unit, began.at) if resumed else frozenset()
        asked = () if refused else tuple(user for user in users if _claim_key(user.address) not in before)
        total = len(before) + len(asked)
        invited = len(before)
        stopped_after: int | None = None
        with paced(unit, progress, "invite", began, total, len(before)) as progressed:
            for done, user in enumerate(asked, len(before) + 1):
                if unit.ctx.stopping.is_set():  # between two invitations, each recorded whole
                    stopped_after = done - 1
                    break
                try:
                    outcomes.append(_invite_one(unit, user.address, user.id, user.display_name, actor))
                except MissingPermission as error:  # the same for every user: stop at the first
                    missing = error
                    break
                invited += outcomes[-1].status not in _NOT_INVITED
                progressed(done, invited)
                if outcomes[-1].status == "denied":
                    break
    if stopped_after is not None:
        retry = "invite" if connected else "resume"
        said = interrupt(unit, "invitations", stopped_after, total, retry=retry)
        so_far = f" This run: {invite_summary.summary(outcomes)}" if outcomes else ""
        message = said + so_far
        return InviteResult(status(unit.session, row), tuple(outcomes), False, message, "interrupted")
    denied = missing is not None or refused is not None or any(o.status == "denied" for o in outcomes)
    now = unit.flow.now = unit.ctx.now()
    if denied:
        recheck_at = row.invite_recheck_at = now + unit.ctx.settings.invite_settings_delay
        by_app = unit.ctx.microsoft.invites_as_app
        row.blocked_reason, row.blocked_fix = _refusal(actor, missing, refused, by_app=by_app)
        # whoever was invited before the refusal hears it now, and whoever it shows no invitation went to
        # stops looking for one
        changed = _switch_lists(unit, outcomes) if connected else (0, 0)
        sent = sum(o.status == "sent" for o in outcomes)  # before the refusal: `nobody_to_invite` names them
        unit.flow.fire("invite_denied", details={"recheck_at": recheck_at.isoformat(), "sent": sent})
        commit(unit)
        message = f"{row.blocked_reason} {row.blocked_fix}"
        if missing is None:
            message += f" Re-check after {hhmm(recheck_at)} UTC."
        message += invite_summary.changed_before_refusal(*changed)
    else:
        row.invite_recheck_at = None
        switched = sum(_switch_lists(unit, outcomes)) if connected else 0
        unit.flow.fire("invitations_sent", details={"sent": sum(o.status == "sent" for o in outcomes)})
        commit(unit)
        message = (
            invite_summary.summary(outcomes) if outcomes else invite_summary.nobody_to_invite(unit, actor)
        )
        if connected:
            message += invite_summary.after_connecting_note(outcomes, switched, row.state)
        else:
            check_prerequisites(unit)
        if unneeded is not None:
            message += invite_summary.permission_still_fails(unneeded.policy, _fix(unneeded))
    return InviteResult(
        status=status(unit.session, row),
        outcomes=tuple(outcomes),
        denied=denied,
        message=message,
        stopped=("no-permission" if missing else "refused") if denied else None,
    )


def _settled_before(unit: Unit, began: datetime) -> frozenset[str]:
    """The addresses this step invited or found before it was interrupted or its process died: their claims
    were settled since it `began`. After connecting they are in the directory now, so a fresh look no
    longer lists them, yet they are the step's, and its total counts them."""
    return _settled(unit, since=began)


def _not_invited_yet(unit: Unit, users: Sequence[PlannedUser]) -> list[PlannedUser]:
    """Of `users`, those this migration has not invited nor found in the directory: Microsoft's directory
    search shows a new guest minutes after the invitation, so today's plan may count one just invited as
    someone to invite, and its invite-permission check fails for them under a stricter setting since."""
    settled = _settled(unit)
    return [user for user in users if _claim_key(user.address) not in settled]


def _settled(unit: Unit, *, since: datetime | None = None) -> frozenset[str]:
    """The addresses whose claims this migration settled (invited or found), since `since` if given."""
    query = select(Invitation.email).where(
        Invitation.migration_id == unit.row.id, col(Invitation.status).in_(("sent", "found"))
    )
    if since is not None:
        query = query.where(col(Invitation.updated_at) >= since)
    return frozenset(unit.session.exec(query).all())


def _claim_key(address: str) -> str:
    """How an invitation's claim names the address (`Invitation.email`)."""
    return address.strip().casefold()


def _today(unit: Unit, actor: Actor) -> tuple[Plan, Check | None]:
    """After connecting, the stored plan is the approved one, not today's: today's (who has no directory
    account now), and the check of whoever sends the invitations (a failing one, or None): the bot's app
    (`app-invite-permission`), or the person inviting (`invite-permission`)."""
    row = unit.row
    snapshot = unit.ctx.microsoft.snapshot(row.organization, row.tenant_id, connector=actor.email)
    today = build_plan(snapshot, actor.email)
    sender = APP_INVITE_PERMISSION if snapshot.invites_as_app else INVITE_PERMISSION
    check = next(check for check in today.checks if check.code == sender)
    return today, check if check.status == "fail" else None


def _answers_lost(
    unit: Unit, people: Sequence[PlannedUser], invited: Sequence[PlannedUser]
) -> tuple[PlannedUser, ...]:
    """Of `people`, those not `invited` now whose invitation's answer this migration never got (the process
    died waiting, Microsoft's answer never came: `interrupted_invitations`). Microsoft may have invited them
    all the same, so the directory holds them and the plan no longer asks to invite them: only a look at
    the directory, and a link-only invitation, gets them their link."""
    claims = unit.session.exec(
        select(Invitation).where(
            Invitation.migration_id == unit.row.id, col(Invitation.status).in_(("pending", "failed"))
        )
    ).all()
    lost = {claim.email for claim in claims if interrupted_invitations.asked_unanswered(claim)}
    lost -= {_claim_key(user.address) for user in invited}
    return tuple(user for user in people if _claim_key(user.address) in lost)


def _unread(unit: Unit, reason: str) -> InviteResult:
    """Microsoft could not be read before inviting after connecting: back where it began, nobody invited."""
    row = unit.row
    unit.flow.now = unit.ctx.now()
    # who needs an invitation is what could not be read: maybe nobody, so the retry is not said to invite
    row.blocked_reason = (
        f"I could not read who needs an invitation, so nobody was invited: {as_sentence(reason)}"
    )
    row.blocked_fix = "Run `invite` again once the service answers; it looks again first."
    unit.flow.fire("fail", details={"error": reason, "step": "invitations"})
    commit(unit)
    return InviteResult(
        status=status(unit.session, row),
        outcomes=(),
        denied=False,
        message=f"{row.blocked_reason} {row.blocked_fix}",
        stopped="unread",
    )


def _refusal(
    actor: Actor, missing: MissingPermission | None, refused: Check | None, *, by_app: bool
) -> tuple[str, str]:
    """Why invitations are refused and exactly what to change, then `invite` again. `by_app`: the bot's app
    sends them, so a 403 is the app's, whatever the rights of the person who asked."""
    settle = "Changes take 15-60 minutes to apply; then run `invite` again."
    if missing is not None:  # missing consent, not the invitation policy: name the permission
        return missing.reason, f"{missing.fix}. Then run `invite` again."
    if refused is not None:  # its message ends with its fix (`Check`): said once, with when it applies
        return refused.message.removesuffix(refused.fix).rstrip(), f"{_fix(refused)} {settle}"
    if by_app:
        # invitation-post.md: an app needs User.Invite.All, and its invitations fail when the directory lets
        # only admins (or nobody) invite; External collaboration and cross-tenant access settings can block a
        # guest's domain for everyone
        return (
            "Microsoft Entra ID refused to let the bot's app invite guests (403 Forbidden).",
            "In the Microsoft Entra admin center check that the app's User.Invite.All permission has admin"
            " consent (App registrations > API permissions), that External Identities > External"
            " collaboration settings lets members invite guests (Microsoft refuses an app's invitations"
            " when only admins may) and does not block the guests' domains (Collaboration restrictions),"
            " and that External Identities > Cross-tenant access settings does not block their"
            " organizations. " + settle,
        )
    inviter = actor.email or actor.name
    return (
        f"Microsoft Entra ID refused to let {inviter} invite guests (403 Forbidden).",
        "In the Microsoft Entra admin center open External Identities > External collaboration"
        " settings and let members invite guests (or give the inviter the Guest Inviter role). " + settle,
    )


def _fix(check: Check) -> str:
    """What lets the invitations out: the failing check's fix, or (the app's check under `none`, which
    leaves it to invite-permission, a check `invite` does not show) the setting's."""
    return check.fix or invitation_policy_fix(check.policy)


def _switch_lists(unit: Unit, outcomes: Sequence[InvitationOutcome]) -> tuple[int, int]:
    """`late_invitees.switch_lists`: whose lists changed, (invited, found in the directory)."""
    row = unit.row
    # *Retry failed* locks the migration before reading the lists: these locked first, each would wait
    # for the other (PostgreSQL aborts one), and on SQLite, where only a write locks, the retry would
    # rewrite a list this step read, failing its rewrite on the version
    lock_migration(unit)
    tenant = _tenant(row)
    accounts = {o.email.casefold(): o.account for o in outcomes if o.status == "found" and o.account}
    late_invitees.mark_in_doubt(unit.session, row, tenant)
    late_invitees.back_to_asking(unit.session, row, tenant, unit.flow.now)
    return late_invitees.switch_lists(unit.session, row, tenant, unit.flow.now, accounts)


def _tenant(row: Migration) -> Tenant:
    return Tenant(id=row.tenant_id, display_name=row.tenant_name or "")


def _invite_one(
    unit: Unit, address: str, entitlement_id: str, display_name: str, actor: Actor
) -> InvitationOutcome:
    """Claim the address (committed) before calling Microsoft, so nobody is invited twice."""
    row, session, microsoft = unit.row, unit.session, unit.ctx.microsoft
    email = address.strip()
    key = _claim_key(email)
    claim = session.exec(_CLAIM, params={"migration": row.id, "email": key}).first()
    if claim is None:
        claim, guest_id = _claimed_before(unit, key, entitlement_id, display_name)
    else:
        guest_id = claim.invited_user_id
    try:
        existing = _in_directory(microsoft, row.tenant_id, email, guest_id)
    except MissingPermission:
        raise
    except MicrosoftError as error:
        return InvitationOutcome(email, display_name, "failed", str(error))
    earlier = claim is not None and claim.status in ("sent", "found")
    if claim is not None and earlier:
        if existing is not None:
            return InvitationOutcome(email, display_name, "already-invited", claim.result)
        # The directory, not our record, says who can sign in: the guest was deleted, or the sandbox
        # or tenant behind this database is a different one. Invite again, and say so in the audit.
        note(unit, actor, "guest_missing", {"email": key, "recorded": claim.status, "was": claim.result})
    now = unit.ctx.now()
    if claim is not None and existing is not None:  # an earlier run's call, cut off before its record
        redirect = f"https://dev.azure.com/{row.organization}"
        recovered = interrupted_invitations.recover_link(unit, claim, existing, email, redirect, actor)
        if recovered is not None:
            return recovered
    elif claim is not None:  # nobody found: maybe nobody there yet, maybe the search lags behind
        waiting = interrupted_invitations.too_soon(unit, claim, email, now)
        if waiting is not None:
            commit(unit)
            return waiting
    if claim is None:
        claim = _new_claim(unit, key, entitlement_id, display_name, now)
    claim.updated_at = now
    if existing is not None:
        # Someone added them meanwhile (or an earlier run's invitation went through before a crash).
        claim.status, claim.result = "found", f"already in the directory as {existing.user_principal_name}"
        claim.invited_user_id, claim.redeem_url = existing.id, None
        commit(unit)
        return InvitationOutcome(email, display_name, "found", claim.result, existing.user_principal_name)
    claim.status, claim.attempts = "pending", claim.attempts + 1
    heartbeat(row, now)
    try:
        commit(unit)
    except IntegrityError:
        session.rollback()  # another process claimed this address first
        return InvitationOutcome(email, display_name, "skipped", "being invited by another process")
    try:
        invitation = microsoft.invite_guest(
            row.tenant_id,
            email=email,
            display_name=display_name,
            message=_invitation_text(
                row.organization, row.tenant_name, connected=row.state == INVITING_AFTER_CONNECTING
            ),
            redirect_url=f"https://dev.azure.com/{row.organization}",
            inviter=actor.email,
        )
    except InvitePermissionDenied:
        who = "the bot's app" if microsoft.invites_as_app else "the inviter"
        claim.status, claim.result = "denied", f"403 Forbidden: the directory refused {who}"
        commit(unit)
        return InvitationOutcome(email, display_name, "denied", claim.result)
    except MissingPermission as error:
        claim.status, claim.result = "failed", error.reason  # tried again once the permission is granted
        commit(unit)
        raise
    except MicrosoftError as error:
        said = interrupted_invitations.unanswered(error) if isinstance(error, Unanswered) else str(error)
        claim.status, claim.result, claim.updated_at = "failed", said, unit.ctx.now()
        if isinstance(error, Unanswered):
            outcome = interrupted_invitations.unknown(unit, claim, email)
        else:
            outcome = InvitationOutcome(email, display_name, "failed", said)
        commit(unit)
        return outcome
    claim.status, claim.result = "sent", invitation.status
    claim.invited_user_id = invitation.invited_user_id
    # Only the newest invitation's link: Microsoft documents it as the person's way in when the email
    # never comes (https://learn.microsoft.com/graph/api/resources/invitation, `sendInvitationMessage`).
    claim.redeem_url = invitation.redeem_url
    commit(unit)
    return InvitationOutcome(email, display_name, "re-invited" if earlier else "sent", invitation.status)


_CLAIM = select(Invitation).where(
    Invitation.migration_id == bindparam("migration"), Invitation.email == bindparam("email")
)
"""Built once: every person invited is looked up by it, and building it and its cache key anew cost about as
much as running it."""

_CLAIMS_BEFORE = (
    select(Invitation)
    .where(col(Invitation.migration_id).in_(SAME_DIRECTORY), Invitation.email == bindparam("email"))
    .order_by(col(Invitation.updated_at).desc())
)
"""Built once, as `_CLAIM` is: asked for each person this migration has not claimed yet. The migrations as a
list, not a join, so the database reads each one's claim by its unique (migration, address) index rather
than every claim there is."""


def _claimed_before(
    unit: Unit, key: str, entitlement_id: str, display_name: str
) -> tuple[Invitation | None, str | None]:
    """What earlier migrations of the organization to the same directory left of this address: a guest
    belongs to the directory, not to a migration, and after a `cancel` and a new `start` minutes later the
    search may not show the guest yet. The guest one invited or found, by id, keeps the new migration from
    mailing the person a second invitation; so does the newest one's lost answer (`asked_unanswered`), which
    has no id: this migration's own claim, added, carries it over, so that it waits for the search and then
    sends the link alone as that migration would have (`interrupted_invitations`)."""
    params = {**directory_of(unit.row), "email": key}
    before = unit.session.exec(_CLAIMS_BEFORE, params=params).all()
    guest_id = next((claim.invited_user_id for claim in before if claim.invited_user_id), None)
    if not before or not interrupted_invitations.asked_unanswered(before[0]):
        return None, guest_id
    lost = before[0]
    carried = _new_claim(unit, key, entitlement_id, display_name, unit.ctx.now())
    carried.status, carried.result, carried.invited_user_id = lost.status, lost.result, lost.invited_user_id
    carried.updated_at = lost.updated_at  # its search is believed when that migration's would have been
    return carried, guest_id


def _new_claim(unit: Unit, key: str, entitlement_id: str, display_name: str, now: datetime) -> Invitation:
    """This migration's claim of an address, added to the session."""
    assert unit.row.id is not None
    claim = Invitation(
        migration_id=unit.row.id,
        email=key,
        entitlement_id=entitlement_id,
        display_name=display_name,
        created_at=now,
        updated_at=now,
    )
    unit.session.add(claim)
    return claim


def _in_directory(
    microsoft: Microsoft, tenant_id: str, email: str, guest_id: str | None
) -> DirectoryUser | None:
    """Whoever holds the address in the directory; failing that, the guest an earlier invitation created
    (`guest_id`), by its id. The search by address is eventually consistent: right after an invitation it
    may not list the new guest yet, and inviting again on its word would invite twice."""
    found = microsoft.find_directory_user(tenant_id, email)
    if found is None and guest_id:
        found = microsoft.directory_user(tenant_id, guest_id)
    return found


def _invitation_text(organization: str, tenant_name: str | None, *, connected: bool) -> str:
    """Microsoft's invitation email carries this: before connecting it keeps access, after it restores it."""
    directory = tenant_name or "this directory"
    if connected:
        return (
            f"{organization} now signs in to Azure DevOps with {directory} accounts. Accept this invitation"
            " to get your access back."
        )
    return (
        f"{organization} is moving its Azure DevOps sign-in to {directory}. Accept this invitation to keep"
        " your access."
    )
