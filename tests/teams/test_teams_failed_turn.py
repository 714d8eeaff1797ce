"""A Teams turn that fails (rev78): the words it was handling were logged with %r and posted back into the
channel whole, a password typed with them too. Both now carry them redacted. Over the sandbox's Teams
emulation, the conversation made to fail."""

from __future__ import annotations

import logging

import pytest

from bot.conversation.messages import Outgoing
from tests.teams.conftest import ORGANIZATION, Teams, texts
from workflows.results import Actor

CAROL, DANA = "carol@fabrikam.com", "dana@fabrikam.com"
PASSWORD = "Fabrikam2024!"


def test_a_failed_turn_neither_logs_nor_posts_a_password_typed_with_it(
    teams: Teams, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")["status"] == 200

    def failing(actor: Actor, text: str, *, channel: str | None) -> list[Outgoing]:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(teams.runtime.conversation, "command", failing)
    before = len(teams.activities())
    with caplog.at_level(logging.INFO):
        assert teams.say(CAROL, f"my password is {PASSWORD} and it does not work")["status"] == 200
    posted = "\n".join(texts(entry) for entry in teams.activities()[before:])
    assert "while handling my password is [redacted] and it does not work;" in posted
    assert "the conversation failed while handling" in caplog.text
    assert PASSWORD not in posted + caplog.text
