"""What *I need help* on an item of someone's list answers (walk38 on Teams): the admins are told there and
then, and the card has no *Ask an admin* button, so it must not tell them to press one. Conversations over
the console surface, with the bundled scenario in the sandbox and a real database."""

from __future__ import annotations

from bot.conversation.messages import Reply
from tests.bot.conftest import Chat, started
from tests.bot.test_decisions import lines
from tests.bot.test_help_reaches_them_now import list_of

CAROL, GUS, IVAN = "carol@fabrikam.com", "gus@fabrikam.com", "ivan@fabrikam.com"
TOLD = (
    "I have also told the migration admins (dana@fabrikam.com, lee@fabrikam.com) that you need a hand; one of"
    " them will reach out."
)


def _helped(chat: Chat, email: str, times: int = 1) -> list[list[str]]:
    """`email` presses *I need help* on the first item of their list `times` times: what each reply to them
    says, checked to carry no button."""
    their_list, said = list_of(chat, email), []
    for _ in range(times):
        (reply,) = [m for m in chat.click(email, their_list, "I need help") if isinstance(m.to, Reply)]
        assert reply.message.buttons == ()
        said.append(lines([reply]))
    return said


def test_help_on_an_item_ends_saying_the_admins_were_told_not_to_press_a_missing_button(chat: Chat) -> None:
    (said,) = _helped(chat, CAROL)
    assert not [line for line in said if "Ask an admin" in line]
    assert said[-2:] == [
        "Microsoft's page: https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/faq-azure-access",
        TOLD,
    ]


def test_help_with_a_disabled_account_and_pressed_again_names_no_button_either(chat: Chat) -> None:
    """Gus's directory account is disabled: the topic that answers it, and the same help a second time."""
    said, again = _helped(chat, GUS, times=2)
    assert not [line for line in said if "Ask an admin" in line]
    assert said[-1] == TOLD
    assert not [line for line in again if "Ask an admin" in line]
    assert again[-1] == (
        "The migration admins (dana@fabrikam.com, lee@fabrikam.com) already know today that you need a hand"
        " with this."
    )


def test_a_topic_asked_for_by_its_id_carries_the_ask_an_admin_button_its_answer_names(chat: Chat) -> None:
    """`ask TOPIC-ID` typed asks no question of its own: its answer said "press *Ask an admin*" over no
    button at all (rev78); the button now carries the topic's title to the admins."""
    started(chat)
    (reply,) = chat.say(IVAN, "ask account-picker-prompt")
    assert any("press *Ask an admin*" in line for line in lines([reply]))
    (button,) = [button for button in reply.message.buttons if button.label == "Ask an admin"]
    assert button.value == "Asked to choose between a Microsoft account and a work account"
