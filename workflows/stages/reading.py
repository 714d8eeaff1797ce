"""Looking without changing anything: status, plans, outcomes, the audit trail."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from storage import (
    ActiveMigration,
    AffectedUser,
    Approval,
    AuditEntry,
    Invitation,
    Migration,
    OutboundMessage,
    SignInWatch,
    TodoItem,
)
from storage.outbox_threads import SUPERSEDED
from workflows import _plan_codec, waiting
from workflows.arguments import passed
from workflows.decisions import lost_access_by
from workflows.directory import MicrosoftError
from workflows.errors import WorkflowError
from workflows.identities import OwnerShape, directory_account, is_guest, is_planned_as, owned_by, owner
from workflows.informing import BeforeTheList, what_happens
from workflows.machine import (
    BEFORE_CONNECTING,
    CONNECTED_OUTSIDE_APPROVAL,
    CONNECTED_UNFINISHED,
    LEASED_STATES,
    describe_state,
)
from workflows.plan import NO_ACCESS, Plan, PlannedUser
from workflows.plan_invitations import invitation_bar
from workflows.plan_shared_account import SHARED_ACCOUNT
from workflows.results import Actor, MigrationStatus
from workflows.results_standing import (
    Announcement,
    HeldBack,
    InvitationStanding,
    InvitationToAccept,
    Standing,
)
from workflows.stages import ignored_invitations, interrupted_invitations, redeem_links
from workflows.stages.announcing import announced_whens, caught_up_key, held_back, notice_key, rounds
from workflows.stages.approval_lapse import expire_lapsed, status_after_lapses
from workflows.stages.invited import as_invited, joined_after_connecting, to_accept
from workflows.stages.unit import Context, active, find, find_or_latest, status
from workflows.todo import ACCEPT_INVITATION
from workflows.tokens import case_of, token_advice


def current_status(ctx: Context, organization: str | None = None, *, ended: bool = False) -> MigrationStatus:
    """The named migration, else the one in progress; with `ended`, else the newest that ended."""
    with ctx.database.session() as session:
        row = find_or_latest(session, organization) if ended else find(session, organization)
        found = status_after_lapses(ctx, session, row)
    if row.state in LEASED_STATES:
        return replace(found, lease_ends=row.updated_at + ctx.settings.step_lease)
    return found


def migrations(ctx: Context) -> list[MigrationStatus]:
    """Every migration with its plan summary, active ones first, newest first (for App Home)."""
    with ctx.database.session() as session:
        expire_lapsed(ctx, session)
        rows = session.exec(select(Migration).order_by(col(Migration.id).desc())).all()
        statuses = [status(session, row) for row in rows]
    return sorted(statuses, key=lambda status: not status.active)


def organizations(ctx: Context, *, state: str | None = None, include_finished: bool = False) -> list[str]:
    """Names of the migrations in progress (or all, with `include_finished`), newest first; cheap."""
    with ctx.database.session() as session:
        names = session.connection().execute(
            _ORGANIZATIONS[include_finished, state is not None], {"state": state}
        )
        return list(dict.fromkeys(names.scalars()))


def _organizations(*, include_finished: bool, in_state: bool) -> SelectOfScalar[str]:
    query = select(Migration.organization).order_by(col(Migration.id).desc())
    if not include_finished:
        query = query.join(ActiveMigration, col(ActiveMigration.migration_id) == Migration.id)
    if in_state:
        query = query.where(Migration.state == bindparam("state"))
    return query


_ORGANIZATIONS = {
    (finished, in_state): _organizations(include_finished=finished, in_state=in_state)
    for finished in (False, True)
    for in_state in (False, True)
}
"""Built once and run as plain SQL: every look asks which migrations wait for the portal step, and building
the query and passing it through the ORM cost several times running it."""


def approval_organization(ctx: Context, approval_id: int) -> str | None:
    """The organization an approval request (in any status) belongs to."""
    with ctx.database.session() as session:
        return session.exec(
            select(Migration.organization)
            .join(Approval, col(Approval.migration_id) == Migration.id)
            .where(Approval.id == approval_id)
        ).first()


def plan(ctx: Context, organization: str | None = None) -> Plan:
    with ctx.database.session() as session:
        row = find(session, organization)
        if row.plan is None:
            raise WorkflowError(
                f"There is no plan for {row.organization} yet: the migration is {describe_state(row.state)}."
            )
        return _plan_codec.decode(row.plan)


def standing_of(ctx: Context, organization: str | None, who: Actor) -> Standing:
    """This person's outcome as their notices and to-do list have it, whether they are (or become) a guest
    of the directory, who keeps signing in with their own address, and what their messages say of their
    personal access tokens: their list's once they have one, else the plan's, where an invitation to accept
    keeps them `invite` however the plan was remade since (as announcing and notifying read it). Nothing is
    known of someone in neither."""
    with ctx.database.session() as session:
        row = find(session, organization)
        if row.plan is None:
            return Standing(None, False)
        assert row.id is not None
        listed, stored = _listed_and_planned(session, row.id, row.plan, who)
        if listed is not None:
            mine = listed.entitlement_id
        elif stored is not None:
            mine = stored.id
        else:
            return Standing(None, False)
        # one person's question reads their own invitation, not everyone's
        invited = to_accept(session, row.id, [stored] if stored is not None else [], of=(mine,))
        if listed is not None:
            outcome, guest = listed.outcome, is_guest(listed.outcome, listed.directory_account)
            addresses = (listed.principal_name, listed.email)
            account = listed.directory_account or ""
        else:
            assert stored is not None
            now = as_invited(stored, invited)
            # someone left without the account another person keeps has nothing of the move to be told: the
            # plan's "map" would tell them to wait for a mapping that strands the keeper's history (walk39)
            outcome = NO_ACCESS if now.left else now.outcome
            guest = is_guest(outcome, now.match.user_principal_name if now.match else None)
            addresses = (stored.principal_name, stored.mail_address)
            account = matched.user_principal_name if (matched := directory_account(now)) else ""
        connected = listed is not None or row.state in CONNECTED_UNFINISHED
        tokens = token_advice(
            outcome,
            guest=guest,
            invited_as=invited.get(mine),
            own_addresses=addresses,
            after_connecting=connected
            and stored is not None
            and joined_after_connecting(stored, invited, outcome),
            case=case_of(_plan_codec.checks(row.plan)),
        )
        invitation = None
        if outcome == "invite" or mine in invited:
            invitation = _invitation_of(session, row, mine, invited.get(mine), listed, stored, ctx.now())
        announcement = partial(_announcement, ctx, row.id, mine)
        # what they were told when the lists went out, as `tell_lost_access` put it: who decided
        lost = lost_access_by(row.plan).get(mine, "") if outcome == NO_ACCESS else ""
        items = (
            session.exec(select(TodoItem).where(TodoItem.affected_user_id == listed.id)).all()
            if listed is not None
            else []
        )
        # the watch's list of who is still on a Microsoft account is read only for someone mapped by hand
        unmapped = (
            listed is not None
            and outcome == "map"
            and waiting.awaits_mapping(
                outcome, items, mine, waiting.still_personal_ids(session.get(SignInWatch, row.id))
            )
        )
        signed_in = any(item.key == waiting.SIGN_IN_ITEM and item.done_at for item in items)
        return Standing(
            outcome,
            guest,
            tokens,
            invitation,
            addresses[0],
            announcement,
            lost,
            unmapped,
            account,
            signed_in,
            list_to_come=listed is None,
        )


def list_to_come(ctx: Context, organization: str | None, who: Actor) -> bool:
    """Whether no list of theirs has gone out yet (`Standing.list_to_come`), for someone on the plan: their
    record alone, not the rest of their standing."""
    with ctx.database.session() as session:
        row = find(session, organization)
        shape, values = owner(who)
        return session.exec(_listed_of(shape), params={**values, "migration": row.id}).first() is None


def invitations_to_accept(ctx: Context, who: Actor) -> list[InvitationToAccept]:
    """Before the switch, in each migration in progress that sent this person an invitation (or found
    theirs still pending): that invitation, accepted once the directory says so. Read from Graph when
    asked, as nothing else reads the directory between two `recheck`s; a Graph that fails leaves it open."""
    wanted: list[tuple[InvitationToAccept, str, str | None]] = []
    with ctx.database.session() as session:
        for row in active(session):
            if row.plan is None or row.id is None or row.state in CONNECTED_UNFINISHED:
                continue
            listed, stored = _listed_and_planned(session, row.id, row.plan, who)
            if listed is not None or stored is None:
                continue  # a list of their own already (`todo_list`), or not in this migration
            address = to_accept(session, row.id, [stored], of=(stored.id,)).get(stored.id)
            if address is None:
                continue
            sent = redeem_links.newest_sent(session, row, stored.id)
            told = _announcement(ctx, row.id, stored.id)
            taken_back = ignored_invitations.heard_of(session, row, stored, address, who.zone)
            invitation = InvitationToAccept(
                row.organization, address, told.to_them or "", False, sent[1] if sent else None, taken_back
            )
            wanted.append((invitation, row.tenant_id, _guest_id(session, row.id, stored)))
    return [
        replace(invitation, accepted=_accepted(ctx, tenant_id, guest_id))
        for invitation, tenant_id, guest_id in wanted
    ]


def before_the_lists(ctx: Context, who: Actor) -> list[BeforeTheList]:
    """In each migration in progress whose plan names this person, while no list of theirs went out: what
    the move does to them and asks of them until then, as their advance notice says it (someone whose
    only account is disabled, whom no notice reaches, too), and when their list comes. Not for someone an
    admin decided loses access: they were told so, and nothing comes."""
    found: list[BeforeTheList] = []
    with ctx.database.session() as session:
        for row in active(session):
            if row.plan is None or row.id is None:
                continue
            listed, stored = _listed_and_planned(session, row.id, row.plan, who)
            if listed is not None or stored is None or stored.loses_access:
                continue
            invited = to_accept(session, row.id, [stored], of=(stored.id,))
            person = as_invited(stored, invited)
            # who can act for them is asked of Azure DevOps (cached) only for those told to ask them
            asks_admins = person.outcome in ("invite", "ambiguous", "disabled")
            admins = ctx.admins.who_can_act(row.organization) if asks_admins else ()
            invited_as = invited.get(stored.id)
            happens = what_happens(
                person,
                tenant=row.directory_name,
                invited_as=invited_as,
                barred=invitation_bar(_plan_codec.checks(row.plan)),
                admins=[admin for admin in admins if admin != stored.address.lower()],
                unconfirmed=person.outcome == "invite"
                and invited_as is None
                and bool(interrupted_invitations.lost_answers(session, row.id, stored.id)),
            )
            told = _announcement(ctx, row.id, stored.id)
            found.append(
                BeforeTheList(
                    row.organization,
                    row.directory_name,
                    person.outcome,
                    happens,
                    told.latest if told.to_them is None else told.to_them,
                    connected=row.state in CONNECTED_UNFINISHED,
                    choosing=person.outcome == "ambiguous" and not person.decided_by,
                )
            )
    return found


def held_back_from(ctx: Context, who: Actor) -> list[HeldBack]:
    """Before the switch, in each migration in progress whose advance notice leaves this person out as
    someone else would get their directory account too (`announcing.held_back`): that account, and the
    admins who settle it. A plan is read whole only while its `shared-directory-account` check fails."""
    found = []
    with ctx.database.session() as session:
        for row in active(session):
            if row.plan is None or row.id is None or row.state not in BEFORE_CONNECTING:
                continue
            if all(
                each.code != SHARED_ACCOUNT or each.status != "fail" for each in _plan_codec.checks(row.plan)
            ):
                continue
            listed, planned = _listed_and_planned(session, row.id, row.plan, who)
            if listed is not None or planned is None:
                continue
            for account, people in held_back(_plan_codec.decode(row.plan).users):
                if any(person.id == planned.id for person in people):
                    admins = tuple(ctx.admins.who_can_act(row.organization))
                    found.append(HeldBack(row.organization, account, admins))
    return found


def _guest_id(session: Session, migration_id: int, user: PlannedUser) -> str | None:
    """The directory object id of their guest account: the invitation's, else the plan's match."""
    invited = session.exec(
        select(Invitation.invited_user_id).where(
            Invitation.migration_id == migration_id,
            Invitation.entitlement_id == user.id,
            Invitation.status == "sent",
        )
    ).first()
    return invited or (user.match.id if user.match else None)


def _accepted(ctx: Context, tenant_id: str, guest_id: str | None) -> bool:
    if guest_id is None:
        return False
    try:
        guest = ctx.microsoft.directory_user(tenant_id, guest_id)
    except MicrosoftError:
        return False
    return guest is not None and not guest.invitation_pending


def awaiting_choice(ctx: Context, organization: str | None, who: Actor) -> PlannedUser | None:
    """This person as the plan has them while several directory accounts share their address and no admin
    has decided which is theirs (their candidates, to choose from); None otherwise."""
    with ctx.database.session() as session:
        row = find(session, organization)
        if row.plan is None or row.id is None:
            return None
        _, planned = _listed_and_planned(session, row.id, row.plan, who)
    if planned is None or planned.outcome != "ambiguous" or planned.decided_by:
        return None
    return planned


def _announcement(ctx: Context, migration_id: int, mine: str) -> Announcement:
    """What the advance notices told this person: the newest that reached them or still may, found by the
    exact keys `announce` gave them."""
    with ctx.database.session() as session:
        whens = announced_whens(session, migration_id)
        if not whens:
            return Announcement()
        firsts = {notice_key(migration_id, when, again, mine): when for when, again in rounds(whens)}
        keys = {**firsts, **{caught_up_key(key): when for key, when in firsts.items()}}
        newest = session.exec(
            select(OutboundMessage.idempotency_key)
            .where(
                col(OutboundMessage.idempotency_key).in_(list(keys)),
                col(OutboundMessage.status).not_in(("failed", SUPERSEDED)),
            )
            .order_by(col(OutboundMessage.id).desc())
        ).first()
    to_them = None if newest is None else keys[newest]
    told = whens[-1] if to_them is None else to_them
    return Announcement(to_them, whens[-1], bool(told) and passed(told, now=ctx.now()))


def _invitation_of(
    session: Session,
    row: Migration,
    mine: str,
    invited_as: str | None,
    listed: AffectedUser | None,
    stored: PlannedUser | None,
    now: datetime,
) -> InvitationStanding:
    """Their invitation: sent when and to which address, and whether it is accepted as far as their list
    says (a sign-in the watch verified, or their own tick). Not from the plan: a guest whose directory entry
    does not say `PendingAcceptance` (no `externalUserState` read) is not known to have accepted."""
    # a guest still to accept may have it from an earlier migration of the organization
    sent = redeem_links.newest_sent(session, row, mine)
    sent_at, redeem_url = sent if sent is not None else (None, None)
    done = (  # (id, verified_at) of their ticked or verified *Accept the invitation* item
        session.exec(
            select(TodoItem.id, TodoItem.verified_at).where(
                TodoItem.affected_user_id == listed.id,
                TodoItem.key == ACCEPT_INVITATION,
                or_(col(TodoItem.done_at).is_not(None), col(TodoItem.verified_at).is_not(None)),
            )
        ).first()
        if listed is not None
        else None
    )
    fallback = listed.email if listed is not None else stored.address if stored is not None else ""
    assert row.id is not None
    lost = [] if invited_as is not None else interrupted_invitations.lost_answers(session, row.id, mine)
    return InvitationStanding(
        address=invited_as or fallback,
        directory=row.directory_name,
        tenant_id=row.tenant_id,
        sent=invited_as is not None,
        sent_at=sent_at,
        accepted=done is not None,
        verified=done is not None and done[1] is not None,
        redeem_url=redeem_url,
        unconfirmed=bool(lost),
        unconfirmed_at=max((claim.updated_at for claim in lost), default=None),
        mailed=interrupted_invitations.went_out(lost),
        checked_from=max(map(interrupted_invitations.believed_at, lost), default=None),
        read_at=now,
    )


@cache
def _listed_of(shape: OwnerShape) -> SelectOfScalar[AffectedUser]:
    """Built once for each way a person is known: every `status` a person asks reads it, and building it
    and its cache key anew cost more than running it."""
    return select(AffectedUser).where(AffectedUser.migration_id == bindparam("migration"), owned_by(shape))


def _listed_and_planned(
    session: Session, migration_id: int, plan: dict[str, Any], who: Actor
) -> tuple[AffectedUser | None, PlannedUser | None]:
    """This person's record once their list went out, and their entry in the stored plan (what Connect did
    with them, once connected), decoding only the entries that may be theirs."""
    shape, values = owner(who)
    listed = session.exec(_listed_of(shape), params={**values, "migration": migration_id}).first()
    if listed is not None:
        keys = {listed.principal_name.casefold(), listed.email.casefold()}
        mine = (user for user in _plan_codec.candidates(plan, keys) if user.id == listed.entitlement_id)
    else:
        keys = {key.strip().casefold() for key in (who.email, who.id) if key.strip()}
        mine = (user for user in _plan_codec.candidates(plan, keys) if is_planned_as(who, user))
    return listed, next(mine, None)


PLAN_MADE = (
    ("approve", "awaiting_approval", "connecting"),
    ("found_connected", "checking_prerequisites", "connected"),
    (CONNECTED_OUTSIDE_APPROVAL, "checking_prerequisites", "connected"),
)
"""The moves (action, state before, state after) a connected migration's plan dates from: the approval that
let it connect, the finding that it was connected already, or a step's own check that found it connected
outside the approval (that check stored its plan). The watch's finding makes no plan: the plan then is one
made before connecting. The plan is not made again after any of them."""


def plan_made(ctx: Context, organization: str | None = None) -> AuditEntry | None:
    """The audit entry of the move in `PLAN_MADE`, the latest, read on its own; None before connecting."""
    with ctx.database.session() as session:
        row = find(session, organization)
        moves = [
            (AuditEntry.action == action)
            & (AuditEntry.state_before == before)
            & (AuditEntry.state_after == after)
            for action, before, after in PLAN_MADE
        ]
        return session.exec(
            select(AuditEntry)
            .where(AuditEntry.migration_id == row.id, or_(*moves))
            .order_by(col(AuditEntry.id).desc())
            .limit(1)
        ).first()


def audit_trail(ctx: Context, organization: str | None = None) -> list[AuditEntry]:
    with ctx.database.session() as session:
        row = find(session, organization)
        return list(
            session.exec(
                select(AuditEntry).where(AuditEntry.migration_id == row.id).order_by(col(AuditEntry.id))
            ).all()
        )
