"""How `aadbot serve` stops: SIGTERM (a deploy, a service manager) or Ctrl-C asks it to, and the process
ends within a bounded time, even when Slack, Teams or Microsoft stop answering: with exit status 0 once
everything it started has ended (finished, or cancelled at `alongside`'s bound), `CUT_SHORT` when it ends
without waiting for some of it (a thread that never returns, a second signal).

The event loop's own work is bounded by `alongside` (`AADBOT_STOP_SECONDS`, then cancelled). Work in
threads (a Microsoft call or a database query behind `asyncio.to_thread`) cannot be cancelled, and the
interpreter waits for those threads at exit; `CLOSING_SECONDS` after that bound the process names what
each thread is doing and ends without them. A send cut short by either bound stays `in_flight` in the outbox,
so the next process looks for it before posting it: nothing is lost and nothing is sent twice. That is why a
second signal (an operator's second Ctrl-C) may end the process at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import sysconfig
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from bot.alongside import CANCELLED_SECONDS

logger = logging.getLogger("aadbot.serve")

CLOSING_SECONDS = 5.0
"""After the event loop's bound, for closing the HTTP clients and the database."""
SIGNALS = (signal.SIGTERM, signal.SIGINT)
CUT_SHORT = 75
"""The exit status of a stop forced by the bound or a second signal: sysexits' EX_TEMPFAIL, "try again
later", as what was cut is (the outbox sends it again). Not 0, so that the service manager records it
(systemd: the unit failed, `status=75/TEMPFAIL`; Kubernetes: the container's last state `Error`, exit
code 75), nor 1 (a crash), 2 (bad settings) or 128 + a signal (killed by it: 143 is how Java services
end on an ordinary SIGTERM, and their units list it as success)."""

Serving = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
"""Serves until the event is set, then stops everything it started and returns."""


def run_until_stopped(serving: Serving, *, grace: float, closing: float = CLOSING_SECONDS) -> None:
    """Runs `serving` in a new event loop; SIGTERM or SIGINT sets its event (on the main thread only: the
    tests' in-process servers stop by being cancelled), and the process ends at most `grace` (what
    `serving` gives the work under way) plus `closing` and a little more later. Returns once stopped
    and said so."""
    received: list[signal.Signals] = []
    asyncio.run(_on_signals(serving, received, grace + CANCELLED_SECONDS + closing))
    if received:
        logger.info("stopped (%s)", received[0].name)


async def _on_signals(serving: Serving, received: list[signal.Signals], bound: float) -> None:
    stopping = asyncio.Event()
    if threading.current_thread() is threading.main_thread():
        loop = asyncio.get_running_loop()

        def stop(number: signal.Signals) -> None:
            if received:  # asked again (a second Ctrl-C): whoever asked will not wait for the bound
                _exit_now(f"{number.name} again")
            received.append(number)
            logger.info("stopping (%s)", number.name)  # the work under way may take a while yet
            _bound_the_exit(bound)
            stopping.set()

        try:
            for number in SIGNALS:
                loop.add_signal_handler(number, stop, number)
        except NotImplementedError:  # Windows: Python's own handlers, passing the signal on to the loop
            with _handled_by_python(loop, stop):
                await serving(stopping)
            return
    await serving(stopping)


@contextmanager
def _handled_by_python(
    loop: asyncio.AbstractEventLoop, stop: Callable[[signal.Signals], None]
) -> Iterator[None]:
    """SIGTERM and SIGINT call `stop` in `loop` while this lasts; the handlers before are put back after
    it (one left calling a closed loop would fail at a later Ctrl-C)."""

    def handle(number: int, _frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(stop, signal.Signals(number))

    before = {number: signal.signal(number, handle) for number in SIGNALS}
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


def _bound_the_exit(seconds: float) -> None:
    timer = threading.Timer(seconds, _exit_now, args=(f"not stopped {seconds:g} s after the signal",))
    timer.daemon = True  # the process ending in time ends it too
    timer.start()


def _exit_now(why: str) -> None:
    logger.warning(
        "%s, still running: %s; exiting without them",
        why,
        "; ".join(_busy_threads()) or "nothing in Python",
    )
    logger.info("stopped")
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    os._exit(CUT_SHORT)


def _busy_threads() -> list[str]:
    """Each thread but this one and daemon threads, with the function it is in: the innermost one outside
    the standard library (a Microsoft call's, a database driver's), or its innermost where there is none."""
    frames = sys._current_frames()
    me = threading.current_thread()
    busy = []
    for thread in threading.enumerate():
        if thread is me or thread.daemon or thread.ident not in frames:
            continue
        where = _outside_the_standard_library(frames[thread.ident])
        busy.append(f"{thread.name} in {where.f_code.co_name} ({os.path.basename(where.f_code.co_filename)})")
    return busy


def _outside_the_standard_library(frame: FrameType) -> FrameType:
    standard = sysconfig.get_paths()["stdlib"]
    found: FrameType | None = frame
    while found is not None and found.f_code.co_filename.startswith(standard):
        found = found.f_back
    return found or frame
