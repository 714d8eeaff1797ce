"""A Teams turn that fails (rev78): the words it was handling were logged with %r and posted back into the
channel whole, a password typed with them too. Both now carry them redacted. Over the sandbox's Teams
emulation, the conversation made to fail."""

from __future__ import annotations

import logging

import pytest

from bot.conversation.messages import Outgoing, failed_turn_echo
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


def test_a_failed_turn_names_a_long_message_by_its_beginning_as_slack_does(
    teams: Teams, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """rev81: Teams posted back up to 500 characters of a failed turn's words, Slack 80: both now say the
    same, the beginning (the person knows the rest)."""
    assert teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")["status"] == 200

    def failing(actor: Actor, text: str, *, channel: str | None) -> list[Outgoing]:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(teams.runtime.conversation, "command", failing)
    before = len(teams.activities())
    question = "why does the pipeline stop after the switch " + "and then fail again " * 10
    with caplog.at_level(logging.INFO):
        assert teams.say(CAROL, question)["status"] == 200
    posted = "\n".join(texts(entry) for entry in teams.activities()[before:])
    assert f"while handling {failed_turn_echo(question)};" in posted
    assert question[:79] + "…" == failed_turn_echo(question)
    assert question[:120] not in posted + caplog.text
