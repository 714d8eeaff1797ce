"""Microsoft's first prerequisite, "Inform users of the upcoming change ... before you begin", comes first:
the start summary's next steps follow the tutorial's order with *Tell users what is coming* first, an
approval asked before anyone was told says so (without blocking), and the button asks before it messages
everyone (reviewer's findings)."""

from __future__ import annotations

from bot.conversation.messages import Button, DirectMessage, Outgoing, Reply
from tests.bot.conftest import ORG, Chat, started, text_of

DANA, LEE = "dana@fabrikam.com", "lee@fabrikam.com"
NOBODY_TOLD = f"Nobody in {ORG} has been told yet what is coming"


def buttons(outgoing: list[Outgoing]) -> list[Button]:
    return [button for message in outgoing for button in message.message.buttons]


def test_the_start_summary_puts_telling_users_first_in_the_tutorials_order(chat: Chat) -> None:
    started = chat.say(DANA, f"/aad start {ORG} fabrikam.com")
    said = " ".join(text_of(started).split())
    assert (
        "Next, as Microsoft orders it: tell users what is coming (`announce`, with the date), invite the"
        " missing users, then request approval."
    ) in said
    labels = [button.label for button in buttons(started)]
    assert labels[0] == "Tell users what is coming"
    assert labels.index("Tell users what is coming") < labels.index("Invite missing users")
    assert labels.index("Invite missing users") < labels.index("Request approval")


def test_the_announce_button_asks_for_the_date_before_messaging_everyone(chat: Chat) -> None:
    announce = next(
        b for b in buttons(chat.say(DANA, f"/aad start {ORG} fabrikam.com")) if b.action == "announce"
    )
    assert announce.value == ORG
    assert "without a date?" in announce.confirm
    assert f"type `announce {ORG} WHEN` instead" in announce.confirm
    typed = chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")  # the typed command stays direct
    assert any(isinstance(message.to, DirectMessage) for message in typed)


def test_an_approval_asked_before_anyone_was_told_says_so_and_offers_the_notice(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    requested = chat.say(DANA, "request-approval")
    reply = [message for message in requested if isinstance(message.to, Reply)]
    prompts = [message for message in requested if isinstance(message.to, DirectMessage)]
    assert reply and prompts
    for said in (reply, prompts):
        assert NOBODY_TOLD in " ".join(text_of(said).split())
        assert any(button.action == "announce" and button.confirm for button in buttons(said))
    assert "Approve" in [button.label for button in buttons(prompts)]  # it does not block

    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    again = chat.say(DANA, "request-approval")
    assert NOBODY_TOLD not in " ".join(text_of(again).split())
    assert "announce" not in [button.action for button in buttons(again)]
