"""`alongside`, as `serve` stops: loops asked to end finish their work, the others are cancelled, the event
loop's other tasks get the rest of the time, and whatever is still running then is cancelled and named.
Driven by events, and by a time to stop of 0 where the time must run out."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot import alongside as alongside_module
from bot.alongside import Loop, alongside

GRACE = 30.0
"""Longer than any of these tests runs: when it matters, the time to stop is 0."""
LATE = "still running when the time to stop was up, cancelled: "


class Worker:
    """Stands for the outbox worker: asked to stop, it finishes the send under way first."""

    def __init__(self) -> None:
        self.sending = asyncio.Event()
        self.answered = asyncio.Event()
        self.stopped = False
        self.finished: list[str] = []

    async def run(self) -> None:
        self.sending.set()
        await self.answered.wait()
        self.finished.append("send")
        while not self.stopped:
            await asyncio.sleep(0)

    def stop(self) -> None:
        self.stopped = True


async def _until_cancelled(ended: list[str], name: str) -> None:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        ended.append(name)
        raise


def test_stopping_lets_the_work_under_way_finish_cancels_the_rest_and_leaves_no_task() -> None:
    worker = Worker()
    ended: list[str] = []
    reply_posted: list[str] = []

    async def reply() -> None:  # a listener's reply after its ack: a task of the library, not a loop
        await worker.answered.wait()
        reply_posted.append("reply")

    async def served() -> None:
        stopping = asyncio.Event()
        background = [
            Loop("the watch", _until_cancelled(ended, "watch")),
            Loop("worker", worker.run(), worker.stop),
        ]
        running = asyncio.create_task(
            alongside(
                background, Loop("server", _until_cancelled(ended, "server")), stopping=stopping, grace=GRACE
            )
        )
        await worker.sending.wait()
        replying = asyncio.create_task(reply())  # started while it serves: waited for too
        stopping.set()
        for _ in range(10):
            await asyncio.sleep(0)
        assert not running.done() and sorted(ended) == ["server", "watch"]  # the send is not cut short
        worker.answered.set()
        await running
        assert replying.done() and asyncio.all_tasks() == {asyncio.current_task()}

    asyncio.run(served())
    assert worker.finished == ["send"] and reply_posted == ["reply"]


def test_what_runs_on_past_the_time_to_stop_is_cancelled_and_named(caplog: pytest.LogCaptureFixture) -> None:
    worker = Worker()  # its send is never answered
    ended: list[str] = []

    async def served() -> None:
        stopping = asyncio.Event()
        stopping.set()
        background = [Loop("the outbox worker", worker.run(), worker.stop)]
        server = Loop("the web server", _until_cancelled(ended, "server"))
        await alongside(background, server, stopping=stopping, grace=0.0)
        assert asyncio.all_tasks() == {asyncio.current_task()}

    with caplog.at_level(logging.WARNING, logger="aadbot.serve"):
        asyncio.run(served())
    assert [record.getMessage() for record in caplog.records] == [LATE + "the outbox worker"]
    assert worker.finished == [] and ended == ["server"]


def test_what_runs_late_is_named_as_an_operator_knows_it(caplog: pytest.LogCaptureFixture) -> None:
    """The tasks a loop started (the outbox worker's heartbeat and its sends, started from them too) are
    the loop's work, named by the loop's name alone; other tasks by what they run, once, with a count."""

    async def sending() -> None:  # its sends start their own tasks, as a request's might
        await asyncio.gather(*(asyncio.create_task(asyncio.Event().wait()) for _ in range(2)))

    async def outbox_worker() -> None:
        beating = asyncio.create_task(asyncio.Event().wait())
        await asyncio.gather(beating, *(asyncio.create_task(sending()) for _ in range(3)))

    async def served() -> None:
        stopping = asyncio.Event()
        running = asyncio.create_task(
            alongside(
                [Loop("the outbox worker", outbox_worker(), stop=lambda: None)],
                Loop("the web server", asyncio.Event().wait()),
                stopping=stopping,
                grace=0.0,
            )
        )
        await asyncio.sleep(0)  # `alongside` starts its loops before the replies are posted
        replies = [asyncio.create_task(asyncio.Event().wait(), name="a reply") for _ in range(2)]
        stopping.set()
        await running
        assert all(reply.cancelled() for reply in replies)
        assert asyncio.all_tasks() == {asyncio.current_task()}

    with caplog.at_level(logging.WARNING, logger="aadbot.serve"):
        asyncio.run(served())
    assert [record.getMessage() for record in caplog.records] == [LATE + "a reply (2), the outbox worker"]


CLEAN_UP_SECONDS = 0.5
"""What cancelled work gets for its clean-up here: the stop must take it once, not once per kind of task."""


class Stubborn:
    """Work whose clean-up, once cancelled, takes longer than it is given (closing a link that never
    answers); released by the test afterwards, so that no task outlives it."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.released = asyncio.Event()

    async def run(self) -> None:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await self.released.wait()
            raise


def test_what_runs_late_is_named_in_one_warning_and_cancelled_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loop that does not end when asked and a task started meanwhile (a reply after its ack), both
    late: one warning names them, and they share one clean-up time rather than taking it one after the
    other out of what `bot.stopping` leaves for closing the clients and the database."""
    monkeypatch.setattr(alongside_module, "CANCELLED_SECONDS", CLEAN_UP_SECONDS)
    sending, replying = Stubborn(), Stubborn()

    async def served() -> float:
        stopping = asyncio.Event()
        background = [Loop("the outbox worker", sending.run(), stop=lambda: None)]  # its send never answered
        server = Loop("the web server", asyncio.Event().wait())
        running = asyncio.create_task(alongside(background, server, stopping=stopping, grace=0.0))
        await sending.started.wait()
        reply = asyncio.create_task(replying.run(), name="a reply")
        await replying.started.wait()
        clock = asyncio.get_running_loop()
        began = clock.time()
        stopping.set()
        await running
        took = clock.time() - began
        sending.released.set()
        replying.released.set()
        await asyncio.wait(asyncio.all_tasks() - {asyncio.current_task()})
        assert reply.cancelled()
        return took

    with caplog.at_level(logging.WARNING, logger="aadbot.serve"):
        took = asyncio.run(served())
    assert [record.getMessage() for record in caplog.records] == [LATE + "a reply, the outbox worker"]
    assert CLEAN_UP_SECONDS <= took < 2 * CLEAN_UP_SECONDS


class LinkRefused(Exception):
    pass


def test_a_background_loop_that_fails_ends_it_all_and_is_raised_once() -> None:
    ended: list[str] = []

    async def refused() -> None:
        raise LinkRefused

    async def served() -> None:
        background = [Loop("the link", refused()), Loop("the watch", _until_cancelled(ended, "watch"))]
        with pytest.raises(LinkRefused):
            await alongside(background, Loop("server", _until_cancelled(ended, "server")), grace=GRACE)
        assert asyncio.all_tasks() == {asyncio.current_task()}

    asyncio.run(served())
    assert sorted(ended) == ["server", "watch"]


class RecordingFailed(Exception):
    pass


def test_what_fails_while_stopping_is_logged_once_by_name(caplog: pytest.LogCaptureFixture) -> None:
    """A loop and a task started meanwhile, each failing as it ends (the database gone while recording a
    send): nobody is left to raise it to, so the log says it, once each."""
    asked = asyncio.Event()

    async def recording() -> None:
        await asked.wait()
        raise RecordingFailed

    async def served() -> None:
        stopping = asyncio.Event()
        background = [Loop("the outbox worker", recording(), asked.set)]
        running = asyncio.create_task(
            alongside(background, Loop("server", asyncio.Event().wait()), stopping=stopping, grace=GRACE)
        )
        await asyncio.sleep(0)  # `alongside` starts its loops before the reply is posted
        reply = asyncio.create_task(recording(), name="a reply")
        stopping.set()
        await running
        assert reply.done()

    with caplog.at_level(logging.ERROR, logger="aadbot.serve"):
        asyncio.run(served())
    said = sorted(
        (record.getMessage(), record.exc_info[1].__class__) for record in caplog.records if record.exc_info
    )
    assert said == [
        ("a reply failed while stopping", RecordingFailed),
        ("the outbox worker failed while stopping", RecordingFailed),
    ]
    assert len(caplog.records) == 2


def test_a_failure_a_parent_took_is_left_to_it(caplog: pytest.LogCaptureFixture) -> None:
    """A task whose failure its parent re-raises (the outbox worker recording a send) or logs itself (a
    Teams turn's budget): said once, by whoever took it, not again by `alongside`."""
    asked = asyncio.Event()

    async def recording() -> None:
        await asked.wait()
        raise RecordingFailed

    async def outbox_worker() -> None:
        await asyncio.create_task(recording(), name="recording a send")

    async def web_server() -> None:  # lets the turn under way finish, and says how it failed
        turn = asyncio.create_task(recording(), name="a Teams turn")
        await asyncio.wait({turn})
        logging.getLogger("aadbot.teams").error("a Teams turn failed", exc_info=turn.exception())

    async def served() -> None:
        stopping = asyncio.Event()
        background = [Loop("the outbox worker", outbox_worker(), asked.set)]
        running = asyncio.create_task(
            alongside(
                background, Loop("the web server", web_server(), asked.set), stopping=stopping, grace=GRACE
            )
        )
        await asyncio.sleep(0)
        stopping.set()
        await running

    with caplog.at_level(logging.ERROR):
        asyncio.run(served())
    assert sorted(record.getMessage() for record in caplog.records) == [
        "a Teams turn failed",
        "the outbox worker failed while stopping",
    ]
