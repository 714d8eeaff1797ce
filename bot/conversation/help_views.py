"""Help that fits the moment, and replies to words the bot does not know: all private to the asker."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.conversation.commands import USAGE_OF, USAGES, Command, Usage
from bot.conversation.messages import (
    MAX_BUTTON_VALUE,
    Actions,
    Block,
    Button,
    ButtonStyle,
    Heading,
    Outgoing,
    Text,
    say,
    tell_privately,
)
from bot.conversation.next_actions import UNBLOCKED_BY, next_step
from bot.conversation.quoting import untick
from bot.conversation.understanding import Suggestion, understood_and_extra
from faq.redaction import leaked, redact
from workflows.admin_gate import AdminVerdict
from workflows.results import MigrationStatus
from workflows.results_todo_lists import TodoEntry
from workflows.stages import approval
from workflows.todo import required

_DANGEROUS = frozenset({"cancel", "remove-users", "reject"})
EVERYTHING_ELSE = (
    "*Everything else*\n"
    "`status` where a migration stands · `todo` your own list · ask a question by just writing it"
    " (`will our pipelines keep running?`) · `help all` every word · `help WORD` one word in detail,"
    " e.g. `help invite`"
)


def help_now(
    administered: Sequence[MigrationStatus],
    entries: Sequence[TodoEntry],
    approvable: Collection[int] = (),
    *,
    intro: str = "",
    channel: str | None = None,
) -> Outgoing:
    """What this person can do next in the migrations they are part of, one line each, then the rest.
    `approvable`: the pending requests they may still decide (not their own); `intro`: said first (why
    this answers them). Asked in `channel`, only the migrations run from it: a Teams channel's thread
    shows the answer to everyone there, who have no business with the admin's other organizations."""
    lines: list[str] = []
    buttons: list[Button] = []
    elsewhere = 0
    if channel is not None:
        here = [status for status in administered if status.channel_id == channel]
        elsewhere, administered = len(administered) - len(here), here
    for status in administered:
        step = next_step(status, approves=status.pending_approval_id in approvable)
        stage = status.state.replace("_", " ")
        if step is None and status.pending_approval_id:
            lines.append(
                f"• *{status.organization}* ({stage}): waiting for another admin to decide approval"
                f" #{status.pending_approval_id}."
            )
        elif step is None:
            lines.append(f"• *{status.organization}* ({stage}): nothing to do until it moves on.")
            continue
        else:
            command = f"{step.action} {step.value}"
            then = (
                _unblocking(status, step)
                if status.state in UNBLOCKED_BY
                else f"next, *`{command}`*: {USAGE_OF[step.action].summary}."
            )
            lines.append(f"• *{status.organization}* ({stage}): {then}")
            label = f"{step.label} ({status.organization})"
            buttons.append(Button(label, step.action, step.value, "primary"))
        # deciding for them is still theirs while another admin decides the approval (which it voids)
        if status.undecided:
            lines.append(
                f"  Also: {status.undecided} waiting for your decision (disabled or ambiguous account):"
                f" `plan {status.organization}` shows their choices, `help decide` how."
            )
    asked = required(entries)
    open_items = [entry for entry in asked if not entry.done_at]
    if open_items:
        organization = open_items[0].organization
        lines.append(
            f"• *Your to-do list* ({organization}): *{len(open_items)} of {len(asked)} items open*;"
            " `todo` shows them, `done N` ticks item N off."
        )
        buttons.append(Button("My to-do list", "todo", "", "primary" if not administered else "default"))
    if elsewhere:
        lines.append(
            f"• {elsewhere} more migration(s) you administer run from other channels: `help` in a direct"
            " message with me lists them all."
        )
    if not lines:
        lines.append(
            "Nothing is waiting for you in any migration right now. Admins start one with"
            " `start ORG TENANT`, e.g. `start fabrikam-fiber fabrikam.com`."
        )
    blocks: list[Block] = [Heading("What you can do now")]
    if intro:
        blocks.append(Text(intro))
    blocks.append(Text("\n".join(lines)))
    if buttons:
        blocks.append(Actions(tuple(buttons)))
    blocks.append(Text(EVERYTHING_ELSE))
    # their migrations' next steps are the channel's to read (`status` shows anyone); their own list is not
    return say("What you can do now", *blocks, private=True, impersonal=not open_items)


def _unblocking(status: MigrationStatus, step: Button) -> str:
    """The block's own fix, then the command that follows it unless the fix names it already."""
    fix = status.blocked_fix or f"`plan {status.organization}` shows what holds it back."
    if f"`{step.action}" in fix:
        return f"to move on: {fix}"
    return f"to move on: {fix} Then *`{step.action} {step.value}`*."


def help_all() -> Outgoing:
    admin = [_line(usage) for usage in USAGES if usage.admin]
    everyone = [_line(usage) for usage in USAGES if not usage.admin]
    return say(
        "Every word I understand",
        Heading("aadbot: move Azure DevOps from Microsoft accounts to Microsoft Entra ID"),
        Text("*For the organization's admins*\n" + "\n".join(admin)),
        Text("*For everyone*\n" + "\n".join(everyone)),
        Text("`help WORD` explains one word with an example."),
        private=True,
        impersonal=True,
    )


def help_word(usage: Usage) -> Outgoing:
    who = "the organization's admins" if usage.admin else "everyone"
    return say(
        f"help {usage.word}",
        Heading(f"help {usage.word}"),  # not the synopsis: a heading in capitals loses its placeholders
        Text(
            f"`{usage.synopsis}`: {usage.summary[0].upper()}{usage.summary[1:]}. {usage.details}\n"
            f"*For* {who}. *Example:* `{usage.example}`"
        ),
        private=True,
        impersonal=True,
    )


def did_you_mean(typed: str, suggestions: Sequence[Suggestion]) -> Outgoing:
    """A typo: the likely commands, each a button that runs it with the arguments as typed. A secret among
    them is masked, and its suggestion offers no button: the reply stays in a Teams thread and its shared
    card, and a button would carry the secret (rev81)."""
    meant = " or ".join(f"`{_secret_masked(suggestion.command)}`" for suggestion in suggestions)
    text = f"I don't know `{untick(_secret_masked(typed))}`. Did you mean {meant}?"
    buttons = tuple(
        Button(
            suggestion.command,
            suggestion.word,
            suggestion.text,
            "danger" if suggestion.word in _DANGEROUS else ("primary" if rank == 0 else "default"),
        )
        for rank, suggestion in enumerate(suggestions)
        if len(suggestion.text) <= MAX_BUTTON_VALUE and leaked(suggestion.text) is None
    )
    blocks: list[Block] = [Text(text)]
    if buttons:
        blocks.append(Actions(buttons))
    return tell_privately(text, *blocks)


def _secret_masked(words: str) -> str:
    """`words` masked when they give a secret away as the secret note reads them (`leaked`): not `redact`
    alone, which masks names shaped like keys (`status contoso-2024-devops-prod1` would lose its button)."""
    return words if leaked(words) is None else redact(words)


def own_request(typed: str, meant: Suggestion, approval_id: int) -> Outgoing:
    """A slip for `approve N` by whoever requested approval N: why it is not theirs to approve, and a
    button for what they may do instead, withdraw it."""
    refused = approval.own_request(approval_id)
    text = f"I don't know `{untick(typed)}`. Did you mean `{meant.command}`? {refused}"
    withdraw = Button(f"reject {approval_id}", "reject", str(approval_id), "danger")
    return tell_privately(text, Text(text), Actions((withdraw,)))


def extra_words(command: Command) -> Outgoing:
    """More words than the command takes: which ones, the usage, and the command without them to run."""
    usage = USAGE_OF[command.word]
    understood, extra = understood_and_extra(command, usage.most_arguments or 0)
    text = (
        f"I understood `{untick(_secret_masked(understood))}` but not `{untick(_secret_masked(extra))}`."
        f" Usage: `{usage.synopsis}`, {usage.summary}."
        f" Did you mean just `{untick(_secret_masked(understood))}`? `help {usage.word}` explains it."
    )
    rest = understood.partition(" ")[2]
    blocks: list[Block] = [Text(text)]
    if len(rest) <= MAX_BUTTON_VALUE and leaked(rest) is None:
        style: ButtonStyle = "danger" if usage.word in _DANGEROUS else "primary"
        blocks.append(Actions((Button(understood, usage.word, rest, style),)))
    return tell_privately(text, *blocks)


def not_understood(typed: str) -> Outgoing:
    typed = untick(_secret_masked(typed))
    text = (
        f"I don't know `{typed}`. `help` shows what you can do next, `help all` every word. To ask me"
        " something, write it as a question, e.g. `will our pipelines keep running?`"
    )
    return tell_privately(f"I don't know `{typed}`.", Text(text))


@dataclass(frozen=True)
class HeldMigration:
    """A migration the bot holds, which `status` shows anyone: a refusal may say it exists and who runs it."""

    organization: str
    started_by: str
    admins: tuple[str, ...]
    """Its owner and Project Collection Administrators, as Azure DevOps lists them; empty if unread."""


def admin_refusal(
    who: str, word: str, organization: str | None, verdict: AdminVerdict, held: HeldMigration | None = None
) -> str:
    """Why `word` was refused, telling no stranger whether `organization` exists; any wait is the real one.

    `held`: the migration refused is one the bot holds, so not being its admin is said as such, with who
    is; for any other name "no such organization" and "not its admin" read the same (no probing)."""
    where = f" of {organization}" if organization else ""
    opening = (
        f"Sorry {who}, `{word}` is for the organization's admins: the owner and the Project Collection"
        f" Administrators{where}. Nothing was changed."
    )
    yours = ", ".join(f"`{name}`" for name in verdict.confirmed)
    yours = f" You are an admin of {yours}." if yours else ""
    ask = " Otherwise ask one of them, or ask the bot's operators to add you to AADBOT_ADMINS."
    match verdict.kind:
        case "unavailable" if verdict.operators_must_fix:
            return (
                f"{opening} I could not confirm whether you are one ({verdict.reason.rstrip('.')})."
                " That is not held against you, but asking again will not help until the bot's operators"
                " fix this."
            )
        case "unavailable":
            return (
                f"{opening} I could not confirm whether you are one just now ({verdict.reason.rstrip('.')})."
                " That is not held against you: try again in a few minutes."
            )
        case "limited":
            return (
                f"{opening} You were refused too often within the hour (mistyped names count too), or"
                " too many checks of you are still under way, so I ask Azure DevOps about you again in"
                f" {_minutes(verdict.wait)}; migrations you are"
                f" confirmed an admin of are not affected.{yours}{ask}"
            )
    again = f" If you were made an admin just now, I look again in {_minutes(verdict.wait)}."
    if held is not None:
        admins = ", ".join(held.admins) or f"{held.started_by}, who started this migration, is one"
        return (
            f"Sorry {who}, `{word}` is for the organization's admins (the owner and the Project Collection"
            f" Administrators of {held.organization}), and Azure DevOps does not list you as one. Nothing"
            " was changed."
            f" Its admins: {admins}. Ask one of them to do it, or to add you to the Project Collection"
            f" Administrators group (Organization settings → Permissions).{again} `status` and your own"
            " `todo` are for everyone."
        )
    named = f" `{organization}`" if organization else ""
    return (
        f"Sorry {who}, I found no organization{named} that you administer, so I did nothing: `{word}` is for"
        " the organization's admins (the owner and the Project Collection Administrators). Either the name"
        " is not the one after dev.azure.com/ in the organization's address, or you are not one of its"
        " admins; I do not say"
        f" which, so that nobody can use me to find out which organizations exist.{yours}{again} Otherwise"
        " ask the organization's admins, or ask the bot's operators to add you to AADBOT_ADMINS."
    )


def _minutes(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def stale_button() -> Outgoing:
    """A click on a button this version of the bot no longer has (a message from before an upgrade)."""
    text = (
        "That button is from an older message, so I did nothing. `status` shows where things stand now,"
        " with fresh buttons; `help` shows what you can do next."
    )
    return tell_privately("That button is from an older message.", Text(text))


def _line(usage: Usage) -> str:
    return f"`{usage.synopsis}` - {usage.summary}"
