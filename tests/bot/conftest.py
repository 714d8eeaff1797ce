from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest

from bot.console.chat import ConsoleChat, run_chat
from bot.console.rehearsal import RehearsalClock
from bot.console.surface import ConsoleSurface, console_actor
from bot.conversation.messages import Outgoing
from bot.runtime import Runtime
from sandbox import Sandbox, parse_scenario
from sandbox._copies import copied
from storage import Database
from tests.bot.replays import replayed
from tests.fakes.runtimes import runtime_on
from tests.storage.databases import RunSchema
from workflows.results import Actor

ORG = "fabrikam-fiber"
DANA, LEE = "dana@fabrikam.com", "lee@fabrikam.com"
CONNECTED = [
    "start fabrikam-fiber fabrikam.com",
    "invite",
    "request-approval",
    ":as lee@fabrikam.com",
    "approve 1",
    ":connect",
    ":later 5m",
    ":as dana@fabrikam.com",
    "notify",
]
"""What an admin types in a rehearsal up to the lists going out, five minutes after it began."""


class Chat:
    """A conversation in a test: people type, the bot answers, the test reads what went where.

    `restores`: the steps before the one under test (`started`, `approved`, `connected`, `notified`) may be
    restored from this test process's earlier replay of them (tests/bot/replays.py); tests marked
    `replays_for_real` run them for real."""

    schema: RunSchema | None = None  # always SQLite

    def __init__(self, runtime: Runtime, *, restores: bool = True) -> None:
        self.runtime = runtime
        self.out = io.StringIO()
        self.surface = ConsoleSurface(runtime.conversation, self.out)
        self.restores = restores

    def untouched(self) -> bool:
        return not self.surface.delivered

    def surface_saved(self) -> tuple[str, list[Any]]:
        """The console's transcript and what it delivered where."""
        out = self.surface.out
        transcript = out.getvalue() if isinstance(out, io.StringIO) else ""
        return transcript, copied(self.surface.delivered)

    def restore_surface(self, saved: tuple[str, list[Any]]) -> None:
        transcript, delivered = saved
        self.surface.out.write(transcript)
        self.surface.delivered.extend(copied(delivered))

    def person(self, email: str) -> Actor:
        return console_actor(email)

    def say(self, email: str, text: str, *, in_dm: bool = False) -> list[Outgoing]:
        return self.surface.say(self.person(email), text, in_dm=in_dm)

    def click(self, email: str, outgoing: list[Outgoing], label: str) -> list[Outgoing]:
        for message in outgoing:
            for button in message.message.buttons:
                if label in button.label:
                    return self.surface.click(self.person(email), button.label, button.action, button.value)
        raise AssertionError(f"no [{label}] button in {[m.message.summary for m in outgoing]}")

    def portal_connect(self, tenant: str | None = None) -> None:
        """Connect the organization in the portal, to the scenario's directory unless `tenant` is another."""
        sandbox = self.runtime.sandbox
        assert sandbox is not None
        tenant = tenant or str(sandbox.state()["tenant"]["id"])
        httpx.post(
            f"{sandbox.url}/_sandbox/connect", json={"organization": ORG, "tenantId": tenant}
        ).raise_for_status()

    def state(self) -> str:
        return self.runtime.service.status(ORG).state


@contextmanager
def started_on_clock(
    fabrikam: dict[str, Any], database: Database, clock: Callable[[], datetime]
) -> Iterator[Chat]:
    """Dana's migration started, on a sandbox of its own whose clock is the bot's."""
    with Sandbox(parse_scenario(fabrikam), clock=lambda: clock().timestamp()) as box:
        runtime = runtime_on(box, database, clock=clock)
        try:
            talk = Chat(runtime, restores=False)
            talk.say(DANA, f"/aad start {ORG} fabrikam.com")
            yield talk
        finally:
            runtime.close()


def chatted_at(moment: datetime, box: Sandbox, database: Database, typed: list[str]) -> str:
    """Everything `aadbot chat` printed, one space between words, once Dana typed `typed` on a rehearsal
    clock standing at `moment`, over a runtime of its own."""
    clock = RehearsalClock(real=lambda: moment)
    runtime = runtime_on(box, database, clock=clock)
    try:
        out = io.StringIO()
        assert run_chat(runtime, DANA, io.StringIO("\n".join(typed) + "\n"), out, clock=clock) == 0
    finally:
        runtime.close()
    return " ".join(out.getvalue().split())


def started(chat: Chat, starter: str = DANA) -> list[Outgoing]:
    """`starter` started the migration of fabrikam-fiber to fabrikam.com: what the bot answered."""
    return replayed(chat, ("started", starter), lambda: chat.say(starter, f"/aad start {ORG} fabrikam.com"))


def failed_recheck(chat: Chat, box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Started, then a `recheck` that Microsoft Graph failed (retries and all, without waiting): the
    migration rests in `failed`, with a plan."""
    started(chat)
    monkeypatch.setattr(chat.runtime.microsoft.session, "_sleep", lambda seconds: None)
    box.set_faults(rate_500=1.0, hosts=["graph.microsoft.com"])
    chat.say(DANA, "recheck")
    box.set_faults()
    assert chat.state() == "failed"


def approved(chat: Chat, starter: str = DANA, approver: str = LEE) -> list[Outgoing]:
    """Started, everyone invited, the plan approved by another admin: what the approval answered."""

    def steps() -> list[Outgoing]:
        started(chat, starter)
        chat.say(starter, "invite")
        return chat.click(approver, chat.say(starter, "request-approval"), "Approve")

    return replayed(chat, ("approved", starter, approver), steps)


def connected(chat: Chat, starter: str = DANA, approver: str = LEE) -> list[Outgoing]:
    """Approved, connected in the portal and seen by the watch: what the watch announced."""

    def steps() -> list[Outgoing]:
        approved(chat, starter, approver)
        chat.portal_connect()
        return chat.runtime.conversation.watch()

    return replayed(chat, ("connected", starter, approver), steps)


def notified(chat: Chat, starter: str = DANA, approver: str = LEE) -> list[Outgoing]:
    """Connected, and the lists sent: what `notify` sent."""

    def steps() -> list[Outgoing]:
        connected(chat, starter, approver)
        return chat.say(starter, "notify")

    return replayed(chat, ("notified", starter, approver), steps)


class Rehearsal:
    """`aadbot chat --scenario` in a test: Dana's `ConsoleChat` on the rehearsal clock. Its first lines
    (`rehearsed`) may be restored from this test process's earlier replay of them (tests/bot/replays.py)."""

    schema: RunSchema | None = None  # always SQLite

    def __init__(self, runtime: Runtime, clock: RehearsalClock, *, restores: bool = True) -> None:
        self.runtime = runtime
        self.restores = restores
        self.out = io.StringIO()
        self.chat = ConsoleChat(runtime, DANA, self.out, clock=clock)
        self._greeting = self.out.getvalue()

    def untouched(self) -> bool:
        return self.out.getvalue() == self._greeting  # every line typed prints something

    def surface_saved(self) -> tuple[str, list[Any], Actor]:
        """What the chat printed after its greeting, what it delivered where, and who speaks now."""
        transcript = self.out.getvalue().removeprefix(self._greeting)
        return transcript, copied(self.chat.surface.delivered), self.chat.actor

    def restore_surface(self, saved: tuple[str, list[Any], Actor]) -> None:
        transcript, delivered, actor = saved
        self.out.write(transcript)
        self.chat.surface.delivered.extend(copied(delivered))
        self.chat.actor = actor

    def type(self, lines: list[str]) -> str:
        """Everything the chat printed, from its greeting, once `lines` are typed, with the background watch
        on while they are."""
        with self.chat.watching():
            self.chat.type(lines)
        return self.out.getvalue()


def rehearsed(rehearsal: Rehearsal, lines: list[str]) -> str:
    """`lines` typed in the rehearsal, or restored as this test process left them from the same world: what
    the chat printed then."""
    return replayed(rehearsal, ("rehearsed", *lines), lambda: rehearsal.type(lines))


@pytest.fixture
def runtime(sqlite_database: Database, box: Sandbox, clock: Callable[[], datetime]) -> Iterator[Runtime]:
    """The console's runtime on the sandbox, on the test module's own `clock` fixture (a module without one
    defines its own `runtime`)."""
    built = runtime_on(box, sqlite_database, clock=clock)
    try:
        yield built
    finally:
        built.close()


def text_of(outgoing: list[Outgoing]) -> str:
    from bot.console.render import render

    return "\n".join(render(message.message) for message in outgoing)


def invitation_emails(chat: Chat) -> dict[str, int]:
    """How many invitation emails the sandbox's Microsoft sent to each address."""
    assert chat.runtime.sandbox is not None
    sent: dict[str, int] = {}
    for invitation in chat.runtime.sandbox.state()["tenant"].get("invitations", []):
        if invitation["sendInvitationMessage"]:
            address = invitation["invitedUserEmailAddress"]
            sent[address] = sent.get(address, 0) + 1
    return sent


def may_restore(request: pytest.FixtureRequest) -> bool:
    """Whether the test's chat may restore the steps before the one under test (`Chat`)."""
    return request.node.get_closest_marker("replays_for_real") is None


@pytest.fixture
def chat(request: pytest.FixtureRequest, sqlite_database: Database, box: Sandbox) -> Iterator[Chat]:
    """The runtime over the process's SQLite engine on a fresh copy of the migrated template
    (tests/storage/databases.py) and the test process's sandbox, reset to the bundled scenario."""
    runtime = runtime_on(box, sqlite_database)
    try:
        yield Chat(runtime, restores=may_restore(request))
    finally:
        runtime.close()
