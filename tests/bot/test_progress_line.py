"""An admin who types `invite` (or confirms `remove-users`) for a few thousand people waits minutes, one
Microsoft call a person: the channel they typed in gets one progress line, posted at once and updated in
place as the step goes (each tenth of the way, or every ten seconds), and its last version says how the
step ended. Before, they saw nothing until the end."""

from __future__ import annotations

import pytest

from bot.conversation.handlers import Conversation
from bot.delivery.notices import CHAT_MESSAGE
from bot.delivery.outboxes import BackgroundOutbox
from faq import default_answerer
from storage import Database, OutboundMessage
from storage.outbox import SUPERSEDED
from tests.workflows.fakes import DANA, FakeClock, FakeMicrosoft
from tests.workflows.outbox import queued
from workflows.directory import DirectoryUser, Invitation, OrgUser
from workflows.reminders import Tracking
from workflows.results import Actor
from workflows.service import MigrationService

CROWD = 400
"""People on Microsoft accounts besides Fabrikam's own, none in its directory yet."""
SECONDS_AN_INVITATION = 2.5
"""Slow enough that the ten-second updates, not only the tenths of the way, show: 17 minutes in all."""
ADMINS = "C-ADMINS"
ANN = Actor(id="U-DANA", email=DANA, name="Dana")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _id(n: int) -> str:
    return f"00000000-0000-0000-0000-{n:012d}"


@pytest.fixture
def microsoft(clock: FakeClock) -> FakeMicrosoft:
    """Fabrikam and `CROWD` more people; each invitation takes Microsoft `SECONDS_AN_INVITATION`."""
    microsoft = FakeMicrosoft()
    crowd = [f"p{n}@outlook.com" for n in range(CROWD)]
    microsoft.users.extend(OrgUser(id=_id(n), principal_name=a, mail_address=a) for n, a in enumerate(crowd))
    inviting, finding, outside = microsoft.invite_guest, microsoft.find_directory_user, set(crowd)

    def invite_guest(tenant_id: str, **details: str) -> Invitation:
        clock.advance(seconds=SECONDS_AN_INVITATION)
        return inviting(tenant_id, **details)

    def find_directory_user(tenant_id: str, email: str) -> DirectoryUser | None:
        # none of the crowd is in the directory before `invite`: not searched for one by one
        return None if email in outside else finding(tenant_id, email)

    microsoft.invite_guest = invite_guest  # type: ignore[method-assign]
    microsoft.find_directory_user = find_directory_user  # type: ignore[method-assign]
    return microsoft


@pytest.fixture
def conversation(sqlite_database: Database, microsoft: FakeMicrosoft, clock: FakeClock) -> Conversation:
    """As `serve` runs it: what goes to a channel waits in the outbox for the worker."""
    service = MigrationService(sqlite_database, microsoft, clock=clock)
    service.start("fabrikam", "fabrikam.com", ANN, channel=ADMINS)
    return Conversation(
        service,
        default_answerer(),
        tracking=Tracking(sqlite_database, service, clock=clock),
        outbox=BackgroundOutbox(sqlite_database, clock=clock),
    )


def _lines(database: Database) -> list[OutboundMessage]:
    """The progress line's versions the outbox was given, oldest first."""
    return [m for m in queued(database, CHAT_MESSAGE) if str(m.payload["updates"]).startswith("progress:")]


def test_a_long_invite_shows_one_line_that_moves_and_ends_done(
    conversation: Conversation, sqlite_database: Database
) -> None:
    conversation.command(ANN, "invite", channel=ADMINS)

    lines = _lines(sqlite_database)
    texts = [line.payload["summary"] for line in lines]
    total = CROWD + 2  # Bob and Cy of Fabrikam too
    assert texts[0] == f"Inviting {total} users: 0 done so far…"
    assert texts[-1] == f"Inviting {total} users: all done."
    # every ten seconds of its 17 minutes, and each tenth of the way: dozens of updates, not thousands
    assert 90 <= len(lines) <= total * SECONDS_AN_INVITATION / 10 + 10 + 2, texts
    assert {line.recipient for line in lines} == {f"channel:{ADMINS}"}
    assert len({line.payload["updates"] for line in lines}) == 1  # one message, updated in place
    # none of them sent yet (no worker runs here): each newer version gave up the one it replaces
    assert [line.status for line in lines] == [SUPERSEDED] * (len(lines) - 1) + ["pending"]


def test_an_invitation_refused_ends_the_line_where_it_stopped(
    conversation: Conversation, sqlite_database: Database, microsoft: FakeMicrosoft
) -> None:
    microsoft.deny_invites = True

    conversation.command(ANN, "invite", channel=ADMINS)

    texts = [line.payload["summary"] for line in _lines(sqlite_database)]
    assert texts == [
        f"Inviting {CROWD + 2} users: 0 done so far…",
        f"Inviting {CROWD + 2} users: stopped after 0; my reply says why.",
    ]


def test_removing_shows_its_line_too(conversation: Conversation, sqlite_database: Database) -> None:
    ids = " ".join(_id(n) for n in range(20))

    conversation.command(ANN, f"remove-users fabrikam {ids} confirm", channel=ADMINS)

    texts = [line.payload["summary"] for line in _lines(sqlite_database)]
    assert texts[0] == "Removing 20 users: 0 done so far…" and texts[-1] == "Removing 20 users: all done."


def test_a_click_without_a_channel_shows_no_line(
    conversation: Conversation, sqlite_database: Database
) -> None:
    """Slack's App Home has no channel to show it in; the step runs as before."""
    removed = conversation.command(ANN, f"remove-users fabrikam {_id(0)} confirm", channel=None)

    assert removed[0].message.summary == "Removed 1 user: p0@outlook.com."

    assert _lines(sqlite_database) == []
