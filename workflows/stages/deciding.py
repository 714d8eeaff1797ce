"""An admin decides for someone the plan cannot place: which of their directory accounts is theirs, or
that they knowingly lose access. The decision is part of the plan (`workflows.decisions`), so it voids a
pending approval like any other change to the plan, and it is audited."""

from __future__ import annotations

from storage import Migration
from workflows import _plan_codec, decisions, help_requests
from workflows.errors import WorkflowError
from workflows.identities import directory_account
from workflows.machine import BUSY_STATES, CONNECTED_STEPS, describe_state
from workflows.mapping import map_by_hand
from workflows.plan import NO_ACCESS, UNDECIDED, Decision, Plan, PlannedUser
from workflows.plan_shared_account import shared_targets
from workflows.results import Actor
from workflows.results_preparing import AccountDecision
from workflows.stages import announcing, approval_lapse, relisting, told_early
from workflows.stages.unit import Context, Unit, audit, status, step

_DECIDING = frozenset(
    {"planned", "blocked", "waiting_for_invite_settings", "awaiting_approval", "connecting", *CONNECTED_STEPS}
)
"""Before connecting the decision shapes the plan; after, it says whom to map (*Resolve*) and the list."""


def decide_account(
    ctx: Context, organization: str | None, person: str, choice: str, actor: Actor, *, undecided: bool = False
) -> AccountDecision:
    """`undecided`: pressed on a card shown while nobody had decided for them, which is refused once an
    admin has (the press would overwrite a decision its presser has not seen): typed, it changes it."""
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "decide_account") as unit:
            row = unit.row
            _require_deciding(row)
            plan = _plan_codec.decode(row.plan or {})
            placed_before = _person(plan, person)
            if undecided and placed_before.decided_by:
                raise WorkflowError(_decided_already(row.organization, placed_before))
            user = decisions.undecided(placed_before)
            others = decisions.apply(plan, [each for each in plan.decisions if each.user_id != user.id])
            target = (user.match.id, user.match.user_principal_name) if user.match else ("", "")
            sharing = shared_targets(others.users).get(target, [])
            account = _account(user, choice, connected=row.state in CONNECTED_STEPS, sharing=sharing)
            decision = Decision(user.id, account, actor.name or actor.email)
            decided = decisions.apply(plan, [*plan.decisions, decision])
            placed = next(each for each in decided.users if each.id == user.id)
            recorded, voided = _record(unit, decided, placed)
            relisted, unreachable = (
                ("unchanged", False)
                if recorded is None
                else relisting.account_decided(unit, placed, recorded)
            )
            if recorded is not None:
                help_requests.settle_choices(session, row, placed, recorded, unit.flow.now)
            early = "" if recorded is None else told_early.account_decided(unit, placed, recorded)
            if recorded is not None and row.state not in CONNECTED_STEPS:
                announcing.reach_again(unit, decided, placed)
                announcing.tell_held_back(unit, decided, sharing)
        return AccountDecision(
            person=placed,
            status=status(session, row),
            voided_approval=voided,
            list_changed=relisted != "unchanged",
            access_restored=relisted in ("restored", "given"),
            first_list=relisted == "given",
            out_of_chat=unreachable,
            as_told=relisted == "as_told",
            told_early=early,
        )


def _decided_already(organization: str, person: PlannedUser) -> str:
    """A press on a card from before a decision: who decided what, and how to change it on purpose."""
    account = directory_account(person)
    what = (
        f"{person.principal_name} loses access"
        if person.loses_access or account is None
        else f"{account.user_principal_name} is {person.principal_name}'s account"
    )
    return (
        f"{person.decided_by} already decided that {what}. This button is from before that, so I changed"
        f" nothing. To change it, type `decide {organization} {person.principal_name} ACCOUNT` (or"
        f" `{NO_ACCESS}`)."
    )


def _require_deciding(row: Migration) -> None:
    if row.state in _DECIDING and row.plan is not None:
        return
    if row.state in BUSY_STATES:
        raise WorkflowError(
            f"The migration is {describe_state(row.state)} right now; decide once that step is done"
            " (`status`)."
        )
    raise WorkflowError(
        f"There is nothing to decide now: the migration is {describe_state(row.state)}."
        if row.plan is not None
        else f"There is no plan for {row.organization} yet: the migration is {describe_state(row.state)}."
    )


def _person(plan: Plan, wanted: str) -> PlannedUser:
    key = wanted.strip().casefold()
    for user in plan.users:
        if key in {user.id.casefold(), user.principal_name.casefold(), user.mail_address.casefold()}:
            return user
    waiting = ", ".join(user.principal_name for user in plan.undecided[:10]) or "nobody"
    raise WorkflowError(
        f"I find nobody called `{wanted}` in the plan of {plan.organization}. Use their Azure DevOps"
        f" address, as `plan` shows it; waiting for a decision: {waiting}."
    )


def _account(user: PlannedUser, choice: str, *, connected: bool, sharing: list[PlannedUser]) -> str:
    """The object id of the account chosen by its sign-in name or id, or NO_ACCESS. `sharing`: everyone
    the plan would give the person's account to, them included, when that is more than one."""
    wanted = choice.strip().casefold()
    if sharing and user.match is not None:
        return _left_out(user, wanted, sharing)
    if user.outcome not in UNDECIDED:
        raise WorkflowError(
            f"{user.principal_name} needs no decision: the plan matches them to"
            f" {user.match.user_principal_name if user.match else 'no account'} ({user.outcome})."
        )
    if wanted == NO_ACCESS:
        return NO_ACCESS
    for account, name in zip(user.candidates, user.candidate_names, strict=False):
        if wanted in (account.casefold(), name.casefold()):
            return account
    raise WorkflowError(
        f"`{choice}` is not one of {user.principal_name}'s accounts: {options(user, connected=connected)}"
    )


def _left_out(user: PlannedUser, wanted: str, sharing: list[PlannedUser]) -> str:
    """NO_ACCESS for someone whose account others would get too, when that is what an admin decided and
    it can hold: Connect carries an `auto` person over by sign-in name, whatever is decided."""
    assert user.match is not None
    account = user.match.user_principal_name
    others = " and ".join(each.principal_name for each in sharing if each.id != user.id)
    if user.outcome == "auto":
        raise WorkflowError(
            f"{user.principal_name} signs in as {account}: Connect gives it to them whatever is decided."
            f" For {others} to keep it, remove {user.principal_name} from the organization first"
            f" (`remove-users`); otherwise decide `{NO_ACCESS}` for {others} (their history is kept)."
        )
    if wanted != NO_ACCESS:
        raise WorkflowError(
            f"{user.principal_name} and {others} would both get {account}, which only one can: decide"
            f" `{NO_ACCESS}` for the one who does not keep it (their history is kept). Another account"
            " for them is for the directory to give: change the addresses there so that each matches"
            " their own, then `recheck`."
        )
    return NO_ACCESS


def options(user: PlannedUser, *, connected: bool) -> str:
    """What an admin can do for this person, as a sentence."""
    lose = f"or `{NO_ACCESS}` to let them lose access knowingly (their history is kept)"
    if user.outcome == "ambiguous":
        accounts = " or ".join(f"`{name}`" for name in user.candidate_names)
        return f"several accounts match; choose the one that is theirs: {accounts}; {lose}."
    account = user.match.user_principal_name if user.match else "their account"
    if connected:
        return (
            f"their only account, {account}, is disabled: enable it (Microsoft Entra admin center > Users),"
            f" then {map_by_hand('them', 'it')}; or remove"
            f" them (Organization settings > Users > *Remove from organization*); {lose}."
        )
    return (
        f"their only account, {account}, is disabled: enable it (Microsoft Entra admin center > Users), then"
        f" `recheck`; or remove them from the organization (`remove-users`); {lose}."
    )


def _record(unit: Unit, plan: Plan, user: PlannedUser) -> tuple[int | None, int | None]:
    """Store the changed plan, void a pending approval of the old one, audit: the id of the decision's
    audit entry (None when the plan did not change), and the voided approval's id."""
    row, before = unit.row, unit.row.state
    if plan.fingerprint == row.plan_fingerprint:
        return None, None  # the same decision again: nothing changes, nothing to void, nobody is told
    row.plan = _plan_codec.encode(plan)
    row.plan_fingerprint = plan.fingerprint
    voided = approval_lapse.void_pending(
        unit, f"an admin decided for {user.principal_name}, so the plan changed"
    )
    details: dict[str, object] = {
        "user": user.principal_name,
        "entitlement_id": user.id,
        "account": user.match.id if not user.loses_access and user.match else NO_ACCESS,
        "account_name": user.match.user_principal_name if not user.loses_access and user.match else "",
        "fingerprint": plan.fingerprint,
    }
    if row.state == "awaiting_approval":
        unit.flow.fire("void_approval", details={"why": "decide_account"})
    entry = audit(unit.flow.now, row, unit.actor, "decide_account", before, row.state, details)
    unit.session.add(entry)
    unit.session.flush()  # its id tells this decision's messages apart (`list_messages.decision_key`)
    assert entry.id is not None
    return entry.id, voided[0].id if voided else None
