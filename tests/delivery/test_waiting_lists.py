"""Lists the chat platform cannot take yet (Slack's member list unreadable) wait, uncounted, for as long as it
takes: admins see in `progress` and the live report how many wait, since when, why and what fixes it, not
an endless "queued"."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from bot.console.render import render
from bot.conversation import progress_views
from bot.conversation.messages import Channel, DirectMessage
from bot.delivery.sender import DeliveryFailed, Envelope, Receipt
from bot.delivery.worker import OutboxWorker
from bot.slack.member_list import CACHE_SECONDS
from bot.slack.sender import DIRECTORY_LATER_SECONDS, DIRECTORY_OUTDATED
from storage import Database, OutboundMessage
from storage.outbox import URGENT
from tests.delivery.conftest import HeldDMs
from tests.workflows.fakes import FakeClock
from workflows import notices
from workflows.progress import Progress, UserProgress
from workflows.service import MigrationService
from workflows.tracking import Tracking

WHY = (
    "Slack's member list cannot be read: the app lacks the users:read scope (missing_scope): add it under"
    " OAuth & Permissions, then reinstall the app"
)


async def _paced(seconds: float) -> None:
    """The channel posts' pace, not waited: the test's clock moves by hours."""


def test_lists_held_for_hours_show_as_waiting_with_why_and_the_fix(
    database: Database, clock: FakeClock, notified: MigrationService
) -> None:
    tracking = Tracking(database, notified, clock=clock)
    listed = len(tracking.progress("fabrikam").listed)
    slack = HeldDMs(WHY, DIRECTORY_LATER_SECONDS)
    worker = OutboxWorker(database, slack, clock=clock, sleep=_paced)
    asyncio.run(worker.drain())  # Monday 09:00: the lists notify queued are put back
    clock.advance(hours=3)
    asyncio.run(worker.drain())  # and still at noon
    assert slack.dms_sent == []

    report = tracking.progress("fabrikam")
    assert {(user.delivery, user.delivery_error) for user in report.listed} == {("waiting", WHY)}
    live = " ".join(render(progress_views.delivery_update(report).message).split())
    assert f"To-do lists: {listed} waiting." in live
    assert f"{listed} to-do lists waiting, the oldest queued 2026-11-02 09:00 UTC: {WHY}." in live


def _admins_dms(database: Database) -> int:
    """The direct messages queued for the admins: the approval prompt, whom it affects, the portal steps."""
    with database.session() as session:
        queued = session.exec(select(OutboundMessage).where(OutboundMessage.status == "pending")).all()
    return sum(
        1 for row in queued if row.priority == URGENT and not row.recipient.startswith(notices.CHANNEL_PREFIX)
    )


class ReadFailingMidBatch(HeldDMs):
    """Slack's sender when its member list's read fails during a batch: the DMs asked about before wait for
    the read, those after for the fix, until the next read try five minutes on."""

    def __init__(self, before_the_failure: int) -> None:
        super().__init__(WHY, CACHE_SECONDS)
        self.before_the_failure = before_the_failure

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        if isinstance(to, Channel) or not self.before_the_failure:
            return await super().not_ready(migration_id, to)
        self.before_the_failure -= 1
        return DeliveryFailed(DIRECTORY_OUTDATED, WAITING_FOR_THE_READ, later=DIRECTORY_LATER_SECONDS)


WAITING_FOR_THE_READ = "waiting for Slack's member list to be read again"


def test_the_line_of_lists_waiting_for_slacks_member_list_names_the_fix_however_few_were_told_it(
    database: Database, clock: FakeClock, notified: MigrationService
) -> None:
    """Most lists were put back to wait for the read before it failed: the line showed the most common
    reason, "waiting to be read again", and no fix until they came due again."""
    tracking = Tracking(database, notified, clock=clock)
    listed = len(tracking.progress("fabrikam").listed)
    slack = ReadFailingMidBatch(_admins_dms(database) + listed - 1)  # the admins' DMs go first (URGENT)
    asyncio.run(OutboxWorker(database, slack, clock=clock, sleep=_paced).drain())
    assert slack.dms_sent == []

    report = tracking.progress("fabrikam")
    reasons = [user.delivery_error for user in report.with_delivery("waiting")]
    assert reasons.count(WAITING_FOR_THE_READ) > reasons.count(WHY) > 0  # outnumbered
    live = " ".join(render(progress_views.delivery_update(report).message).split())
    since = "the oldest queued 2026-11-02 09:00 UTC"
    assert f"{listed} to-do lists waiting, {since}: {WHY} (and 1 more reason of this kind)." in live


class Failing:
    """A sender with a bug: every send fails unexpectedly, each with its own log reference."""

    async def send(self, envelope: Envelope) -> Receipt:
        raise RuntimeError("a bug")


def test_lists_waiting_for_one_kind_of_reason_make_one_line_however_many_differ(
    database: Database, clock: FakeClock, notified: MigrationService
) -> None:
    """An internal error's reason carries its own log reference: 2,000 such lists made 2,000 lines, a
    200 KB block in the live report. One line per kind of reason, one of them shown, as many as shown."""
    tracking = Tracking(database, notified, clock=clock)
    asyncio.run(OutboxWorker(database, Failing(), clock=clock, sleep=_paced).drain())

    report = tracking.progress("fabrikam")
    waiting = report.with_delivery("waiting")
    assert len({user.delivery_error for user in waiting}) == len(waiting) > 2
    live = " ".join(render(progress_views.delivery_update(report).message).split())
    assert live.count("waiting, the oldest queued") == 1
    since = "the oldest queued 2026-11-02 09:00 UTC"
    assert f"{len(waiting)} to-do lists waiting, {since}: internal error; see log ref " in live
    assert f" (and {len(waiting) - 1} more reasons of this kind)." in live


def _waiting(number: int, code: str) -> UserProgress:
    return UserProgress(
        affected_user_id=number,
        email=f"user{number}@fabrikam.com",
        display_name=f"User {number}",
        outcome="auto",
        done=0,
        total=1,
        delivery="waiting",
        delivery_error=f"Slack answered {code}",
        waiting_for=code,
    )


def test_no_more_than_five_kinds_of_reason_are_told_the_others_counted() -> None:
    """Seven kinds of reason for 20 lists: the five most common are told, the 5 lists of the two others
    are counted in one line."""
    users = tuple(_waiting(number, f"code_{number % 7}") for number in range(20))
    live = render(progress_views.progress(Progress(1, "fabrikam", "CMIGRATE", (), users), live=True))
    told = [line for line in live.splitlines() if "waiting: Slack answered" in line]
    assert len(told) == progress_views.WAITING_REASONS_SHOWN
    assert "And 5 to-do lists waiting for 2 other kinds of reason." in live


def test_one_kind_of_reason_left_untold_is_counted_as_one() -> None:
    users = tuple(
        _waiting(number, f"code_{number}") for number in range(progress_views.WAITING_REASONS_SHOWN + 1)
    )
    live = render(progress_views.progress(Progress(1, "fabrikam", "CMIGRATE", (), users), live=True))
    assert "And 1 to-do list waiting for 1 other kind of reason." in live
