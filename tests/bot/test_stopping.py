"""A `serve` whose work in a thread never ends (a Microsoft call that hangs) still exits shortly after its
bound, naming what each thread was doing, with a status that says work was cut (`CUT_SHORT`), as it does
when a second signal cuts the wait; or, when it failed, with a failure's status. A stop that ended in time
is not cut short afterwards. Each a small process of its own, no real server."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bot.stopping import CUT_SHORT, FAILED

HUNG = textwrap.dedent(
    """
    import asyncio, logging, os, signal, threading, time

    from bot.alongside import Loop, alongside
    from bot.stopping import run_until_stopped

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def microsoft_call():  # a request's call that never answers, with the deploy's SIGTERM meanwhile
        print(time.monotonic(), flush=True)  # when the signal was sent (the host's clock, as the test's)
        os.kill(os.getpid(), signal.SIGTERM)
        threading.Event().wait()

    async def serving(stopping):
        request = Loop("a request", asyncio.to_thread(microsoft_call), stop=lambda: None)  # to finish
        await alongside([request], Loop("the web server", asyncio.Event().wait()), stopping=stopping, grace=0)

    run_until_stopped(serving, grace=0, closing=0.25)
    """
)


def _run(script: str) -> subprocess.CompletedProcess[str]:
    """`script` in a process of its own, from the repository's root; 30 s at most."""
    root = Path(__file__).parents[2]
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=30
    )


LATE = "WARNING aadbot.serve: still running when the time to stop was up, cancelled: "


def _ended_without_the_call(
    finished: subprocess.CompletedProcess[str], status: int, said_first: list[str], why: str
) -> None:
    """`finished` exited with `status`, having said `said_first`, then `why` it ended without waiting for
    the call that never answers, named, then that it stopped."""
    assert finished.returncode == status, finished.stderr
    *first, warning, stopped = finished.stderr.splitlines()
    assert first == said_first
    assert warning.startswith(f"WARNING aadbot.serve: {why}, still running: ")
    assert "in microsoft_call (<string>)" in warning and warning.endswith("; exiting without them")
    assert stopped == "INFO aadbot.serve: stopped"


def test_a_thread_that_never_ends_holds_the_exit_no_longer_than_the_bound() -> None:
    """The bound is the cancelled tasks' 2 s plus the 0.25 s of closing: the process exits no sooner, nor
    more than 5 s past it: the exit only logs and calls `os._exit`, and 5 s covers a busy host's delay in
    running the timer's thread and this process; a timer armed for 4 times the bound (9 s) fails, 3 times
    passes."""
    finished = _run(HUNG)
    exited = time.monotonic()  # CLOCK_MONOTONIC, the same clock in every process of the host
    signalled = float(finished.stdout)
    _ended_without_the_call(
        finished,
        CUT_SHORT,
        ["INFO aadbot.serve: stopping (SIGTERM)", LATE + "a request"],
        "not stopped 2.25 s after the signal",
    )
    assert 2.25 <= exited - signalled < 2.25 + 5


FAILED_WITH_A_THREAD_HUNG = textwrap.dedent(
    """
    import asyncio, logging, threading

    from bot.alongside import Loop, alongside
    from bot.stopping import run_until_stopped

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    class LinkRefused(Exception):
        pass

    def microsoft_call(loop, calling):  # a request's call that never answers
        loop.call_soon_threadsafe(calling.set)
        threading.Event().wait()

    async def socket_mode(calling):  # Slack refuses the link while the call is under way; no signal
        await calling.wait()
        raise LinkRefused

    async def serving(stopping):
        calling = asyncio.Event()
        call = asyncio.to_thread(microsoft_call, asyncio.get_running_loop(), calling)
        background = [Loop("a request", call, stop=lambda: None), Loop("the link", socket_mode(calling))]
        server = Loop("the web server", asyncio.Event().wait())
        await alongside(background, server, stopping=stopping, grace=0)

    run_until_stopped(serving, grace=0, closing=0)
    """
)


def test_a_serve_that_fails_while_a_thread_hangs_still_exits_as_a_failure_at_the_bound() -> None:
    _ended_without_the_call(
        _run(FAILED_WITH_A_THREAD_HUNG),
        FAILED,
        [LATE + "a request"],
        "not stopped 2 s after failing with LinkRefused",
    )


STOPPED_IN_TIME = textwrap.dedent(
    """
    import asyncio, logging, os, signal, threading

    from bot.stopping import run_until_stopped

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    async def serving(stopping):
        os.kill(os.getpid(), signal.SIGTERM)
        await stopping.wait()

    run_until_stopped(serving, grace=0, closing=0)
    # what comes after (closing the listener, the interpreter's exit) outlasts what was left of the bound
    for thread in threading.enumerate():
        if thread is not threading.current_thread():
            thread.join()
    """
)


def test_a_stop_that_ended_in_time_is_not_cut_short_by_what_comes_after() -> None:
    finished = _run(STOPPED_IN_TIME)
    assert (finished.returncode, finished.stderr) == (
        0,
        "INFO aadbot.serve: stopping (SIGTERM)\nINFO aadbot.serve: stopped (SIGTERM)\n",
    )


WITHOUT_LOOP_SIGNAL_HANDLERS = textwrap.dedent(
    """
    import asyncio, logging, os, signal

    from bot.stopping import run_until_stopped

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # As in a terminal's foreground: a job a script started with `&` inherits SIGINT ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def windows(*_):
        raise NotImplementedError  # as Windows' event loops answer `add_signal_handler`

    asyncio.SelectorEventLoop.add_signal_handler = windows

    async def serving(stopping):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
        await stopping.wait()

    run_until_stopped(serving, grace=0)
    left = signal.getsignal(signal.SIGINT)
    assert left is signal.default_int_handler, f"left to a closed loop: {left!r}"
    """
)


def test_where_the_event_loop_cannot_handle_signals_ctrl_c_still_stops_serve_cleanly() -> None:
    """Windows: `serve` starts, and Ctrl-C stops it as elsewhere, with exit status 0."""
    finished = _run(WITHOUT_LOOP_SIGNAL_HANDLERS)
    assert (finished.returncode, finished.stderr) == (
        0,
        "INFO aadbot.serve: stopping (SIGINT)\nINFO aadbot.serve: stopped (SIGINT)\n",
    )


ASKED_TWICE = textwrap.dedent(
    """
    import asyncio, logging, os, signal, threading

    from bot.stopping import run_until_stopped

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def microsoft_call():
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C again, not waiting for this call that never answers
        threading.Event().wait()

    async def serving(stopping):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
        await stopping.wait()
        await asyncio.to_thread(microsoft_call)

    run_until_stopped(serving, grace=600)
    """
)


def test_a_second_ctrl_c_ends_serve_at_once_rather_than_at_the_bound() -> None:
    finished = _run(ASKED_TWICE)  # the bound is over 600 s: only the second Ctrl-C ends it within 30 s
    _ended_without_the_call(finished, CUT_SHORT, ["INFO aadbot.serve: stopping (SIGINT)"], "SIGINT again")
