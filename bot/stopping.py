"""How `aadbot serve` stops: SIGTERM (a deploy, a service manager) or Ctrl-C asks it to, and the process
ends within a bounded time, even when Slack, Teams or Microsoft stop answering: with exit status 0 once
everything it started has ended (finished, or cancelled at `alongside`'s bound), `CUT_SHORT` when it ends
without waiting for some of it (a thread that never returns, a second signal). A `serve` that fails is
bounded the same way, and exits as a failure (`FAILED`) even when a thread holds it.

The event loop's own work is bounded by `alongside` (`AADBOT_STOP_SECONDS`, then cancelled). Work in threads
(a Microsoft call or a database query behind `asyncio.to_thread`) cannot be cancelled, and the interpreter
waits for those threads at exit; `CLOSING_SECONDS` after that bound the process names what each thread is
doing and ends without them. Told to stop, an invite or a removal under way (in a thread) stops between two
people and marks its step interrupted, so that `resume` carries on at once (`workflows.stopping`); the outbox
worker starts no other send, and a Teams send that has not handed its message to Teams yet gives it back for
the next process (`bot.delivery.sender.HandsOver`):
the bound is spent on the requests already made, which `AADBOT_STOP_SECONDS` outlasts (bot/settings.py). A
send cut short by either bound stays `in_flight` in the outbox, so the next process looks for it before
posting it: on Slack, in the conversation's history, so nothing is lost and nothing is sent twice; Teams
keeps no history to look in, so it is recorded as possibly delivered, not sent twice, and shown apart to the
admins ("may have reached"). That is why a second signal (an operator's second Ctrl-C) may end the process
at once.
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
from workflows.stopping import PROCESS_STOPPING

logger = logging.getLogger("aadbot.serve")

CLOSING_SECONDS = 5.0
"""After the event loop's bound, for closing the HTTP clients and the database."""
SIGNALS = (signal.SIGTERM, signal.SIGINT)
CUT_SHORT = 75
"""The exit status of a process that ended without waiting for the work still under way: a thread still
running at the bound (`CLOSING_SECONDS` after `alongside`'s), or a second signal. Not that of a send cancelled
at `AADBOT_STOP_SECONDS`: the process waits for it to end and exits 0, and the outbox sends it again or, on
Teams, shows it to the admins as possibly delivered. Sysexits' EX_TEMPFAIL, "try again later". Not 0, so that
the service manager records the cut (systemd: the unit failed, `status=75/TEMPFAIL`; Kubernetes: the
container's last state `Error`, exit code 75), nor 1 (a failure), 2 (bad settings) or 128 + a signal (killed
by it: 143 is how Java services end on an ordinary SIGTERM, and their units list it as success)."""
FAILED = 1
"""The exit status of a `serve` that failed, as `aadbot` gives it (bot/cli.py); kept when a thread that
never returns holds its exit and the bound ends it."""

Serving = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
"""Serves until the event is set, then stops everything it started and returns."""


def run_until_stopped(serving: Serving, *, grace: float, closing: float = CLOSING_SECONDS) -> None:
    """Runs `serving` in a new event loop; SIGTERM or SIGINT sets its event (on the main thread only: the
    tests' in-process servers stop by being cancelled), and the process ends at most `grace` (what
    `serving` gives the work under way) plus `closing` and a little more later. Returns once stopped
    and said so."""
    received: list[signal.Signals] = []
    bound = _Bound(grace + CANCELLED_SECONDS + closing)
    try:
        asyncio.run(_on_signals(serving, received, bound))
    finally:
        bound.cancel()  # stopped: closing the listener and the interpreter's exit are not cut short
    if received:
        logger.info("stopped (%s)", received[0].name)


async def _on_signals(serving: Serving, received: list[signal.Signals], bound: _Bound) -> None:
    """`serving` with the signals stopping it, and `bound` armed by a signal or its failure (the event
    loop's close waits for its threads, hung ones too); on the main thread only."""
    stopping = asyncio.Event()
    if threading.current_thread() is not threading.main_thread():
        await serving(stopping)
        return
    loop = asyncio.get_running_loop()

    def stop(number: signal.Signals) -> None:
        if received:  # asked again (a second Ctrl-C): whoever asked will not wait for the bound
            bound.exit_now(f"{number.name} again")
        received.append(number)
        # set before the line is logged: whoever reads the line (an operator, a test) may rely on a step
        # under way stopping before its next person
        PROCESS_STOPPING.set()  # an invite or a removal under way stops between two people
        logger.info("stopping (%s)", number.name)  # the work under way may take a while yet
        bound.arm("the signal")
        stopping.set()

    try:
        try:
            for number in SIGNALS:
                loop.add_signal_handler(number, stop, number)
        except NotImplementedError:  # Windows: Python's own handlers, passing the signal on to the loop
            with _handled_by_python(loop, stop):
                await serving(stopping)
            return
        await serving(stopping)
    except BaseException as failure:
        bound.arm(f"failing with {type(failure).__name__}", failed=True)  # its message may hold a secret
        raise


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


class _Bound:
    """Ends the process `seconds` after it is first armed (a signal, a failure) unless cancelled first."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._timer: threading.Timer | None = None
        self._failed = False

    def arm(self, after: str, *, failed: bool = False) -> None:
        self._failed |= failed  # a failure stays one, whatever stops the process after it
        if self._timer is None:
            self._timer = threading.Timer(
                self.seconds, self.exit_now, args=(f"not stopped {self.seconds:g} s after {after}",)
            )
            self._timer.daemon = True  # the process ending in time ends it too
            self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def exit_now(self, why: str) -> None:
        logger.warning(
            "%s, still running: %s; exiting without them",
            why,
            "; ".join(_busy_threads()) or "nothing in Python",
        )
        logger.info("stopped")
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stdout.flush()
        os._exit(FAILED if self._failed else CUT_SHORT)


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
