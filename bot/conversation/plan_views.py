"""How a plan reads in chat: the checks, the counts in words, the per-user table and its CSV export."""

from __future__ import annotations

from collections.abc import Mapping

from bot.conversation import lists
from bot.conversation.messages import Attachment, Block, Facts, Text
from workflows.plan import Check, Plan
from workflows.results import Affected, People

CHECK_MARKS = {"pass": "✅", "warn": "⚠️", "fail": "❌"}
OUTCOME_WORDS = {
    "auto": ("keep access (same identity)", "keeps access (same identity)"),
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
}
"""What happens to the users of each outcome: (several, one)."""


def people(count: int) -> str:
    return f"{count} user" if count == 1 else f"{count} users"


def check_lines(checks: tuple[Check, ...]) -> Text:
    lines = []
    for check in checks:
        line = f"{CHECK_MARKS[check.status]} *{check.code}*: {check.message}"
        if check.fix and check.status != "pass" and check.fix not in check.message:
            line += f"\n      Fix: {check.fix}"
        lines.append(line)
    return Text("\n".join(lines) or "No checks ran.")


def counts_facts(counts: Mapping[str, int]) -> Facts:
    """How many users each outcome has, and what happens to them."""
    pairs = tuple(
        (people(counts[outcome]), several if counts[outcome] != 1 else one)
        for outcome, (several, one) in OUTCOME_WORDS.items()
        if counts.get(outcome)
    )
    return Facts(pairs or (("0 users", "the organization has no users to move"),))


def who_is_affected(affected: Affected) -> Text:
    """The approval prompt's heart: who keeps access, who is mapped, who loses access."""

    def names(people: People) -> str:
        shown = ", ".join(people.names)
        more = people.count - len(people.names)
        return shown + (f" and {more} more" if more > 0 else "") if people.count else "nobody"

    waiting = affected.to_accept
    to_accept = (
        f"*Invited, still to accept* (keep access once they accept the invitation, {waiting.count}):"
        f" {names(waiting)}\n"
        if waiting.count
        else ""
    )
    return Text(
        f"*Keep access* ({affected.keep.count}): {names(affected.keep)}\n"
        f"{to_accept}"
        f"*Mapped by hand after connecting* ({affected.mapped.count}): {names(affected.mapped)}\n"
        f"*Will lose access unless invited* ({affected.uninvited.count}): {names(affected.uninvited)}\n"
        f"*Lose access until an admin decides* (disabled or ambiguous account, {affected.undecided.count}):"
        f" {names(affected.undecided)}"
    )


def user_table(plan: Plan) -> list[Block]:
    rows = [
        (user.principal_name, user.outcome, user.match.user_principal_name if user.match else "-")
        for user in plan.users
    ]
    return lists.table(("Azure DevOps user", "outcome", "directory account"), rows)


def plan_csv(plan: Plan) -> Attachment:
    return lists.csv_file(
        f"{plan.organization}-plan.csv",
        f"Per-user plan for {plan.organization}",
        ("entitlement_id", "principal_name", "outcome", "match_id", "match_upn", "matched_by", "candidates"),
        [
            (
                user.id,
                user.principal_name,
                user.outcome,
                user.match.id if user.match else "",
                user.match.user_principal_name if user.match else "",
                user.match.by if user.match else "",
                " ".join(user.candidates),
            )
            for user in plan.users
        ],
        organization=plan.organization,
    )
