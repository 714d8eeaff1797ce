"""A long `invite` asked for in a Teams personal chat shows its progress line in that chat: the chat is no
channel a migration runs in, and the line showed only in one, so the admin saw nothing for the minutes a
20,000-person invite takes (rev79 1)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

import bot.runtime
from tests.teams.conftest import ORGANIZATION, Teams, texts
from workflows.settings import WorkflowSettings

DANA = "dana@fabrikam.com"


@pytest.fixture
def at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every step reports from its first person on, as one of thousands does after ten seconds
    (`WorkflowSettings.progress_every`): the scenario's few invitations take no time at all."""
    monkeypatch.setattr(
        bot.runtime, "WorkflowSettings", partial(WorkflowSettings, progress_every=timedelta(0))
    )


def test_an_invite_asked_in_a_personal_chat_shows_its_progress_line_there(
    at_once: None, teams: Teams
) -> None:
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com", channel=False)
    teams.say(DANA, f"invite {ORGANIZATION}", channel=False)
    teams.deliver_outbox()

    lines = [e for e in teams.activities() if texts(e).startswith("Inviting")]
    # one line, in Dana's chat, its last version (the earlier ones given up unsent) saying how it ended
    assert [e["id"] for e in lines] == [e["id"] for e in teams.personal(DANA) if e in lines]
    assert [texts(e).startswith("Inviting 2 users: all done.") for e in lines] == [True]
