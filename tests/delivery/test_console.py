"""The console with the outbox wired: notify queues and delivers at once, progress, reminders, snooze."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.console.render import render
from bot.console.surface import ConsoleSurface
from bot.conversation import list_message_views, todo_views
from bot.conversation.handlers import Conversation
from bot.conversation.messages import DirectMessage, Outgoing
from bot.delivery.outboxes import InlineOutbox
from bot.delivery.tracked import starting_reminders
from bot.demo import bundled_scenario
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from faq import default_answerer
from tests.bot.conftest import Chat, may_restore, notified
from tests.workflows.fakes import FakeClock
from workflows.tracking import Tracking

DANA, LEE, KIM, WORK = "dana@fabrikam.com", "lee@fabrikam.com", "kim@fabrikam-old.com", "kim@fabrikam.com"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def chat(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Chat]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}", sandbox_scenario=str(bundled_scenario())
    )
    runtime: Runtime = build_runtime(settings, clock=clock)
    tracking = Tracking(runtime.database, runtime.service, clock=clock)
    outbox = InlineOutbox(runtime.database, clock=clock, on_delivered=starting_reminders(tracking))
    runtime.conversation = Conversation(runtime.service, default_answerer(), tracking=tracking, outbox=outbox)
    wired = Chat(runtime, restores=may_restore(request))
    wired.surface = ConsoleSurface(runtime.conversation, io.StringIO())
    try:
        yield wired
    finally:
        runtime.close()


def to_kim(outgoing: list[Outgoing]) -> list[Outgoing]:
    """Kim's messages: after the connection they go to her work account first, her old address next."""
    return [m for m in outgoing if isinstance(m.to, DirectMessage) and KIM in m.to.addresses]


def text(outgoing: list[Outgoing]) -> str:
    return "\n".join(render(message.message) for message in outgoing)


@pytest.mark.replays_for_real  # notify delivering at once is under test
def test_notify_queues_then_delivers_each_list_once_and_progress_shows_it(chat: Chat) -> None:
    outgoing = notified(chat)
    assert outgoing[0].message.summary.startswith("Queued ")
    dms = [message for message in outgoing if isinstance(message.to, DirectMessage)]
    queued = int(outgoing[0].message.summary.split()[1].rstrip(","))
    assert len(dms) == queued == len({message.to for message in dms})
    kims = to_kim(dms)
    assert "Recreate your personal access tokens" in text(kims)

    report = text(chat.say(DANA, "progress"))
    assert f"0 of {queued} people done" in report and f"{queued} sent" in report
    assert "Retry failed" not in report
    chat.click(KIM, kims, "Done")
    assert re.match(
        rf" 0 of {queued} people done, 1 of \d+ items;",
        text(chat.say(DANA, "status")).split("To-do lists:")[1],
    )
    assert "is for the organization's admins" in text(chat.say(KIM, "progress"))
    assert "does not fit now" in text(chat.say(DANA, "notify"))  # lists go out once

    # billing is still in the old directory: the admins' channel is told, once until it is due again
    (billing,) = chat.runtime.conversation.remind()
    assert billing.message.summary.startswith("Reminder: move the billing") and not isinstance(
        billing.to, DirectMessage
    )
    assert "Check billing" in [button.label for button in billing.message.buttons]
    assert chat.runtime.conversation.remind() == []


def test_kim_reads_and_ticks_her_list_as_her_work_account_too(chat: Chat) -> None:
    """Azure DevOps knows her as kim@fabrikam-old.com; the plan maps her to kim@fabrikam.com."""
    (kims,) = to_kim(notified(chat))
    assert isinstance(kims.to, DirectMessage) and (kims.to.email, kims.to.also) == (WORK, (KIM,))
    listed = text(chat.say(WORK, "todo", in_dm=True))
    assert "Recreate your personal access tokens" in listed
    assert "done. 2 to go." in text(chat.click(WORK, [kims], "Done"))  # her SSH keys are optional


def test_reminders_arrive_in_working_hours_with_snooze_buttons(chat: Chat, clock: FakeClock) -> None:
    notified(chat)
    clock.now += timedelta(days=2)
    reminders = chat.runtime.conversation.watch()
    kims = to_kim(reminders)
    assert len(kims) == 1 and kims[0].message.summary.startswith("Reminder:")
    labels = [button.label for button in kims[0].message.buttons]
    assert "Snooze 1 day" in labels and "Snooze 1 week" in labels and "Done" in labels

    snoozed = text(chat.click(KIM, kims, "Snooze 1 week"))
    assert "Snoozed" in snoozed and "November" in snoozed
    clock.now += timedelta(days=2)
    assert to_kim(chat.runtime.conversation.watch()) == []
    assert "someone else's" in text(chat.click(DANA, kims, "Snooze 1 day"))


def test_snooze_takes_what_the_reminder_shows_and_a_wrong_number_is_named(
    chat: Chat, clock: FakeClock
) -> None:
    notified(chat)
    clock.now += timedelta(days=2)
    (reminder,) = to_kim(chat.runtime.conversation.watch())
    shown = text([reminder])
    numbers = re.findall(r"^  (\d+)\. ", shown, flags=re.MULTILINE)
    assert numbers == ["1", "2", "4"]  # 3, her SSH keys, is optional: not reminded

    mistaken = " ".join(text(chat.say(WORK, "snooze 18 1d", in_dm=True)).split())
    assert mistaken == (
        "There is no item 18 on your list (its items are 1 to 4). Say `snooze 1d` or `snooze 1w` to put"
        " off the reminders about your list."
    )
    by_item = " ".join(text(chat.say(WORK, "snooze 2 1d", in_dm=True)).split())
    # right after a reminder the next is two working days away: a day's snooze changes nothing, and says so
    assert by_item == (
        "Your next reminder comes on Friday 6 November at 09:00 (UTC) anyway, after the time you asked for:"
        " nothing to put off. Snooze again after it comes if you need more time."
    )
    assert text(chat.say(WORK, "snooze 1w", in_dm=True)).strip().startswith("😴 Snoozed:")
    clock.now += timedelta(days=6)
    assert to_kim(chat.runtime.conversation.watch()) == []


@pytest.mark.parametrize(
    ("numbers", "said"),
    [([1, 2, 3, 4], "1 to 4"), ([1, 2, 3, 5], "1, 2, 3 and 5"), ([2], "2")],
)
def test_a_wrong_snooze_number_is_answered_with_the_numbers_the_list_has(
    numbers: list[int], said: str
) -> None:
    """An item a decision took off the list leaves its number unused: "1 to 5" would offer it."""
    assert todo_views.item_numbers(numbers) == said


def test_a_decision_that_only_corrects_the_account_she_was_told_lists_no_items() -> None:
    """Her list already reads as the decided account's (a reminder said it): the message takes back the
    account she was told, with no empty "these items are new" line."""
    message = list_message_views.account_decided_dm(
        organization="fabrikam",
        name="Hana",
        account="hana_contoso.com#EXT#@fabrikam.com",
        items=[],
        corrects="hana.hart@fabrikam.com",
    )
    said = render(message)
    assert "I told you that hana.hart@fabrikam.com is your work account. That no longer holds" in said
    assert "These items" not in said
