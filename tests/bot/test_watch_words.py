"""What people are told about the connection watch matches what the bot does: it looks every
AADBOT_POLL_SECONDS (60 s unless set), not "every few seconds"."""

from __future__ import annotations

import pytest

from sandbox import Sandbox
from storage import Database
from tests.bot.conftest import ORG, Chat
from tests.fakes.runtimes import runtime_on

DANA, LEE = "dana@fabrikam.com", "lee@fabrikam.com"


@pytest.mark.parametrize(
    ("poll_seconds", "said"),
    [
        (60.0, "I check the organization's directory every minute"),
        (300.0, "I check the organization's directory every 5 minutes"),
        (15.0, "I check the organization's directory every 15 seconds"),
    ],
)
def test_the_portal_steps_say_how_often_the_watch_looks(
    sqlite_database: Database, box: Sandbox, poll_seconds: float, said: str
) -> None:
    runtime = runtime_on(box, sqlite_database, poll_seconds=poll_seconds)
    try:
        chat = Chat(runtime)
        for words in (f"start {ORG} fabrikam.com", "invite", "request-approval"):
            chat.say(DANA, words)
        chat.say(LEE, "approve 1")
    finally:
        runtime.close()
    steps = " ".join(chat.out.getvalue().split("CONNECT FABRIKAM-FIBER TO FABRIKAM", 1)[1].split())
    assert f"{said} and announce it when it is done; `check-connection` checks at once." in steps
