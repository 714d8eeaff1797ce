"""What walk37 asked the real chat before the switch (findings 5 and 6): Ann, whose email matched, and Dana,
the admin who started, once the plan is made. The chat builds each asker's case from the migration's
records."""

from __future__ import annotations

from tests.bot.conftest import Chat, started, text_of
from tests.bot.test_asker_case import flat

DANA, ANN = "dana@fabrikam.com", "ann@fabrikam.com"


def test_asked_to_click_connect_before_the_approval_the_bot_says_it_cannot_and_who_does(chat: Chat) -> None:
    started(chat)
    assert chat.state() == "planned"
    for who, note in (
        (ANN, "Nothing for you to click: the admins connect the organization."),
        (DANA, "Admin tip: when the plan is ready, `request-approval` asks another admin;"),
    ):
        answer = flat(text_of(chat.say(who, "can you click Connect for me?", in_dm=True)))
        assert answer.startswith(f"Can the bot click Connect? {note}"), (who, answer[:200])
        assert "No: Microsoft offers no way for an app to connect an organization to a directory" in answer
        assert "Disconnect directory" not in answer


def test_tf400813_before_the_switch_says_the_move_has_not_changed_her_sign_in(chat: Chat) -> None:
    started(chat)
    answer = flat(text_of(chat.say(ANN, "I get TF400813 when I open the board, what now?", in_dm=True)))
    assert answer.startswith(
        "Your sign-in has not changed The move has not changed your sign-in: fabrikam-fiber is not connected"
        " to the new directory yet"
    ), answer[:200]
    assert (
        "Until then you sign in to https://dev.azure.com/fabrikam-fiber as today, with ann@fabrikam.com."
        in (answer)
    )
    assert "not your Microsoft account" not in answer
