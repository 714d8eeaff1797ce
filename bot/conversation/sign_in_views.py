"""The words of the rehearsal and of verified sign-ins: what admins and users read about them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation import lists
from bot.conversation.messages import Block, Heading, Message, Outgoing, Text, say
from workflows.mapping import map_by_hand
from workflows.progress import Progress
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


def sign_ins_checked(result: SignInCheck) -> Outgoing:
    read = f"I read {result.read:,} users of {result.organization}"
    if not result.verified:
        return say(f"{read}: no new sign-in with a work account since my last look.")
    guests = {name.casefold() for name in result.guests}
    members = [name for name in result.verified if name.casefold() not in guests]
    # a guest signs in with their own address, as their own message says: never "their work account"
    if not result.guests:
        how = f"with their work account since my last look ({lists.names(members)})"
    elif not members:
        how = f"with their guest account since my last look ({lists.names(result.guests)})"
    else:
        how = (
            f"since my last look, with their work account ({lists.names(members)}) or their guest account"
            f" ({lists.names(result.guests)})"
        )
    return say(
        f"{read}: {len(result.verified)} signed in {how}; I ticked it off their lists and told them."
        " `progress` has the details."
    )


_NEXT_STEPS = {
    "map": map_by_hand(),
    "invite": "invite them as a guest (`invite`) or give them a work account; then"
    f" {map_by_hand('them', 'it')}",
    "decide": "decide which directory account is theirs (`decide`, or have it enabled), then"
    f" {map_by_hand()}",
}
"""In full, once under the table and in each row of its CSV."""
_STEP_CELLS = {"map": "map by hand", "invite": "invite, then map", "decide": "decide, then map"}
"""A table cell: each of a few hundred characters would make every line of the table that long."""


def sign_ins_line(report: Progress) -> str:
    """Verified (Azure DevOps saw it), self-reported (the person pressed Done) and open, overall."""
    if report.connected_at is None:
        return ""
    verified, done = report.items_verified, report.items_done
    return (
        f"\nItems: {verified} verified from sign-ins, {done - verified} self-reported,"
        f" {report.items_total - done} open. Signed in with their work or guest account since the connection"
        f" ({report.connected_at:%Y-%m-%d}): {lists.of_people(report.users_signed_in, len(report.listed))}."
    )


def people_counted(count: int, one: str, many: str) -> str:
    """`1 person has`, `3 people have`: the count with its verb."""
    return f"1 person {one}" if count == 1 else f"{count:,} people {many}"


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
            " connection and need you: they cannot sign in until you act."
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


def not_signed_in_blocks(not_signed_in: Sequence[tuple[str, str]], grace_working_days: int) -> list[Block]:
    """For the digest: who Azure DevOps has not seen signing in, some working days after the connection."""
    if not not_signed_in:
        return []
    return [
        Text(
            f"{people_counted(len(not_signed_in), 'has', 'have')} not signed in with their work or guest"
            f" account {grace_working_days} working days after the connection"
            " (Azure DevOps shows no sign-in):"
        ),
        *lists.table(
            ("user", "name"),
            [(email, lists.short(name)) for email, name in not_signed_in],
            rest="in the CSV that `progress` attaches (column *signed in*)",
        ),
    ]
