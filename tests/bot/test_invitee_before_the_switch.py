"""An invitee before the switch (walk 33, finding 7): her own list says to accept the invitation before the
switch, as her notice and the FAQ do, and ticks it off once the directory shows it accepted; the approval
prompt tells the admins the same."""

from __future__ import annotations

import re

from sandbox import Sandbox
from tests.bot.announced_days import A_FRIDAY
from tests.bot.conftest import DANA, Chat, started, text_of

ERIN = "erin.eng@gmail.com"


def flat(text: str) -> str:
    return " ".join(text.split())


def test_an_invitee_is_asked_to_accept_before_the_switch_and_sees_it_ticked_once_accepted(
    chat: Chat, box: Sandbox
) -> None:
    started(chat)
    chat.say(DANA, "announce Friday 14:00 UTC")
    chat.say(DANA, "invite")
    before = flat(text_of(chat.say(ERIN, "todo", in_dm=True)))
    assert "nothing for you to do" not in before, before
    assert before.startswith("YOUR TO-DO LIST FOR FABRIKAM-FIBER BEFORE THE SWITCH: 1 OF 1 OPEN"), before
    assert re.search(
        rf"1\. Accept the invitation sent to erin\.eng@gmail\.com \(by {A_FRIDAY} 14:00 UTC, before the"
        r" switch\)",
        before,
    ), before
    box.redeem_invitation(ERIN)
    after = flat(text_of(chat.say(ERIN, "what's left?", in_dm=True)))
    assert after.startswith("YOUR TO-DO LIST FOR FABRIKAM-FIBER BEFORE THE SWITCH: 0 OF 1 OPEN"), after
    assert "✅ Accept the invitation sent to erin.eng@gmail.com" in after, after


def test_the_approval_prompt_says_invitees_must_accept_before_the_switch(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    prompt = flat(text_of(chat.say(DANA, "request-approval")))
    assert "keep access once they accept" not in prompt, prompt
    assert (
        "Invited, still to accept (no access from the switch until they accept the invitation, 2):" in prompt
    ), prompt
