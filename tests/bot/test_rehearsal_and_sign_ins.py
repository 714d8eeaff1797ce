"""In chat: how to rehearse, and sign-ins verified from the sandbox's data (console surface, real sandbox)."""

from __future__ import annotations

import io

import httpx

from bot.conversation.messages import DirectMessage, Outgoing, Text
from bot.demo import run_demo
from tests.bot.conftest import ORG, Chat, notified, text_of

DANA, ANN = "dana@fabrikam.com", "ann@fabrikam.com"


def sign_in(chat: Chat, who: str) -> None:
    """`who` signs in to the organization, as the sandbox's sign-ins show it."""
    sandbox = chat.runtime.sandbox
    assert sandbox is not None
    answer = httpx.post(f"{sandbox.url}/_sandbox/signin", json={"organization": ORG, "principalName": who})
    answer.raise_for_status()


def _raw(outgoing: list[Outgoing]) -> str:
    """The words before a surface wraps them."""
    return "\n".join(b.markdown for m in outgoing for b in m.message.blocks if isinstance(b, Text))


def test_rehearse_gives_the_commands_for_this_organization(chat: Chat) -> None:
    before_any_migration = chat.say(ANN, "/aad rehearse")
    general = _raw(before_any_migration)
    assert "aadbot snapshot --org ORG --tenant TENANT --out rehearsal.json" in general
    assert "Put your organization's name for ORG" in general
    assert before_any_migration[0].message.summary == "Rehearse a migration first"  # not "... of ORG first"
    started = _raw(chat.say(DANA, f"/aad start {ORG} fabrikam.com"))
    assert "`rehearse` shows how" in started
    tenant = chat.runtime.service.status(ORG).tenant_id
    answered = chat.say(DANA, "/aad rehearse")
    steps = _raw(answered)
    assert answered[0].message.summary == f"Rehearse the migration of {ORG} first"
    assert "Put your organization's name" not in steps
    assert f"aadbot snapshot --org {ORG} --tenant {tenant} --out rehearsal.json" in steps
    assert f"aadbot chat --as {DANA} --scenario rehearsal.json" in steps
    assert "--redact" in steps


def test_the_watch_verifies_a_sign_in_and_progress_shows_it(chat: Chat) -> None:
    notified(chat)
    sign_in(chat, ANN)
    told = chat.runtime.conversation.watch()
    thanks = [m for m in told if m.to == DirectMessage(ANN)]
    assert len(thanks) == 1
    assert "I can see you signed in to fabrikam-fiber with your work account: thanks, that's done" in _raw(
        thanks
    )
    assert not [m for m in chat.runtime.conversation.watch() if m.to == DirectMessage(ANN)]  # told once

    assert "1 seen signing in, 0 of 2 mapped by hand so far; `progress` has the details." in _raw(
        chat.say(DANA, "status")
    )
    progress = chat.say(DANA, "progress")
    assert "Items: 1 verified from sign-ins, 0 self-reported" in _raw(progress)
    assert "since the connection" in _raw(progress) and "1 of 11 people." in _raw(progress)
    report = text_of(progress)
    ann_row = next(line for line in report.splitlines() if line.strip().startswith(ANN))
    assert "verified" in ann_row
    # Carol and Kim still show their Microsoft accounts and need mapping; Gus and Hana a decision.
    assert "4 people are still on their Microsoft account" in _raw(progress)
    # the progress table lists everyone under one kind of address: their work account where the plan gave
    # one, with the Azure DevOps address they were known by
    assert any(
        line.strip().startswith("kim@fabrikam.com (was kim@fabrikam-old.com)") for line in report.splitlines()
    )
    assert "ann@fabrikam.com (was" not in report
    kim_row = [line for line in report.splitlines() if line.strip().startswith("kim@fabrikam-old.com")][-1]
    assert kim_row.split() == ["kim@fabrikam-old.com", "map", "map", "by", "hand"]
    # each step in full once under the table, not in every row: lines stay readable
    assert _raw(progress).count("select *Resolve*") == 2  # `map by hand` and `decide, then map`
    assert max(len(line) for line in report.splitlines()) <= 120
    rows = [line.strip() for line in report.splitlines() if line.strip().startswith("Sign in with")]
    items = {row.split("  ")[0]: row.split()[-1] for row in rows}
    assert items == {"Sign in with your work account": "5", "Sign in with your guest account": "1"}


def test_an_admin_can_read_the_sign_ins_at_once(chat: Chat) -> None:
    notified(chat)
    chat.runtime.conversation.watch()  # the first scheduled read: nobody yet
    sign_in(chat, "bob.builder@outlook.com")  # a guest already, signing in with their own address
    sign_in(chat, "erin.eng@gmail.com")  # invited by the bot, so their item was to accept the invitation
    reply = _raw(chat.say(DANA, "check-sign-ins"))
    # both are guests, who sign in with their own address, as the messages to them say (walk31 finding 9);
    # asked in the channel, the reply counts them: their names are their addresses
    assert reply == (
        f"I read 11 users of {ORG}: 2 signed in with their guest account since my last look; I ticked it off"
        " their lists; my message telling them is on its way. `progress` has the details."
    )
    bob = chat.runtime.service.todo_list("bob.builder@outlook.com")
    erin = chat.runtime.service.todo_list("erin.eng@gmail.com")
    assert [entry.key for entry in bob if entry.done_at] == ["sign-in-work-account"]
    assert [entry.key for entry in erin if entry.done_at] == ["accept-invitation"]
    refused = text_of(chat.say(ANN, "check-sign-ins"))
    assert "for the organization's admins" in refused


def test_an_invitation_ticked_by_a_sign_in_reads_as_accepted(chat: Chat) -> None:
    """Erin signs in with the guest account her invitation made: her list's item says she is in, not "No
    email? Check your spam folder", naming no account (the watch ticks it for any directory account, one
    Support mapped her to as well)."""
    notified(chat)
    chat.runtime.conversation.watch()  # the first scheduled read: nobody yet
    sign_in(chat, "erin.eng@gmail.com")
    chat.say(DANA, "check-sign-ins")
    todo = " ".join(text_of(chat.say("erin.eng@gmail.com", "todo", in_dm=True)).split())
    assert todo.startswith(
        f"YOUR TO-DO LIST FOR {ORG.upper()}: 1 OF 2 OPEN, 1 OPTIONAL ✅ Accept the invitation to the"
        f" directory You are in: I can see you signed in to https://dev.azure.com/{ORG} with a directory"
        " account. More:"
        " https://learn.microsoft.com/entra/external-id/redemption-experience 2. "
    ), todo


def test_the_sign_ins_read_names_work_and_guest_accounts_apart(chat: Chat) -> None:
    notified(chat)
    chat.runtime.conversation.watch()  # the first scheduled read: nobody yet
    sign_in(chat, ANN)
    sign_in(chat, "erin.eng@gmail.com")
    reply = _raw(chat.say(DANA, "check-sign-ins", in_dm=True))  # asked privately: named
    assert (
        "2 signed in since my last look, with their work account (ann@fabrikam.com) or their guest account"
        " (erin.eng@gmail.com); I ticked it off their lists; my message telling them is on its way."
    ) in reply


def test_the_demo_shows_a_verified_sign_in() -> None:
    out = io.StringIO()
    assert run_demo(out) == 0
    transcript = out.getvalue()
    signed_in = transcript.index("Ann signs in to Azure DevOps with her work account")
    thanks = transcript.index("I can see you signed in to fabrikam-fiber with your work account")
    shown = transcript.index("Items: 1 verified from sign-ins")
    assert signed_in < thanks < shown
