"""rev73: an `invite` asked in a channel that stops short says so there, and in what kind, naming nobody.
Before, an interrupted run read "by Dana: 1 invited." as if it were whole, and a missing permission at the
first person posted nothing to the channel at all; the reasons go to the admin alone, as they name people."""

from __future__ import annotations

import threading

import pytest

from bot.conversation.handlers import Conversation
from bot.conversation.messages import Channel, Outgoing
from storage import Database
from tests.bot.test_progress_line import served
from tests.workflows.fakes import DANA, FakeClock, FakeMicrosoft
from workflows.directory import Invitation, MissingPermission
from workflows.results import Actor
from workflows.service import MigrationService

ADMINS = "C-ADMINS"
ANN = Actor(id="U-DANA", email=DANA, name="Dana")


@pytest.fixture
def microsoft() -> FakeMicrosoft:
    return FakeMicrosoft()  # Bob and Cy need an invitation: a step too short for a progress line


@pytest.fixture
def stopping() -> threading.Event:
    return threading.Event()


@pytest.fixture
def conversation(
    sqlite_database: Database, microsoft: FakeMicrosoft, stopping: threading.Event
) -> Conversation:
    clock = FakeClock()
    service = MigrationService(sqlite_database, microsoft, clock=clock, stopping=stopping)
    service.start("fabrikam", "fabrikam.com", ANN, channel=ADMINS)
    return served(service, sqlite_database, clock)


def _in_channel(outgoing: list[Outgoing]) -> list[str]:
    return [m.message.summary for m in outgoing if isinstance(m.to, Channel)]


def test_an_invite_interrupted_partway_says_so_in_the_channel(
    conversation: Conversation, microsoft: FakeMicrosoft, stopping: threading.Event
) -> None:
    inviting = microsoft.invite_guest

    def then_stopping(tenant_id: str, **details: str) -> Invitation:
        stopping.set()  # SIGTERM while Microsoft answers the first
        return inviting(tenant_id, **details)

    microsoft.invite_guest = then_stopping  # type: ignore[method-assign]

    answered = conversation.command(ANN, "invite", channel=ADMINS)

    assert _in_channel(answered) == [
        "📨 Invitations for fabrikam, by Dana: 1 invited; the run stopped partway, as the bot was shutting"
        " down; running it again carries on. The details are for Dana alone: I send it to them privately."
    ]


def test_a_missing_permission_at_the_first_person_says_so_in_the_channel(
    conversation: Conversation, microsoft: FakeMicrosoft
) -> None:
    microsoft.invite_refusal = MissingPermission(
        "Microsoft Graph refused inviting bob@outlook.com (HTTP 403): the app registration lacks the "
        "Microsoft Graph application permission User.Invite.All.",
        permission="User.Invite.All",
        fix="App registrations > API permissions > User.Invite.All, then Grant admin consent",
    )

    answered = conversation.command(ANN, "invite", channel=ADMINS)

    assert _in_channel(answered) == [
        "📨 Invitations for fabrikam, by Dana: the run stopped: the bot's app lacks a Microsoft permission"
        " it needs to invite. The details are for Dana alone: I send it to them privately."
    ]


def test_a_403_says_the_run_stopped_in_the_channel(
    conversation: Conversation, microsoft: FakeMicrosoft
) -> None:
    microsoft.deny_invites = True

    answered = conversation.command(ANN, "invite", channel=ADMINS)

    assert _in_channel(answered) == [
        "📨 Invitations for fabrikam, by Dana: 1 refused by the directory (403 Forbidden); the run stopped:"
        " the directory's settings refuse the invitations. The details are for Dana alone: I send it to"
        " them privately."
    ]
