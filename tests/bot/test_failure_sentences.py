"""What the bot says when Microsoft keeps failing, and how many a check of the sign-ins told (walk 37,
findings 13 and 15): whole sentences with a next step, and only those told counted as told."""

from __future__ import annotations

import pytest

from bot.conversation import sign_in_views
from sandbox import Sandbox
from tests.bot.conftest import ORG, Chat, notified, text_of
from tests.bot.test_rehearsal_and_sign_ins import sign_in
from workflows.stages.verification import SignInCheck

DANA, ANN, IVAN = "dana@fabrikam.com", "ann@fabrikam.com", "ivan@fabrikam.com"


def _flat(said: str) -> str:
    return " ".join(said.split())


def _failing(chat: Chat, box: Sandbox, monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    """Every call to `host` answers 500, retried without waiting."""
    monkeypatch.setattr(chat.runtime.microsoft.session, "_sleep", lambda seconds: None)
    box.set_faults(rate_500=1.0, hosts=[host])


def test_a_check_of_the_sign_ins_azure_devops_fails_ends_with_what_to_do(
    chat: Chat, box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    notified(chat)
    # Dana's admin look-up (vsaex too) is remembered for minutes: a restored prefix's may be older than that
    # on a slow host, so it is made now, before the fault, and the failure read is the sign-ins' own
    chat.say(DANA, f"progress {ORG}")
    _failing(chat, box, monkeypatch, "vsaex.dev.azure.com")

    said = _flat(text_of(chat.say(DANA, f"check-sign-ins {ORG}")))

    assert said == (
        f"I could not read the sign-ins of {ORG}: Azure DevOps answered HTTP 500 to GET"
        f" vsaex.dev.azure.com/{ORG}/_apis/userentitlements 5 times; giving up. Nothing was ticked off; run"
        " `check-sign-ins` again in a few minutes (I also read them again by myself)."
    )


def test_an_invite_after_connecting_graph_fails_does_not_say_anyone_needs_one(
    chat: Chat, box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    notified(chat)
    _failing(chat, box, monkeypatch, "graph.microsoft.com")

    channel_line, answer = chat.say(DANA, f"invite {ORG}")

    assert _flat(text_of([channel_line])) == (
        f"📨 Invitations for {ORG}, by Dana: nobody was invited: I could not read who needs an invitation."
        " The details are for Dana alone: I send it to them privately."
    )
    said = _flat(text_of([answer]))

    assert said == (
        f"INVITATIONS FOR {ORG.upper()} I could not read who needs an invitation, so nobody was invited:"
        " Microsoft Graph answered HTTP 500 to POST graph.microsoft.com/v1.0/$batch 5 times; giving up. Run"
        " `invite` again once the service answers; it looks again first."
        f" [Check billing: `check-billing {ORG}`]"
    )


def test_a_check_of_the_sign_ins_counts_as_told_only_those_it_told(chat: Chat) -> None:
    """Ann ticked her sign-in herself before it showed: the check confirms it and tells her nothing."""
    notified(chat)
    (own,) = [e for e in chat.runtime.service.todo_list(ANN) if e.key == "sign-in-work-account"]
    chat.say(ANN, f"done {own.number}", in_dm=True)
    sign_in(chat, ANN)
    sign_in(chat, IVAN)

    in_channel = _flat(text_of(chat.say(DANA, f"check-sign-ins {ORG}")))
    assert in_channel == (
        f"I read 11 users of {ORG}: 2 signed in with their work account since my last look; I ticked it off"
        " the lists of 1 user; my message telling them is on its way. 1 had ticked it off already, so I told"
        " them nothing new."
        " `progress` has the details."
    )


def test_a_check_of_the_sign_ins_in_private_names_who_had_ticked_it_already() -> None:
    checked = SignInCheck(ORG, True, 11, (ANN, IVAN), ticked_before=(ANN,))

    said = _flat(text_of([sign_in_views.sign_ins_checked(checked, named=True)]))

    assert said == (
        f"I read 11 users of {ORG}: 2 signed in with their work account since my last look ({ANN},"
        f" {IVAN}); I ticked it off the lists of 1 user; my message telling them is on its way. 1 had ticked"
        f" it off already ({ANN}), so I told them nothing new. `progress` has the details."
    )


def test_a_check_that_saw_only_sign_ins_ticked_already_told_nobody() -> None:
    """Ann and Ivan had both ticked their sign-in themselves: the check confirms it and tells nobody."""
    checked = SignInCheck(ORG, True, 11, (ANN, IVAN), ticked_before=(ANN, IVAN))

    said = _flat(text_of([sign_in_views.sign_ins_checked(checked, named=False)]))

    assert said == (
        f"I read 11 users of {ORG}: 2 signed in with their work account since my last look; they had ticked"
        " it off themselves already, so I told them nothing new. `progress` has the details."
    )
