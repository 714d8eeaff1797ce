"""Who joined the plan since the advance notice is pointed to the command that tells only them, with the date
as stored: a notice announced as free text, before a day first was asked for (fix158), is refused typed
again (console surface, real sandbox and database)."""

from __future__ import annotations

import pytest

from tests.bot.conftest import ORG, Chat, started, text_of
from tests.bot.test_decisions import DANA, HANA, HANA_MEMBER, dms_to
from workflows.stages import announcing


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_hana_given_an_account_after_a_free_text_notice_is_told_by_the_command_status_suggests(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(chat)
    chat.say(DANA, f"decide {HANA} no-access")  # left out of the notice, as she would lose access
    with monkeypatch.context() as older:  # the date stored as typed, as before fix158
        older.setattr(announcing, "announcement_when", lambda when, **_: when)
        chat.say(DANA, f"announce {ORG} when the pilot ends")
    chat.say(DANA, f"decide {HANA} {HANA_MEMBER}")
    status = _flat(text_of(chat.say(DANA, f"status {ORG}", in_dm=True)))
    assert (
        f"1 person has joined the plan since: `announce {ORG}` tells only them, with the same date." in status
    )
    told = chat.say(DANA, f"announce {ORG}")
    assert _flat(text_of(told)).startswith(
        "Telling 1 of 10 people what is coming for when the pilot ends, by direct message (the others"
    )
    (notice,) = dms_to(told + chat.runtime.conversation.watch(), HANA)
    assert notice.startswith(f"Coming when the pilot ends: {ORG} moves to Fabrikam accounts Hi Hana"), notice
