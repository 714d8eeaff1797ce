"""How a plan reads in chat: the checks, the counts in words, the per-user table and its CSV export."""

from __future__ import annotations

from bot.conversation import lists
from bot.conversation.messages import Attachment, Block, Facts, Text
from workflows.plan import Check, Plan, PlannedUser

CHECK_MARKS = {"pass": "✅", "warn": "⚠️", "fail": "❌"}
OUTCOME_WORDS = {
    "auto": "keep access (same identity)",
    "map": "keep access, mapped by hand after connecting",
    "invite": "lose access unless invited as guests",
    "disabled": "lose access: their directory account is disabled",
    "ambiguous": "need a decision: several directory accounts match",
}


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


def counts_facts(plan: Plan) -> Facts:
    counts = plan.counts
    return Facts(
        tuple(
            (f"{counts[outcome]} users", words) for outcome, words in OUTCOME_WORDS.items() if counts[outcome]
        )
        or (("0 users", "the organization has no users to move"),)
    )


def who_is_affected(plan: Plan) -> Text:
    """The approval prompt's heart: who keeps access, who is mapped, who loses access."""

    def names(users: tuple[PlannedUser, ...]) -> str:
        shown = ", ".join(user.principal_name for user in users[:10])
        return shown + (f" and {len(users) - 10} more" if len(users) > 10 else "") if users else "nobody"

    keep = plan.users_with("auto")
    mapped = plan.users_with("map")
    uninvited = plan.users_with("invite")
    undecided = plan.users_with("disabled") + plan.users_with("ambiguous")
    return Text(
        f"*Keep access* ({len(keep)}): {names(keep)}\n"
        f"*Mapped by hand after connecting* ({len(mapped)}): {names(mapped)}\n"
        f"*Will lose access unless invited* ({len(uninvited)}): {names(uninvited)}\n"
        f"*Lose access until an admin decides* (disabled or ambiguous account, {len(undecided)}):"
        f" {names(undecided)}"
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
    )
