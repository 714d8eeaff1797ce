"""An admin who types `invite` (or confirms `remove-users`) for a few thousand people waits minutes, one
Microsoft call a person: the channel they typed in gets one progress line, posted once the step has run
ten seconds and updated in place as it goes (each tenth of the way, or every ten seconds), and its last
version says how the step ended, in its real counts. Before, they saw nothing until the end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from bot.conversation.handlers import Conversation
from bot.conversation.messages import Message, Reply, Text
from bot.conversation.progress_line import ProgressLine, line_text
from bot.delivery import outboxes
from bot.delivery.notices import CHAT_MESSAGE, ChatNotice
from bot.delivery.outboxes import BackgroundOutbox, NoticeOutbox
from faq import default_answerer
from storage import Database, OutboundMessage
from storage.outbox_claims import claim_due
from storage.outbox_threads import SUPERSEDED, supersede
from tests.workflows.fakes import DANA, FakeClock, FakeMicrosoft, ProcessKilled
from tests.workflows.outbox import queued
from workflows.directory import DirectoryUser, Invitation, OrgUser
from workflows.notices import CHANNEL_PREFIX
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.step_progress import Paced, StepReport
from workflows.tracking import Tracking

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
    service = MigrationService(sqlite_database, microsoft, clock=clock)
    service.start("fabrikam", "fabrikam.com", ANN, channel=ADMINS)
    return served(service, sqlite_database, clock)


def served(service: MigrationService, database: Database, clock: FakeClock) -> Conversation:
    """As `serve` runs it: what goes to a channel waits in the outbox for the worker."""
    return Conversation(
        service,
        default_answerer(),
        tracking=Tracking(database, service, clock=clock),
        outbox=BackgroundOutbox(database, clock=clock),
    )


def _lines(database: Database) -> list[OutboundMessage]:
    """The progress line's versions the outbox was given, oldest first."""
    return [m for m in queued(database, CHAT_MESSAGE) if str(m.payload["updates"]).startswith("progress:")]


def test_a_long_invite_shows_one_line_that_moves_and_ends_done(
    conversation: Conversation, sqlite_database: Database
) -> None:
    answered = conversation.command(ANN, "invite", channel=ADMINS)

    lines = _lines(sqlite_database)
    texts = [line.payload["summary"] for line in lines]
    total = CROWD + 2  # Bob and Cy of Fabrikam too
    # the line's last version says how many: no count line besides it, only the admin's private answer
    assert [(m.to, m.message.private) for m in answered] == [(Reply(), True)]
    assert texts[0] == f"Inviting {total} users: 4 done so far…"  # ten seconds in
    assert texts[-1] == f"Inviting {total} users: all done."
    # every ten seconds of its 17 minutes, and each tenth of the way: dozens of updates, not thousands
    assert 90 <= len(lines) <= total * SECONDS_AN_INVITATION / 10 + 10 + 2, texts
    assert {line.recipient for line in lines} == {f"channel:{ADMINS}"}
    assert len({line.payload["updates"] for line in lines}) == 1  # one message, updated in place
    # none of them sent yet (no worker runs here): each newer version gave up the one it replaces
    assert [line.status for line in lines] == [SUPERSEDED] * (len(lines) - 1) + ["pending"]


def test_an_invitation_refused_ends_the_line_with_how_many_were_invited(
    conversation: Conversation, sqlite_database: Database, microsoft: FakeMicrosoft
) -> None:
    inviting = microsoft.invite_guest

    def refused_after_sixty(tenant_id: str, **details: str) -> Invitation:
        microsoft.deny_invites = len(microsoft.invitations) >= 60
        return inviting(tenant_id, **details)

    microsoft.invite_guest = refused_after_sixty  # type: ignore[method-assign]

    answered = conversation.command(ANN, "invite", channel=ADMINS)

    texts = [line.payload["summary"] for line in _lines(sqlite_database)]
    # the reply saying why is Dana's alone (names are addresses): the channel's line says so
    assert texts[-2:] == [
        f"Inviting {CROWD + 2} users: 61 done so far…",
        f"Inviting {CROWD + 2} users: invited 60 of {CROWD + 2}, stopped after 61; I send why to Dana alone.",
    ]
    assert [(m.to, m.message.private) for m in answered] == [(Reply(), True)]


def test_a_removal_microsoft_refuses_never_ends_all_done(
    conversation: Conversation, sqlite_database: Database, microsoft: FakeMicrosoft, clock: FakeClock
) -> None:
    ids = " ".join(_id(n) for n in range(20))
    microsoft.broken.add("remove_org_user")
    removing = microsoft.remove_org_user

    def slow(organization: str, user_id: str) -> None:
        clock.advance(seconds=1)
        removing(organization, user_id)

    microsoft.remove_org_user = slow  # type: ignore[method-assign]

    conversation.command(ANN, f"remove-users fabrikam {ids} confirm", channel=ADMINS)

    texts = [line.payload["summary"] for line in _lines(sqlite_database)]
    assert texts[0] == "Removing 20 users: 10 done so far…"
    assert texts[-1] == "Removing 20 users: removed 0 of 20; my reply says why."


def test_a_small_step_adds_no_message(conversation: Conversation, sqlite_database: Database) -> None:
    """Removing 20 people takes a moment: the reply says it all."""
    ids = " ".join(_id(n) for n in range(20))

    conversation.command(ANN, f"remove-users fabrikam {ids} confirm", channel=ADMINS)

    assert _lines(sqlite_database) == []


def test_a_click_without_a_channel_shows_no_line(
    conversation: Conversation, sqlite_database: Database
) -> None:
    """Slack's App Home has no channel to show it in; the step runs as before."""
    removed = conversation.command(ANN, f"remove-users fabrikam {_id(0)} confirm", channel=None)

    assert removed[0].message.summary == "Removed 1 user: p0@outlook.com."

    assert _lines(sqlite_database) == []


def test_a_resume_after_kill_9_ends_the_line_the_dead_process_left(
    conversation: Conversation,
    sqlite_database: Database,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGKILL runs no `__exit__`: the dead process's last version says "… done so far", and a restarted
    process knows the line by the step's audit entry, not by anything the dead one held in memory."""
    microsoft.kill_after_invitations = 150
    monkeypatch.setattr(Paced, "__exit__", lambda *_: None)
    with pytest.raises(ProcessKilled):
        conversation.command(ANN, "invite", channel=ADMINS)
    monkeypatch.undo()
    microsoft.kill_after_invitations = None
    assert _lines(sqlite_database)[-1].payload["summary"].endswith("done so far…")
    clock.advance(minutes=11)  # the busy step's lease has run out: `resume` may take it over
    service = MigrationService(sqlite_database, microsoft, clock=clock)
    restarted = served(service, sqlite_database, clock)

    restarted.command(ANN, "resume", channel=ADMINS)

    lines = _lines(sqlite_database)
    assert len({line.payload["updates"] for line in lines}) == 1  # the same message, updated in place
    # those invited before the kill are asked about again, and found invited
    assert lines[-1].payload["summary"] == f"Inviting {CROWD + 2} users: all done."
    assert [line.status for line in lines] == [SUPERSEDED] * (len(lines) - 1) + ["pending"]


def test_a_line_whose_post_failed_for_good_queues_no_more_versions(
    sqlite_database: Database, clock: FakeClock
) -> None:
    """A slash command in a channel the bot is not in: each version would fail the same way, a thousand
    failed rows and warnings for a step of 20,000 people."""
    line = ProgressLine(BackgroundOutbox(sqlite_database, clock=clock), ADMINS)
    line(StepReport("migration-1-step-2", "invite", 10, 3_000, 10))
    [first] = _lines(sqlite_database)
    with sqlite_database.session() as session:
        failed = session.get(OutboundMessage, first.id)
        assert failed is not None
        failed.status, failed.error_code = "failed", "not_in_channel"
        session.commit()

    for done in range(300, 3_000, 300):
        line(StepReport("migration-1-step-2", "invite", done, 3_000, done))
    line(StepReport("migration-1-step-2", "invite", 3_000, 3_000, 3_000, ended=True))

    assert [m.status for m in _lines(sqlite_database)] == ["failed"]
    line(StepReport("migration-1-step-3", "invite", 10, 3_000, 10))  # another step's line is another's
    assert [m.status for m in _lines(sqlite_database)] == ["failed", "pending"]


def test_a_version_whose_predecessor_a_worker_claims_meanwhile_is_queued_not_lost(
    sqlite_database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's claim changes the row the new version gives up between its read and its commit
    (StaleDataError): read again. Before, the version was logged and dropped, maybe the line's last."""
    line = ProgressLine(BackgroundOutbox(sqlite_database, clock=clock), ADMINS)
    line(StepReport("migration-1-step-2", "invite", 10, 10, 9))
    claimed: list[OutboundMessage] = []

    def superseded_while_claimed(session: Session, **which: Any) -> int:
        count = supersede(session, **which)
        if not claimed:  # the worker, between the read and the commit
            claimed.extend(claim_due(sqlite_database, worker="w", now=clock(), lease=timedelta(minutes=1)))
        return count

    monkeypatch.setattr(outboxes, "supersede", superseded_while_claimed)

    line(StepReport("migration-1-step-2", "invite", 10, 10, 9, ended=True))

    assert len(claimed) == 1
    texts = [(m.payload["summary"], m.status) for m in _lines(sqlite_database)]
    assert texts == [
        ("Inviting 10 users: 10 done so far…", SUPERSEDED),
        ("Inviting 10 users: invited 9 of 10; my reply says why.", "pending"),
    ]


def test_a_surface_queuing_an_update_while_a_worker_claims_its_predecessor_queues_it_once(
    sqlite_database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack's and Teams' delivery queue a step's notices with `NoticeOutbox.queue`, not `show`: the same
    race raised StaleDataError to them, and they sent the lot around the outbox (a serve test failed so)."""
    notices = NoticeOutbox(sqlite_database, clock=clock)
    thread = "progress:migration-1-step-2"

    def version(text: str) -> list[tuple[str, ChatNotice]]:
        return [(f"{CHANNEL_PREFIX}{ADMINS}", ChatNotice(Message(text, (Text(text),)), updates=thread))]

    notices.queue(version("first"))
    claimed: list[OutboundMessage] = []

    def superseded_while_claimed(session: Session, **which: Any) -> int:
        count = supersede(session, **which)
        if not claimed:
            claimed.extend(claim_due(sqlite_database, worker="w", now=clock(), lease=timedelta(minutes=1)))
        return count

    monkeypatch.setattr(outboxes, "supersede", superseded_while_claimed)

    keys = notices.queue(version("second"))

    assert len(claimed) == 1 and len(keys) == 1
    assert [(m.payload["summary"], m.status) for m in _lines(sqlite_database)] == [
        ("first", SUPERSEDED),
        ("second", "pending"),
    ]


def test_the_counts_of_a_large_step_have_thousands_separators_as_its_total_does() -> None:
    """walk36 found "9412 still on the way" beside "9,902 of 19,823" in a 20,000-person wave; the step's own
    line read "Inviting 20,000 users: 1200 done so far…" the same way."""
    step = "migration-1-step-2"
    assert line_text(StepReport(step, "invite", 1_200, 20_000, 1_150)) == (
        "Inviting 20,000 users: 1,200 done so far…"
    )
    assert line_text(StepReport(step, "invite", 12_000, 20_000, 11_011, ended=True)) == (
        "Inviting 20,000 users: invited 11,011 of 20,000, stopped after 12,000; my reply says why."
    )
