"""An approval prompt queued while a wave of to-do lists goes out is sent with the batch after the one in
flight, not behind the whole wave (walk30: 21 minutes behind 20,000 advance notices), on Slack's and Teams'
production batch sizes."""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery.notices import CHAT_MESSAGE
from bot.delivery.sender import Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.teams.surface import DELIVERY as TEAMS_DELIVERY
from storage import Database, Migration
from storage.outbox import WAVES
from tests.bot.test_approval_everyone import REQUEST
from tests.delivery.conftest import FakeTime, queue_lists
from tests.storage.rows import add_migration
from workflows import help_requests, notices, reminders
from workflows.stages import (
    announcing,
    left_behind_notes,
    list_messages,
    mapped_identities,
    told_early,
    verification,
)

APPROVER = "lee@fabrikam.com"
CHANNEL = "CMIGRATE"


class PromptMidWave:
    """Records what is sent, in order; once `after` lists are out, the admins' `request-approval` queues its
    prompt (to the approver and the channel) and, with a copy in the channel, whom it affects by name (to the
    approver), as another process would while the wave goes on."""

    def __init__(self, database: Database, time: FakeTime, after: int) -> None:
        self._database, self._time, self._after = database, time, after
        self.sent: list[str] = []

    async def send(self, envelope: Envelope) -> Receipt:
        self.sent.append("prompt" if envelope.key.startswith("approval-") else "list")
        if self.sent.count("list") == self._after:
            self._request_approval()
        return Receipt(f"chat/{len(self.sent)}")

    def _request_approval(self) -> None:
        migration_id = add_migration(self._database, "contoso")
        with self._database.session() as session:
            row = session.get(Migration, migration_id)
            assert row is not None
            row.channel_id = CHANNEL
            notices.approval_prompt(session, row, REQUEST, [APPROVER], self._time.now)
            session.commit()


@pytest.mark.parametrize(
    "settings", [DeliverySettings(), TEAMS_DELIVERY], ids=["slack-batch-50", "teams-batch-200"]
)
def test_a_prompt_queued_mid_wave_goes_out_with_the_next_batch(
    database: Database, time: FakeTime, settings: DeliverySettings
) -> None:
    batch = settings.batch
    wave = 3 * batch
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(wave)], time.now)
    sender = PromptMidWave(database, time, after=1)  # queued while the first batch is in flight
    worker = OutboxWorker(database, sender, clock=time, sleep=time.sleep, settings=settings)

    assert asyncio.run(worker.drain()) == wave + 3  # the prompt's two copies and whom it affects

    prompts = [index for index, kind in enumerate(sender.sent) if kind == "prompt"]
    assert len(prompts) == 3 and len(sender.sent) == wave + 3
    for index in prompts:
        # sent with the batch after the one in flight when it was queued, not behind the wave: the sends
        # started beside it in that batch may overtake it while it reads its thread (`thread_turn`)
        assert sender.sent[:index].count("list") < 2 * batch
        assert sender.sent[index:].count("list") > batch


def test_the_waves_are_what_each_affected_person_is_told_and_no_admins_notice() -> None:
    told_each_person = {
        announcing.ANNOUNCEMENT,
        *list_messages.LIST_MESSAGES,
        list_messages.LOST_ACCESS_MESSAGE,
        told_early.ACCESS_BACK_MESSAGE,
        list_messages.REMINDER_MESSAGE,
        verification.VERIFIED_MESSAGE,
        mapped_identities.MAPPED_MESSAGE,
        notices.CALLED_OFF,
        left_behind_notes.LEFT_BEHIND_MESSAGE,
    }
    assert told_each_person == WAVES
    assert WAVES.isdisjoint({CHAT_MESSAGE, help_requests.HELP_MESSAGE, reminders.DIGEST_MESSAGE})
    assert WAVES & set(notices.KINDS) == {notices.CALLED_OFF}
