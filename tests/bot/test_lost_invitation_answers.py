"""An invitation whose answer never came (a 504, a timeout) through the sandbox over loopback HTTP, with
Graph's search lagging behind the guests it makes, on clocks the test moves: nobody gets a second email,
nobody is taken for refused, and the admin reads what is known and when `invite` looks again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from sandbox import Sandbox, parse_scenario
from storage import Database, Invitation
from tests.bot.conftest import DANA, ORG, Chat, text_of
from tests.fakes.runtimes import runtime_on

ERIN, FRANK = "erin.eng@gmail.com", "frank.f@outlook.com"
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
LAG = timedelta(minutes=3)
"""How long the sandbox's search leaves out a new guest: longer than an admin takes to type `invite` again,
shorter than the bot waits before believing the search (ten minutes)."""


class Moment:
    """The time both the bot and the sandbox read, moved on by the test."""

    def __init__(self) -> None:
        self.now = MONDAY

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def moment() -> Moment:
    return Moment()


@pytest.fixture
def chat(fabrikam: dict[str, Any], sqlite_database: Database, moment: Moment) -> Iterator[Chat]:
    """Dana's migration started, on a sandbox of its own whose clock is the bot's."""
    with Sandbox(parse_scenario(fabrikam), clock=lambda: moment().timestamp()) as box:
        runtime = runtime_on(box, sqlite_database, clock=moment)
        try:
            talk = Chat(runtime, restores=False)
            talk.say(DANA, f"/aad start {ORG} fabrikam.com")
            yield talk
        finally:
            runtime.close()


def _box(chat: Chat) -> Sandbox:
    assert chat.runtime.sandbox is not None
    return chat.runtime.sandbox


def _emails(chat: Chat) -> dict[str, int]:
    """How many invitation emails Microsoft sent to each address."""
    sent: dict[str, int] = {}
    for invitation in _box(chat).state()["tenant"].get("invitations", []):
        if invitation["sendInvitationMessage"]:
            address = invitation["invitedUserEmailAddress"]
            sent[address] = sent.get(address, 0) + 1
    return sent


def _claim(chat: Chat, address: str) -> Invitation:
    with chat.runtime.database.session() as session:
        return session.exec(select(Invitation).where(Invitation.email == address)).one()


def _summary(chat: Chat) -> str:
    """What the bot's answer to `invite` says of the run, between its heading and its table, unwrapped."""
    lines = text_of(chat.say(DANA, f"invite {ORG}", in_dm=True)).splitlines()  # a DM: the table too
    said = lines[1 : next(n for n, line in enumerate(lines) if line.split()[:2] == ["user", "result"])]
    return " ".join(" ".join(said).split())


def test_a_504_after_the_invitation_went_out_is_no_refusal_and_no_second_email(
    chat: Chat, moment: Moment
) -> None:
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    first = _summary(chat)
    assert _emails(chat) == {ERIN: 1, FRANK: 1}  # Microsoft did invite Erin
    moment.now += timedelta(minutes=1)  # at once: the search does not show Erin's guest yet
    again = _summary(chat)
    assert _emails(chat) == {ERIN: 1, FRANK: 1}

    assert first == (
        f"1 invited, 1 with no answer from Microsoft. No answer: {ERIN}: no answer came, so the invitation"
        " may have gone out (Microsoft Graph answered HTTP 504 to POST graph.microsoft.com/v1.0/invitations);"
        " run `invite` again after 2026-11-30 10:10 UTC. Microsoft's directory search may not show a new"
        " guest before then: `invite` then looks, and sends each their link with no second email, or their"
        " invitation if none went out."
    )
    assert again.startswith(
        f"1 invited earlier, 1 with no answer from Microsoft. No answer: {ERIN}: no answer came, so the"
        " invitation may have gone out (Microsoft Graph answered HTTP 504 to POST"
        " graph.microsoft.com/v1.0/invitations); run `invite` again after 2026-11-30 10:10 UTC."
    )
    assert _claim(chat, ERIN).redeem_url is None

    moment.now += timedelta(minutes=10)  # the search shows her guest, still to accept
    assert _summary(chat) == "1 invited, 1 invited earlier."  # hers with her link alone, his kept
    assert _emails(chat) == {ERIN: 1, FRANK: 1}
    erin = _claim(chat, ERIN)
    assert (erin.status, erin.result) == ("sent", "invited before the interruption; link recovered")
    newest = _box(chat).state()["tenant"]["invitations"][-1]
    assert (newest["invitedUserEmailAddress"], newest["sendInvitationMessage"]) == (ERIN, False)
    assert erin.redeem_url == newest["inviteRedeemUrl"]


def test_a_504_before_anything_was_done_invites_once_the_search_is_believed(
    chat: Chat, moment: Moment
) -> None:
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504"])
    assert _summary(chat).startswith(f"1 invited, 1 with no answer from Microsoft. No answer: {ERIN}: ")
    assert _emails(chat) == {FRANK: 1}

    moment.now += timedelta(minutes=9, seconds=59)  # the search could still be behind
    assert _summary(chat).startswith("1 invited earlier, 1 with no answer from Microsoft.")
    assert _emails(chat) == {FRANK: 1}

    moment.now += timedelta(seconds=1)  # believed: nobody holds her address, so nothing went out
    assert _summary(chat) == "1 invited."
    assert _emails(chat) == {ERIN: 1, FRANK: 1}
    assert _claim(chat, ERIN).status == "sent"


def test_the_person_whose_answer_was_lost_hears_it_may_have_gone_out(chat: Chat) -> None:
    """Not "not sent yet" to someone Microsoft may have mailed, nor a failure: what is known, and that
    they never get it twice."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    reply = " ".join(text_of(chat.say(ERIN, "I never got the invitation email", in_dm=True)).split())
    assert reply.startswith(
        "Your invitation to the directory Your invitation may have gone out to erin.eng@gmail.com: Microsoft"
        " did not confirm it, and the admins' next `invite` finds out. Look in that mailbox for mail from"
        ' "Microsoft Invitations on behalf of" the company, subject "... invited you to collaborate with'
        ' ...", in junk or spam too. If none went out, that `invite` sends it; if one did, it first waits'
        " to see you in the directory, so you should not get a second one."
        " Microsoft's page: https://learn.microsoft.com/entra/external-id/redemption-experience To reach a"
        " person, press Ask an admin"
    )
