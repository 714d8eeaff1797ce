"""*Remove this user* under `stale-users` pressed again once the user is gone (walk38 on Teams: "Yes,
remove this user" a second time): who removed them and when, not "The list changed since it was shown".
Over the console surface, with the bundled scenario in the sandbox and a real database."""

from __future__ import annotations

from tests.bot.conftest import DANA, LEE, Chat, started, text_of


def test_the_remove_button_pressed_again_says_who_already_removed_them(chat: Chat) -> None:
    started(chat)
    listed = chat.say(DANA, "stale-users")
    assert "Removed 1 user: gus@fabrikam.com." in " ".join(
        text_of(chat.click(DANA, listed, "Remove this user")).split()
    )
    again = " ".join(text_of(chat.click(LEE, listed, "Remove this user")).split())
    assert again.startswith("Already removed, by Dana on "), again
    assert again.endswith(
        ": nobody was left to remove from that list. `stale-users fabrikam-fiber` lists whoever is stale now."
    )
    assert "The list changed" not in again


def test_a_list_changed_otherwise_is_still_shown_anew(chat: Chat) -> None:
    started(chat)
    listed = chat.say(DANA, "stale-users")
    (remove,) = listed[0].message.buttons
    other = remove.value.rsplit(" ", 1)[0] + " 0123456789abcdef"  # a list no removal took
    changed = " ".join(text_of(chat.say(DANA, f"remove-users {other}")).split())
    assert changed.startswith("The list changed since it was shown")
