"""The words of the rehearsal and of verified sign-ins: what admins and users read about them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation import lists, plan_views, todo_item_views
from bot.conversation.messages import Block, Heading, Message, Outgoing, Text, say
from workflows.identities import mailbox
from workflows.mapping import SUPPORT, map_by_hand
from workflows.progress import Progress
from workflows.results_todo_lists import TodoEntry
from workflows.stages.mapped_identities import Mapped, MappingsSeen
from workflows.stages.verification import SignInCheck, StillPersonal

REHEARSE_HINT = (
    "Want to see exactly what will happen first? `rehearse` shows how to play this whole migration in the"
    " sandbox with your organization's real users, without touching anything real."
)


def rehearse(organization: str | None, tenant: str | None, email: str) -> Outgoing:
    """The steps of a rehearsal: snapshot the live services, then run the migration on the snapshot."""
    org, directory, admin = organization or "ORG", tenant or "TENANT", email or "YOU@EXAMPLE.COM"
    steps = (
        "1. On a machine with the bot's credentials (the same environment as `aadbot serve`), take a"
        f" read-only snapshot: `aadbot snapshot --org {org} --tenant {directory} --out rehearsal.json`"
        " (add `--redact` to share it: names and addresses become consistent stand-ins).\n"
        f"2. See the plan it gives: `aadbot plan --scenario rehearsal.json --connector {admin}`; every user"
        " gets the outcome the live plan gives.\n"
        f"3. Play the whole migration on it: `aadbot chat --as {admin} --scenario rehearsal.json`, then"
        f" `start {org} {directory}`, `invite`, `request-approval` and so on. The sandbox answers as"
        " Microsoft would, with the permissions your credentials really have; nothing real changes: the"
        " rehearsal keeps its state in a database of its own, never the bot's (AADBOT_DATABASE_URL).\n"
        "4. Come back here for the real one."
    )
    if organization is None:
        title = "Rehearse a migration first"
        steps = f"Put your organization's name for ORG and your directory (domain or ID) for TENANT.\n{steps}"
    else:
        title = f"Rehearse the migration of {organization} first"
    return say(title, Heading(title), Text(steps))


def sign_ins_checked(result: SignInCheck, *, named: bool = True) -> Outgoing:
    """Not `named` (asked in a channel): how many, as people's names are their addresses."""
    read = f"I read {result.read:,} users of {result.organization}"
    mapped = _mapped_by_the_check(result.mapped)
    if not result.verified:
        return say(f"{read}: no new sign-in with a work account since my last look.{mapped}")
    guests = {name.casefold() for name in result.guests}
    members = [name for name in result.verified if name.casefold() not in guests]
    work, guest = (f" ({lists.names(members)})", f" ({lists.names(result.guests)})") if named else ("", "")
    # a guest signs in with their own address, as their own message says: never "their work account"
    if not result.guests:
        how = f"with their work account since my last look{work}"
    elif not members:
        how = f"with their guest account since my last look{guest}"
    elif named:
        how = f"since my last look, with their work account{work} or their guest account{guest}"
    else:
        how = (
            f"since my last look, {len(members):,} with their work account and {len(result.guests):,} with"
            " their guest account"
        )
    return say(
        f"{read}: {len(result.verified):,} signed in {how}; {_told(result, named=named)}{mapped} `progress`"
        " has the details."
    )


def _told(result: SignInCheck, *, named: bool) -> str:
    """Whom the check told: not those who had ticked the item themselves, whose list already said so. The
    thanks is queued with the tick, so when the admin reads this it is on its way, not yet with them."""
    before = len(result.ticked_before)
    told = len(result.verified) - before
    if not before:
        return f"I ticked it off their lists; {_ON_ITS_WAY}."
    if not told:
        return "they had ticked it off themselves already, so I told them nothing new."
    who = f" ({lists.names(result.ticked_before)})" if named else ""
    return (
        f"I ticked it off the lists of {plan_views.people(told)}; {_ON_ITS_WAY}. {before:,} had ticked it"
        f" off already{who}, so I told them nothing new."
    )


_ON_ITS_WAY = "my message telling them is on its way"


def _mapped_by_the_check(mapped: Sequence[Mapped]) -> str:
    """What a check of the sign-ins saw mapped by hand, counted: the reply may be a channel's. Told: those
    whose message this check queued (a sign-in seen told the others already)."""
    if not mapped:
        return ""
    said = f" {people_counted(len(mapped), 'is', 'are')} now mapped by hand{_elsewhere(mapped)}."
    as_planned = [each for each in mapped if not each.elsewhere]
    if told := sum(each.told for each in as_planned):
        said += f" My message telling {_of_them(told, len(as_planned))} they can sign in is on its way."
    if elsewhere := [each for each in mapped if each.elsewhere]:
        said += " Each admin hears privately of those mapped to another account"
        if told := sum(each.told for each in elsewhere):
            said += (
                f", and my message telling {_of_them(told, len(elsewhere))} to ask you before signing in with"
                " it is on its way"
            )
        said += "."
    return said


def _of_them(told: int, of: int) -> str:
    return "them" if told == of else f"{told:,} of them"


_NEXT_STEPS = {
    "map": map_by_hand(),
    "invite": "invite them as a guest (`invite`) or give them a work account; then"
    f" {map_by_hand('them', 'it')}",
    "decide": "decide which directory account is theirs (`decide`, or have it enabled), then"
    f" {map_by_hand()}",
    "accept": "invited after the connection, they accept the invitation as their list says; to keep their"
    f" earlier history, {map_by_hand('them', 'their guest account')}",
}
"""In full, once under the table and in each row of its CSV."""
_STEP_CELLS = {
    "map": "map by hand",
    "invite": "invite, then map",
    "decide": "decide, then map",
    "accept": "accept, then map",
}
"""A table cell: each of a few hundred characters would make every line of the table that long."""


def sign_ins_line(report: Progress) -> str:
    """Verified (Azure DevOps saw it), self-reported (the person pressed Done) and open, overall."""
    if report.connected_at is None:
        return ""
    verified, done = report.items_verified, report.items_done
    return (
        f"\nItems: {verified:,} verified from sign-ins, {done - verified:,} self-reported,"
        f" {report.items_total - done:,} open. Signed in with their work or guest account since the"
        " connection"
        f" ({report.connected_at:%Y-%m-%d}): {lists.of_people(report.users_signed_in, len(report.listed))}."
    )


def count_of_people(count: int) -> str:
    """`1 person`, `20,000 people`."""
    return "1 person" if count == 1 else f"{count:,} people"


def people_counted(count: int, one: str, many: str) -> str:
    """`1 person has`, `3 people have`: the count with its verb."""
    return f"{count_of_people(count)} {one if count == 1 else many}"


def still_personal_blocks(
    people: Sequence[StillPersonal], organization: str, *, named: bool = True
) -> list[Block]:
    """Who needs an admin to get across; past the chat list's length, all of them as CSV. Not `named` (a
    channel's copy): how many and the steps, as people's names are their addresses."""
    if not people:
        return []
    rows = [(p.principal_name, p.outcome, _STEP_CELLS[p.next_step]) for p in people]
    steps = dict.fromkeys(p.next_step for p in people)
    blocks: list[Block] = [
        Text(
            f"{people_counted(len(people), 'is', 'are')} still on their Microsoft account after the"
            f" connection and {'needs' if len(people) == 1 else 'need'} you: until you act, they cannot sign"
            " in or their earlier history stays behind."
        ),
        *(lists.table(("user", "case", "next step"), rows) if named else []),
        Text("\n".join(f"• *{_STEP_CELLS[step]}*: {_NEXT_STEPS[step]}." for step in steps)),
    ]
    if named and lists.is_cut(rows):
        blocks.append(
            lists.csv_file(
                f"still-on-microsoft-accounts-{organization}.csv",
                f"Everyone in {organization} still on their Microsoft account, with the next step",
                ("principal name", "case", "next step"),
                [(p.principal_name, p.outcome, _NEXT_STEPS[p.next_step]) for p in people],
                organization=organization,
            )
        )
    return blocks


def sign_in_verified_dm(*, organization: str, name: str, title: str, account: str) -> Message:
    """`account`: what they signed in with, in their list's words ("guest account", "work account")."""
    text = (
        f"Hi {name}, I can see you signed in to {organization} with your {account}: thanks, that's done."
        f" I ticked “{title}” on your list."
    )
    return Message(text, (Text(text),))


def mappings_line(seen: MappingsSeen) -> str:
    """For `status`, in a channel too: how many of those mapped by hand Azure DevOps shows mapped, and how
    many to another account than planned; counted, as `progress` names them to whoever asks."""
    return f"{_mapped_of(seen)} mapped by hand so far{_elsewhere(seen.mapped)}" if seen.to_map else ""


def mappings_blocks(seen: MappingsSeen, organization: str, *, named: bool = True) -> list[Block]:
    """For `progress`: who of the people mapped by hand Azure DevOps shows mapped, and to which account,
    those mapped to another account than planned first; past the chat list's length, all of them as CSV;
    then who was removed from the organization before. Not `named` (a channel's copy): how many."""
    if not seen.to_map:
        return []
    shown = f"{_mapped_of(seen)}{_elsewhere(seen.mapped)}"
    blocks: list[Block] = [Text(f"Identities mapped by hand, as Azure DevOps shows them: {shown}.")]
    if not named:
        return blocks
    if seen.removed:
        removed = ", ".join(seen.removed)
        blocks.append(Text(f"Removed from the organization, so no longer watched for a mapping: {removed}."))
    if not seen.mapped:
        return blocks
    header = ("user", "mapped to", "account")
    rows = [
        (m.principal_name, m.account, f"⚠️ planned {m.planned}" if m.elsewhere else "as planned")
        for m in sorted(seen.mapped, key=lambda mapped: not mapped.elsewhere)
    ]
    title = f"Everyone in {organization} mapped by hand so far, with the account"
    csv = (f"mapped-by-hand-{organization}.csv", title, header, rows)
    return blocks + lists.table_and_csv(header, rows, csv, organization=organization)


def _mapped_of(seen: MappingsSeen) -> str:
    return f"{len(seen.mapped):,} of {seen.to_map:,}"


def _elsewhere(mapped: Sequence[Mapped]) -> str:
    """How many of `mapped` went to another account than planned, in brackets; empty for none."""
    elsewhere = sum(each.elsewhere for each in mapped)
    return f" ({elsewhere} to another account than planned)" if elsewhere else ""


def identity_mapped_dm(
    *,
    organization: str,
    name: str,
    account: str,
    planned: str,
    elsewhere: bool,
    items: Sequence[TodoEntry],
) -> Message:
    """Someone mapped by hand, once Azure DevOps shows it (`workflows.stages.mapped_identities`): sign in
    now, with what their list still holds; mapped `elsewhere` (another account than the `planned` one, by
    its object id), sign in with it only if it is theirs."""
    if not elsewhere:
        heading = f"You can sign in to {organization} now"
        opening = (
            f"Hi {name}, your Azure DevOps identity in {organization} is now mapped to {account}, which keeps"
            f" your history yours: Azure DevOps lets you in with it. Sign in as {account}."
        )
        then = "Then"
    else:
        heading = f"Your identity in {organization} is mapped to another account"
        # a guest's sign-in name (`#EXT#`) is not what their list had them sign in with
        listed = mailbox(planned)
        instead = f"{listed} as your list said" if listed else "the guest account your list named"
        opening = (
            f"Hi {name}, Azure DevOps now shows your identity in {organization} mapped to {account}, not to"
            f" {instead}. I told the migration admins, who check it with you. If {account} is yours, sign in"
            " with it; if it is not, do not: ask them first."
        )
        then = "Once you are in,"
    blocks: list[Block] = [Heading(heading)]
    if not items:
        blocks.append(Text(f"{opening} Nothing else is open on your list."))
        return Message(heading, tuple(blocks))
    tokens = any(item.key == "recreate-pats" for item in items)
    blocks.append(
        Text(
            f"{opening} {then} do what your list still holds"
            + (" (personal access tokens you made before stopped working: make new ones)" if tokens else "")
            + ". Press Done on each as you finish it."
        )
    )
    return Message(heading, (*blocks, *todo_item_views.open_items(items)))


def identity_mapped_elsewhere_dm(
    *, organization: str, person: str, account: str, planned: str, told: bool = True
) -> Message:
    """To each admin, privately: `person` (their Azure DevOps address) was mapped to another account than
    the plan's, which may attach their history to someone else. Support maps identities after a connection
    (the procedure's FAQ, "Some users are disconnected, but they have matching identities"); nothing
    Microsoft publishes says whether *Resolve* lists someone already mapped, so it is not offered. `told`:
    the person's own message was queued with this one (it is on its way, not yet with them); without it
    (a late invitee, whose list has no sign-in item, or someone whose sign-in was seen first) only their
    list says it, which they may not read again: the admins are asked to tell them."""
    heading = f"⚠️ {person} was mapped to another account than planned in {organization}"
    warn = "to ask you before signing in with an account that is not theirs"
    if told:
        them = (
            f"My message telling them what Azure DevOps shows, and {warn}, is on its way; I tell them again"
            " once Azure DevOps shows them mapped as planned."
        )
    else:
        them = (
            "Their to-do list says what Azure DevOps shows, but I sent them no message of it: tell them,"
            f" and {warn}."
        )
    text = (
        f"Azure DevOps now shows the identity of {person} in {organization} mapped to {account}, but the plan"
        f" mapped them to {planned}. Their work history goes with that mapping: if {account} is not theirs,"
        " it is attached to someone else's account. Check with them which account is theirs. To correct it,"
        f" ask Microsoft Support, who map identities after a connection ({SUPPORT}). {them}"
    )
    return Message(heading, (Heading(heading), Text(text)))


def not_signed_in_blocks(
    not_signed_in: Sequence[tuple[str, str]], grace_working_days: int, *, named: bool = True
) -> list[Block]:
    """For the digest: who Azure DevOps has not seen signing in, some working days after the connection;
    not `named` (a channel's copy), how many."""
    if not not_signed_in:
        return []
    said = (
        f"{people_counted(len(not_signed_in), 'has', 'have')} not signed in with their work or guest"
        f" account {grace_working_days} working days after the connection (Azure DevOps shows no sign-in)"
    )
    if not named:
        return [Text(f"{said}.")]
    return [
        Text(f"{said}:"),
        *lists.table(
            ("user", "name"),
            [(email, lists.short(name)) for email, name in not_signed_in],
            rest="in the CSV that `progress` attaches (column *signed in*)",
        ),
    ]
