from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest

from bot.console.surface import ConsoleSurface, console_actor
from bot.conversation.messages import Outgoing
from bot.runtime import Runtime
from sandbox import Sandbox
from storage import Database
from tests.fakes.runtimes import runtime_on
from workflows.results import Actor

ORG = "fabrikam-fiber"


class Chat:
    """A conversation in a test: people type, the bot answers, the test reads what went where."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.out = io.StringIO()
        self.surface = ConsoleSurface(runtime.conversation, self.out)

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


def notified(chat: Chat, starter: str = "dana@fabrikam.com", approver: str = "lee@fabrikam.com") -> None:
    """Started, everyone invited, approved, connected in the portal and seen by the watch, lists sent."""
    chat.say(starter, f"/aad start {ORG} fabrikam.com")
    chat.say(starter, "invite")
    chat.click(approver, chat.say(starter, "request-approval"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    chat.say(starter, "notify")


def text_of(outgoing: list[Outgoing]) -> str:
    from bot.console.render import render

    return "\n".join(render(message.message) for message in outgoing)


@pytest.fixture
def chat(sqlite_database: Database, box: Sandbox) -> Iterator[Chat]:
    """The runtime over the process's SQLite engine on a fresh copy of the migrated template
    (tests/storage/databases.py) and the module's sandbox, reset to the bundled scenario."""
    runtime = runtime_on(box, sqlite_database)
    try:
        yield Chat(runtime)
    finally:
        runtime.close()
