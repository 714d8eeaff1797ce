"""How a plan reads in chat: the checks, the counts in words, the per-user table and its CSV export."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.conversation import lists
from bot.conversation.messages import Actions, Attachment, Block, Button, Facts, Text
from bot.conversation.unnamed import names_anyone, without_addresses
from workflows.machine import CONNECTED_UNFINISHED
from workflows.mapping import map_by_hand
from workflows.plan import NO_ACCESS, Check, Plan, PlannedUser
from workflows.plan_invitations import InvitationBar, invitation_bar
from workflows.results import Actor, MigrationStatus
from workflows.results_approving import Affected, People
from workflows.stages.deciding import options
from workflows.stages.removal import why_not_removable

CHECK_MARKS = {"pass": "✅", "warn": "⚠️", "fail": "❌"}
OUTCOME_WORDS = {
    "auto": ("keep access (same identity)", "keeps access (same identity)"),
    "to-accept": (
        "invited, still to accept: no access from the switch until they accept",
        "invited, still to accept: no access from the switch until they accept",
    ),
    "map": ("keep access, mapped by hand after connecting", "keeps access, mapped by hand after connecting"),
    "invite": ("lose access unless invited as guests", "loses access unless invited as a guest"),
    "disabled": (
        "lose access: their directory account is disabled",
        "loses access: their directory account is disabled",
    ),
    "ambiguous": (
        "need a decision: several directory accounts match",
        "needs a decision: several directory accounts match",
    ),
    "no-access": ("lose access, as an admin decided", "loses access, as an admin decided"),
}
"""What happens to the users of each of the plan's groups (`GROUPS`): (several, one)."""
_UNLESS_SETTINGS = "unless the directory's invitation settings change"
REMOVAL_UNDONE_BY = (
    "They lose access at once; their history stays, and adding them back under Organization settings >"
    " Users (with their access level and groups) undoes it."
)
"""What a removal does, said before it: Azure DevOps keeps a removed user's history, so it can be undone."""
NOBODY_MAY_INVITE: dict[InvitationBar, tuple[str, str]] = {
    "rights": (
        f"lose access {_UNLESS_SETTINGS} or someone allowed to invite guests invites them",
        f"loses access {_UNLESS_SETTINGS} or someone allowed to invite guests invites them",
    ),
    # allowInvitesFrom none: nobody may invite guests, admins included
    "setting": (f"lose access {_UNLESS_SETTINGS}", f"loses access {_UNLESS_SETTINGS}"),
}
"""What happens to the people to invite while `invite-permission` fails, by what bars them."""


AFTER_THE_SWITCH = {
    "to-accept": (
        "invited, still to accept when the plan was approved: no access until they accept",
        "invited, still to accept when the plan was approved: no access until they accept",
    ),
    "ambiguous": (
        "had no account chosen: several directory accounts match",
        "had no account chosen: several directory accounts match",
    ),
}
"""The groups whose words (`OUTCOME_WORDS`) speak of the switch as ahead, as they read once it is behind:
in the closing message and the status of a completed migration, when nothing is decided or accepted
before it any more."""

ONCE_CONNECTED = {
    "to-accept": (
        "invited, still to accept when the plan was made: no access until they accept",
        "invited, still to accept when the plan was made: no access until they accept",
    ),
}
"""The groups whose words speak of the switch as ahead, as they read while a connected migration is not
over yet: accepting still lets them in, but "before the switch" is past (a decision still helps, so the
undecided keep their words)."""


def outcome_words(checks: Sequence[Check]) -> dict[str, tuple[str, str]]:
    """`OUTCOME_WORDS`, true of the plan's checks: inviting is no way back in while nobody may invite."""
    bar = invitation_bar(checks)
    return {**OUTCOME_WORDS, "invite": NOBODY_MAY_INVITE[bar]} if bar else OUTCOME_WORDS


def counts_as_of(state: str, counts: Mapping[str, int], checks: Sequence[Check]) -> Facts:
    """`counts_facts` worded for a migration in `state`: the switch ahead, behind, or over."""
    return counts_facts(
        counts, checks, switched=state == "completed", connected=state in CONNECTED_UNFINISHED
    )


def people(count: int) -> str:
    return f"{count} user" if count == 1 else f"{count:,} users"


def check_lines(checks: Sequence[Check], *, named: bool = True, known: Sequence[Actor] = ()) -> Text:
    """One line per check, with its fix; not `named` (a channel's copy): without the people a check names,
    each of the `known` admins by their display name (`checks_name_anyone` tells the caller to say where
    the rest went)."""
    names = _display_names(known)
    lines = []
    for check in checks:
        message, fix = check.message, check.fix
        if not named:
            message, fix = without_addresses(message, names), without_addresses(fix, names)
        line = f"{CHECK_MARKS[check.status]} *{check.code}*: {message}"
        if fix and check.status != "pass" and fix not in message:
            line += f"\n      Fix: {fix}"
        lines.append(line)
    return Text("\n".join(lines) or "No checks ran.")


def checks_name_anyone(checks: Sequence[Check], known: Sequence[Actor] = ()) -> bool:
    """Whether a channel's `check_lines` leaves out someone other than the `known` admins."""
    names = _display_names(known)
    return any(names_anyone(check.message + " " + check.fix, names) for check in checks)


def _display_names(known: Sequence[Actor]) -> dict[str, str]:
    return {actor.email.casefold(): actor.name for actor in known if actor.name}


def counts_facts(
    counts: Mapping[str, int], checks: Sequence[Check], *, switched: bool = False, connected: bool = False
) -> Facts:
    """How many users each of the plan's groups has (`Plan.groups`), and what happens to them, as the
    plan's `checks` have it; `switched`: as it reads once the migration is over (`AFTER_THE_SWITCH`);
    `connected`: once the organization is connected and the migration is not over (`ONCE_CONNECTED`)."""
    after = AFTER_THE_SWITCH if switched else ONCE_CONNECTED if connected else {}
    words = outcome_words(checks) | after
    pairs = tuple(
        (people(counts[outcome]), several if counts[outcome] != 1 else one)
        for outcome, (several, one) in words.items()
        if counts.get(outcome)
    )
    return Facts(pairs or (("0 users", "the organization has no users to move"),))


def names(people: People) -> str:
    """The first names of a group, and how many more there are."""
    shown = ", ".join(people.names)
    more = people.count - len(people.names)
    return shown + (f" and {more} more" if more > 0 else "") if people.count else "nobody"


def who_is_affected(affected: Affected, checks: Sequence[Check], *, named: bool = True) -> Text:
    """The approval prompt's heart: who keeps access, who is mapped, who loses access (as the plan's
    `checks` have it: unless invited, or, while nobody may invite, unless that changes). Not `named`: how
    many in each group only, for a shared channel (their names are their addresses)."""
    bar = invitation_bar(checks)
    uninvited = NOBODY_MAY_INVITE[bar][0] if bar else "lose access unless invited"
    groups = (
        ("Keep access", "", affected.keep),
        (
            "Invited, still to accept",
            "no access from the switch until they accept the invitation, ",
            affected.to_accept,
        ),
        ("Mapped by hand after connecting", "", affected.mapped),
        (f"Will {uninvited}", "", affected.uninvited),
        ("Lose access until an admin decides", "disabled or ambiguous account, ", affected.undecided),
        ("Lose access, as an admin decided", "", affected.without_access),
    )
    # a group of nobody is left out (walk38: "(0)" lines): the prompt is read for whom it changes things
    lines = [
        f"*{title}* ({why}{group.count})" + (f": {names(group)}" if named else "")
        for title, why, group in groups
        if group.count
    ]
    return Text("\n".join(lines) or "Nobody: the organization has no users.")


def undecided_line(status: MigrationStatus, *, admin: bool = True) -> Text:
    """Where `status` points admins to the people waiting for their decision; to anyone else (`admin`
    False), only that they wait."""
    waiting = people(status.undecided)
    if status.state in CONNECTED_UNFINISHED:
        without = f"⚠️ {waiting} still without a way in: their account is disabled, or several match"
        if not admin:
            return Text(f"{without}; the migration's admins decide for them.")
        return Text(f"{without}. Decide for them (`plan` shows their choices), then {map_by_hand()}.")
    wait = "waits" if status.undecided == 1 else "wait"
    line = f"⚠️ {waiting} {wait} for an admin's decision ({_undecided_kinds(status)})"
    return Text(f"{line}: `plan` shows their choices, with buttons." if admin else f"{line}.")


def _undecided_kinds(status: MigrationStatus) -> str:
    """Why they wait, counted by kind in the words `start`'s next steps use ("1 person has only a disabled
    directory account"), so that the two add up (walk38: "1 has only a disabled…" and "1 needs a decision"
    beside "2 users wait"); in general words when the plan's groups do not add up to them."""
    disabled, ambiguous = status.counts.get("disabled", 0), status.counts.get("ambiguous", 0)
    if disabled + ambiguous != status.undecided:
        return "their account is disabled, or several match"
    kinds = [
        f"{disabled:,} {'has' if disabled == 1 else 'have'} only a disabled directory account"
        if disabled
        else "",
        f"{ambiguous:,} {'has' if ambiguous == 1 else 'have'} several matching directory accounts"
        if ambiguous
        else "",
    ]
    return ", ".join(kind for kind in kinds if kind)


DECISIONS_SHOWN = 5
"""People shown with their decision's buttons under the plan; `decide` and the CSV reach the rest."""
CANDIDATE_BUTTONS = 10
"""Accounts offered as buttons for one person (a chat's row of buttons is short); `decide` takes any."""


def decisions_needed(plan: Plan, status: MigrationStatus) -> list[Block]:
    """Everyone still waiting for an admin's decision, with the choices they have and buttons for them."""
    waiting = plan.undecided
    if not waiting:
        return []
    organization = plan.organization
    removable = why_not_removable(status.state, organization) is None
    connected = status.state in CONNECTED_UNFINISHED
    until = (
        f"until then they have no way in. Then {map_by_hand('each one', 'the account you choose')}."
        if connected
        else "until then they lose access when the organization is connected. Connecting maps nobody by"
        f" hand: afterwards, {map_by_hand('each one', 'the account you choose')}."
    )
    blocks: list[Block] = [Text(f"*Waiting for an admin's decision* ({len(waiting):,}): {until}")]
    for user in waiting[:DECISIONS_SHOWN]:
        blocks.append(Text(f"• *{user.principal_name}*: {options(user, connected=connected)}"))
        blocks.append(_decision_buttons(user, organization, removable=removable))
    if len(waiting) > DECISIONS_SHOWN:
        blocks.append(
            Text(
                f"…and {len(waiting) - DECISIONS_SHOWN:,} more: say `decide {organization} PERSON ACCOUNT`"
                f" (or `{NO_ACCESS}`); the attached CSV lists their accounts."
            )
        )
    return blocks


UNDECIDED_FLAG = "--undecided"
"""After a `decide` button's words: shown while nobody had decided, so refused once someone has."""


def account_buttons(organization: str, person: str, accounts: Sequence[tuple[str, str]]) -> list[Button]:
    """`decide` for one `person` (their entitlement id), a button per account (its object id, sign-in name):
    under the plan, and under a person's word to the admins about which account is theirs."""
    return [
        Button(f"{name[:60]} is theirs", "decide", f"{organization} {person} {account} {UNDECIDED_FLAG}")
        for account, name in accounts[:CANDIDATE_BUTTONS]
    ]


def _decision_buttons(user: PlannedUser, organization: str, *, removable: bool) -> Actions:
    accounts = list(zip(user.candidates, user.candidate_names, strict=False))
    buttons = account_buttons(organization, user.id, accounts)
    buttons.append(
        Button(
            "Let them lose access",
            "decide",
            f"{organization} {user.id} {NO_ACCESS} {UNDECIDED_FLAG}",
            "danger",
            confirm=f"{user.principal_name} loses access to {organization} (their history is kept)?",
        )
    )
    if removable and user.outcome == "disabled":
        buttons.append(
            Button(
                "Remove from the organization",
                "remove-users",
                f"{organization} {user.id}",
                "danger",
                confirm=f"Remove {user.principal_name} from {organization}? {REMOVAL_UNDONE_BY}",
            )
        )
    return Actions(tuple(buttons))


def user_table(plan: Plan) -> list[Block]:
    """Each user, what happens to them in plain words (the CSV keeps the outcome's code), their account."""
    words = outcome_words(plan.checks)
    rows = [
        (user.principal_name, words.get(user.group, (user.group,) * 2)[1], _account(user))
        for user in plan.users
    ]
    return lists.table(("Azure DevOps user", "what happens", "directory account"), rows)


def _account(user: PlannedUser) -> str:
    """Their directory account, who chose it, or the accounts to choose from."""
    if user.decided_by and not user.loses_access:
        return f"{user.match.user_principal_name if user.match else '-'} (chosen by {user.decided_by})"
    if user.decided_by:
        return f"none: {user.decided_by} decided they lose access"
    if user.match is not None:
        return user.match.user_principal_name
    return " or ".join(user.candidate_names) or "-"


def plan_csv(plan: Plan) -> Attachment:
    return lists.csv_file(
        f"{plan.organization}-plan.csv",
        f"Per-user plan for {plan.organization}",
        (
            "entitlement_id",
            "principal_name",
            "outcome",
            "match_id",
            "match_upn",
            "matched_by",
            "candidates",
            "candidate_upns",
            "decided_by",
        ),
        [
            (
                user.id,
                user.principal_name,
                user.outcome,
                user.match.id if user.match else "",
                user.match.user_principal_name if user.match else "",
                user.match.by if user.match else "",
                " ".join(user.candidates),
                " ".join(user.candidate_names),
                user.decided_by,
            )
            for user in plan.users
        ],
        organization=plan.organization,
    )
