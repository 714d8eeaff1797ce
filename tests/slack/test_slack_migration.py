"""A whole migration over Slack (HTTP, Socket Mode) with the real conversation, the sandbox, a fake Slack."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot.conversation.handlers import Conversation
from bot.conversation.messages import DirectMessage, Message, Outgoing
from bot.runtime import Runtime
from bot.slack.blocks import render
from sandbox import Sandbox
from storage import Database, OutboundMessage
from tests.fakes.runtimes import runtime_on
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import TRANSPORTS, Harness, ServeBot, button, texts
from workflows.notices import APPROVAL_PEOPLE, APPROVAL_PROMPT
from workflows.results import Actor

ORGANIZATION = "fabrikam-fiber"
CHANNEL = "CMIGRATE"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PEOPLE = {
    "UDANA": ("dana@fabrikam.com", "Dana Owner"),
    "ULEE": ("lee@fabrikam.com", "Lee Admin"),
    "UCAROL": ("carol@fabrikam.com", "Carol Extra"),  # an admin only through AADBOT_ADMINS
    "UANN": ("ann@fabrikam.com", "Ann User"),
    "UGUS": ("gus@fabrikam.com", "Gus User"),
    "UIVAN": ("ivan@fabrikam.com", "Ivan User"),
}


@pytest.fixture
def runtime(sqlite_database: Database, box: Sandbox) -> Iterator[Runtime]:
    built = runtime_on(box, sqlite_database, admin_ids=frozenset({"UCAROL"}))
    yield built
    built.close()


class Recording:
    """The real conversation, with every answer it gives kept so that tests know when a turn is over."""

    def __init__(self, conversation: Conversation) -> None:
        self._conversation = conversation
        self.turns: list[list[Outgoing]] = []
        self._changed = threading.Condition()

    def command(
        self,
        actor: Actor,
        text: str,
        *,
        channel: str | None,
        seen_in_channel: bool = True,
        reply_to: str | None = None,
    ) -> list[Outgoing]:
        return self._keep(
            self._conversation.command(
                actor, text, channel=channel, seen_in_channel=seen_in_channel, reply_to=reply_to
            )
        )

    def action(
        self, actor: Actor, action: str, value: str, *, channel: str | None, reply_to: str | None = None
    ) -> list[Outgoing]:
        return self._keep(self._conversation.action(actor, action, value, channel=channel, reply_to=reply_to))

    def chat(self, actor: Actor, text: str, *, reply_to: str | None = None) -> list[Outgoing]:
        return self._keep(self._conversation.chat(actor, text, reply_to=reply_to))

    def home(self, actor: Actor) -> Message:
        return self._conversation.home(actor)

    def watch(self) -> list[Outgoing]:
        return self._conversation.watch()

    def wait_for_turns(self, count: int) -> list[list[Outgoing]]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.turns) >= count, 20), (
                "the conversation never answered"
            )
            return list(self.turns)

    def _keep(self, outgoings: list[Outgoing]) -> list[Outgoing]:
        with self._changed:
            self.turns.append(outgoings)
            self._changed.notify_all()
        return outgoings


@dataclass
class Migration:
    slack: Harness
    runtime: Runtime
    recording: Recording

    def command(self, user: str, text: str) -> str:
        """Runs `/aad text` as `user`; everything the bot said in answer, as text."""
        turns = len(self.recording.turns)
        assert self.slack.send.command(text, user=user, channel=CHANNEL).status_code == 200
        return said(self.recording.wait_for_turns(turns + 1)[turns])

    def state(self) -> str:
        return self.runtime.service.status(ORGANIZATION).state


def said(outgoings: list[Outgoing]) -> str:
    return "\n".join(texts({"text": out.message.summary, "blocks": render(out.message)}) for out in outgoings)


@pytest.fixture(params=TRANSPORTS)
def migration(
    serve_bot: ServeBot, fake_slack: FakeSlack, runtime: Runtime, request: pytest.FixtureRequest
) -> Migration:
    fake_slack.users.update(PEOPLE)
    recording = Recording(runtime.conversation)
    return Migration(serve_bot(recording, transport=request.param), runtime, recording)


def test_a_whole_migration_from_start_to_notified_users(migration: Migration) -> None:
    fake, send = migration.slack.fake, migration.slack.send
    started = migration.command("UDANA", f"start {ORGANIZATION} fabrikam.com")
    assert started.startswith(f"Migration of {ORGANIZATION} started: planned\n")
    assert migration.state() == "planned"

    before = migration.state()
    refused = migration.command("UANN", f"invite {ORGANIZATION}")
    assert refused.startswith("Sorry Ann User, `invite` is for the organization's admins")
    assert migration.state() == before  # refused: nothing changed

    invited = migration.command("UDANA", f"invite {ORGANIZATION}")
    counted = (
        f"📨 Invitations for {ORGANIZATION}, by Dana Owner: 2 invited. Who they are is for Dana Owner alone:"
        " I send it to them privately."
    )
    assert invited.startswith(f"{counted}\n{counted}\n2 invited.\n")  # the channel's, then Dana's own
    assert re.search(r"erin\.eng@gmail\.com +sent +PendingAcceptance", invited)
    assert re.search(r"frank\.f@outlook\.com +sent +PendingAcceptance", invited)

    migration.command("UDANA", f"request-approval {ORGANIZATION}")
    fake.wait_for(lambda f: sum("Approve" in texts(m) for m in f.messages.values()) >= 2, timeout=20)
    copies = [key for key, message in fake.messages.items() if "Approve" in texts(message)]
    prompt = next(
        call
        for call in fake.calls_of("chat.postMessage")
        if call.params["channel"] == CHANNEL and "Approve" in texts(call.params)
    )
    approve, reject = button(prompt, "Approve"), button(prompt, "Reject")
    assert (approve["style"], reject["style"]) == ("primary", "danger")

    turns = len(migration.recording.turns)
    send.click(approve["action_id"], approve["value"], user="UDANA", channel=CHANNEL)
    refusal = said(migration.recording.wait_for_turns(turns + 1)[turns])
    assert "another admin must approve" in refusal
    assert not any("Approved by" in texts(fake.messages[key]) for key in copies)

    # Lee and Carol (an admin through AADBOT_ADMINS) click at the same moment: exactly one approves
    turns = len(migration.recording.turns)
    with ThreadPoolExecutor(2) as pool:
        clicks = [
            pool.submit(send.click, approve["action_id"], approve["value"], user=user, channel=CHANNEL)
            for user in ("ULEE", "UCAROL")
        ]
        assert [click.result().status_code for click in clicks] == [200, 200]
    decided = migration.recording.wait_for_turns(turns + 2)[turns:]
    approvals = [turn for turn in decided if any(isinstance(out.to, DirectMessage) for out in turn)]
    assert len(approvals) == 1  # only the winner gets the portal steps
    fake.wait_for(lambda f: all("Approved by" in texts(f.messages[key]) for key in copies), timeout=20)
    deciders = {
        name for name in ("Lee Admin", "Carol Extra") for key in copies if name in texts(fake.messages[key])
    }
    assert len(deciders) == 1
    # whichever click wins, the portal steps go to someone who may connect: Lee, a Project Collection
    # Administrator, connects himself; Carol is an admin of the bot only, so Dana, who asked, connects
    connector = {"Lee Admin": "ULEE", "Carol Extra": "UDANA"}[deciders.pop()]
    portal = [out for out in approvals[0] if out.message.summary.startswith("Your steps to connect")]
    (steps,) = [out for out in portal if isinstance(out.to, DirectMessage)]
    assert steps.to == DirectMessage(PEOPLE[connector][0])
    fake.wait_for(
        lambda f: any(
            c.params["channel"] == f"D{connector}" and "Connect directory" in texts(c.params)
            for c in f.calls_of("chat.postMessage")
        ),
        timeout=20,
    )

    sandbox = migration.runtime.sandbox
    assert sandbox is not None
    tenant_id = str(sandbox.state()["tenant"]["id"])
    connect = {"organization": ORGANIZATION, "tenantId": tenant_id}
    httpx.post(f"{sandbox.url}/_sandbox/connect", json=connect, timeout=10).raise_for_status()
    connected = migration.command("UDANA", f"check-connection {ORGANIZATION}")
    assert connected.startswith(f"🎉 {ORGANIZATION} is now connected to Fabrikam.")
    assert migration.state() == "connected"

    migration.command("UDANA", f"notify {ORGANIZATION}")
    fake.wait_for(
        lambda f: any(c.params["channel"] == "DUGUS" for c in f.calls_of("chat.postMessage")), timeout=20
    )
    todo = next(c for c in fake.calls_of("chat.postMessage") if c.params["channel"] == "DUGUS")
    assert "Done" in texts(todo.params)
    # people of the organization who have no Slack account are named to whoever notified
    # (each in a line of the note: its fallback text is only the first line, so read its blocks too)
    fake.wait_for(lambda f: any("outlook.com" in texts(r) for r in f.responses), timeout=20)


def test_the_channels_prompt_names_nobody_once_every_copy_and_each_approvers_names_were_posted(
    migration: Migration,
) -> None:
    """Slack keeps every copy of a prompt equal (a post updates the earlier copies): whichever copy goes
    last, no copy may carry the names (people's addresses), or it lands in the channel; each approver has
    them in a message of its own."""
    fake = migration.slack.fake
    migration.command("UDANA", f"start {ORGANIZATION} fabrikam.com")
    migration.command("UDANA", f"invite {ORGANIZATION}")
    migration.command("UDANA", f"request-approval {ORGANIZATION}")

    with migration.runtime.database.session() as session:
        kinds = col(OutboundMessage.kind).in_([APPROVAL_PROMPT, APPROVAL_PEOPLE])
        queued = session.exec(select(OutboundMessage).where(kinds)).all()
    approvers = {row.recipient for row in queued if row.kind == APPROVAL_PEOPLE}
    assert approvers and len(queued) == 2 * len(approvers) + 1  # a copy each, the channel's, and whom

    def posted(f: FakeSlack) -> int:
        calls = f.calls_of("chat.postMessage")
        return sum(1 for call in calls if "approval #1" in texts(call.params).lower())

    fake.wait_for(lambda f: posted(f) == len(queued), timeout=20)
    prompt_calls = [
        call.params
        for call in fake.calls_of("chat.postMessage") + fake.calls_of("chat.update")
        if "Approval #1 needed" in texts(call.params)
    ]
    assert len(prompt_calls) >= len(approvers) + 1
    assert [EMAIL.findall(texts(params)) for params in prompt_calls] == [[]] * len(prompt_calls)
    (in_channel,) = [
        message
        for (channel, _), message in fake.messages.items()
        if channel == CHANNEL and "Approval #1 needed" in texts(message)
    ]
    assert "Approve" in texts(in_channel) and EMAIL.findall(texts(in_channel)) == []
    whom = [message for message in fake.messages.values() if "Who approval #1 affects" in texts(message)]
    assert len(whom) == len(approvers)
    assert all("erin.eng@gmail.com, frank.f@outlook.com" in texts(message) for message in whom)


def test_each_approvers_names_are_updated_in_place_to_the_rejection_and_name_nobody_then(
    migration: Migration,
) -> None:
    """Settled, an approval no longer needs whom it affects named: each approver's message of its own is
    updated (not posted again) to say who rejected it, when and why, and no longer carries an address."""
    fake = migration.slack.fake
    migration.command("UDANA", f"start {ORGANIZATION} fabrikam.com")
    migration.command("UDANA", f"invite {ORGANIZATION}")
    migration.command("UDANA", f"request-approval {ORGANIZATION}")
    with migration.runtime.database.session() as session:
        named = session.exec(select(OutboundMessage).where(OutboundMessage.kind == APPROVAL_PEOPLE)).all()
    approvers = len(named)

    def whom(f: FakeSlack, heading: str) -> list[dict[str, Any]]:
        return [message for message in f.messages.values() if heading in texts(message)]

    fake.wait_for(lambda f: len(whom(f, "Who approval #1 affects")) == approvers, timeout=20)
    migration.command("ULEE", "reject 1 wait for release")

    fake.wait_for(lambda f: len(whom(f, "Who approval #1 affected")) == approvers, timeout=20)
    assert approvers >= 1 and whom(fake, "Who approval #1 affects") == []  # each updated, none posted again
    for message in whom(fake, "Who approval #1 affected"):
        shown = texts(message)
        assert shown.startswith("Who approval #1 affected: 🚫 Rejected by Lee Admin\n")
        assert "🚫 Rejected by Lee Admin on " in shown and "Reason: wait for release" in shown
        assert EMAIL.findall(shown) == []


def test_the_advance_notice_reaches_someone_several_accounts_match_at_the_one_slack_knows(
    migration: Migration,
) -> None:
    """Slack knows Hana by hana.hart@fabrikam.com, one of the two directory accounts holding her Azure DevOps
    address hana@contoso.com (walk37 finding 9): the notice is looked for at each of them, as her list is."""
    fake = migration.slack.fake
    fake.users["UHANA"] = ("hana.hart@fabrikam.com", "Hana Hart")
    when = f"{datetime.now(UTC) + timedelta(days=7):%Y-%m-%d} 10:00 UTC"
    migration.command("UDANA", f"start {ORGANIZATION} fabrikam.com")
    migration.command("UDANA", f"announce {ORGANIZATION} {when}")

    def to_hana(f: FakeSlack) -> list[dict[str, Any]]:
        return [c.params for c in f.calls_of("chat.postMessage") if c.params["channel"] == "DUHANA"]

    fake.wait_for(lambda f: bool(to_hana(f)), timeout=20)
    (notice,) = to_hana(fake)
    assert notice["text"] == f"Coming {when}: {ORGANIZATION} moves to Fabrikam accounts"
    assert (
        "Several accounts in Fabrikam match your address (hana_contoso.com#EXT#@fabrikam.onmicrosoft.com,"
        " hana.hart@fabrikam.com). Tell the migration admins (dana@fabrikam.com, lee@fabrikam.com) which"
        " one" in " ".join(texts(notice).split())
    )


def test_invite_typed_in_the_channel_is_counted_there_and_named_to_the_typist_alone(
    migration: Migration,
) -> None:
    """`/aad invite` in the channel (walk37 finding 10): the channel reads how many, naming nobody; who, with
    each one's result, goes to the admin who typed it alone, in one ephemeral answer that says nothing of a
    message only they see."""
    fake = migration.slack.fake
    migration.command("UDANA", f"start {ORGANIZATION} fabrikam.com")
    answers = len(fake.responses)

    migration.command("ULEE", f"invite {ORGANIZATION}")

    counted = (
        f"📨 Invitations for {ORGANIZATION}, by Lee Admin: 2 invited. Who they are is for Lee Admin alone: I"
        " send it to them privately."
    )

    def in_channel(f: FakeSlack) -> list[str]:
        calls = f.calls_of("chat.postMessage")
        return [
            c.params["text"] for c in calls if c.params["channel"] == CHANNEL and "📨" in c.params["text"]
        ]

    fake.wait_for(lambda f: bool(in_channel(f)), timeout=20)
    assert in_channel(fake) == [counted]
    fake.wait_for(lambda f: len(f.responses) > answers, timeout=20)
    (answer,) = fake.responses[answers:]
    assert answer["response_type"] == "ephemeral" and answer["text"] == "2 invited."
    assert "erin.eng@gmail.com" in texts(answer) and "frank.f@outlook.com" in texts(answer)
    assert "only you see" not in texts(answer)
