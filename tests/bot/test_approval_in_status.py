"""While an approval waits (walk25 findings 9 and 14): `status` tells the admin who may approve that it is
theirs, with the buttons, and `recheck` says what became of the request: it stands when nothing changed,
and is void, with every copy of the prompt saying so at once, when the plan or its checks did."""

from __future__ import annotations

from bot.conversation.messages import Channel, DirectMessage, Outgoing
from tests.bot.conftest import Chat, started, text_of

DANA, LEE, ANN = "dana@fabrikam.com", "lee@fabrikam.com", "ann@fabrikam.com"
YOURS = "Waiting for approval #1 to connect, and yours counts: review `plan`, then `approve 1` or `reject 1`"


def said(outgoing: list[Outgoing]) -> str:
    return " ".join(text_of(outgoing).split())


def decision_buttons(outgoing: list[Outgoing]) -> list[tuple[str, str]]:
    return [
        (button.action, button.value)
        for message in outgoing
        for button in message.message.buttons
        if button.action in ("approve", "reject")
    ]


def requested(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    chat.say(DANA, "request-approval")


def test_status_tells_the_admin_who_may_approve_that_it_is_theirs_with_the_buttons(chat: Chat) -> None:
    requested(chat)
    theirs = chat.say(LEE, "status")
    assert YOURS in said(theirs)
    assert decision_buttons(theirs) == [("approve", "1"), ("reject", "1")]
    # the requester (four eyes), and someone who does not administer it
    for other, waiting in ((DANA, "Waiting for another admin"), (ANN, "Waiting for an admin")):
        not_theirs = chat.say(other, "status")
        assert f"{waiting} to approve connecting." in said(not_theirs)
        assert decision_buttons(not_theirs) == []


def test_a_recheck_that_finds_nothing_changed_says_the_approval_stands(chat: Chat) -> None:
    requested(chat)
    rechecked = chat.say(DANA, "recheck")
    assert "Nothing changed (the plan and its checks are as they were), so approval #1 still stands." in (
        said(rechecked)
    )
    assert chat.state() == "awaiting_approval"
    assert YOURS in said(chat.say(LEE, "status"))


def test_a_recheck_that_finds_a_change_says_the_approval_is_void_and_the_prompts_say_it_at_once(
    chat: Chat,
) -> None:
    requested(chat)
    chat.portal_connect("9d3e1c2b-4a5f-4e6d-8b7a-1c2d3e4f5a6b")  # someone connected it to another directory
    rechecked = chat.say(DANA, "recheck")
    assert "The plan or its checks changed, so approval #1 is void" in said(rechecked)
    prompts = [m for m in rechecked if isinstance(m.to, (DirectMessage, Channel))]
    assert prompts and all("This request no longer holds" in said([m]) for m in prompts)
    assert decision_buttons(prompts) == []
