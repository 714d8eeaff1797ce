"""A `serve` whose work in a thread never ends (a Microsoft call that hangs) still exits shortly after its
bound, naming what each thread was doing, with a status that says work was cut (`CUT_SHORT`), as it does
when a second signal cuts the wait: a small process of its own, no real server."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from bot.stopping import CUT_SHORT

HUNG = textwrap.dedent(
    """
    import asyncio, logging, os, signal, threading

    from bot.alongside import Loop, alongside
    from bot.stopping import run_until_stopped

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def microsoft_call():  # a request's call that never answers, with the deploy's SIGTERM meanwhile
        os.kill(os.getpid(), signal.SIGTERM)
        threading.Event().wait()

    async def serving(stopping):
        request = Loop("a request", asyncio.to_thread(microsoft_call), stop=lambda: None)  # to finish
        await alongside([request], Loop("the web server", asyncio.Event().wait()), stopping=stopping, grace=0)

    run_until_stopped(serving, grace=0, closing=0.5)
    """
)


def _run(script: str) -> subprocess.CompletedProcess[str]:
    """`script` in a process of its own, from the repository's root; 30 s at most."""
    root = Path(__file__).parents[2]
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=30
    )


def test_a_thread_that_never_ends_holds_the_exit_no_longer_than_the_bound() -> None:
    finished = _run(HUNG)
    assert finished.returncode == CUT_SHORT, finished.stderr
    lines = finished.stderr.splitlines()[1:]  # after "stopping (SIGTERM)"
    late = "WARNING aadbot.serve: still running when the time to stop was up, cancelled: "
    assert lines[0].startswith(late) and "a request" in lines[0].removeprefix(late).split(", ")
    assert lines[1].startswith("WARNING aadbot.serve: not stopped 2.5 s after the signal, still running: ")
    assert "in microsoft_call (<string>)" in lines[1] and lines[1].endswith("; exiting without them")
    assert lines[2:] == ["INFO aadbot.serve: stopped"]


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
    assert finished.returncode == CUT_SHORT, finished.stderr
    said_stopping, warning, said_stopped = finished.stderr.splitlines()
    assert said_stopping == "INFO aadbot.serve: stopping (SIGINT)"
    assert warning.startswith("WARNING aadbot.serve: SIGINT again, still running: ")
    assert "in microsoft_call (<string>)" in warning and warning.endswith("; exiting without them")
    assert said_stopped == "INFO aadbot.serve: stopped"
