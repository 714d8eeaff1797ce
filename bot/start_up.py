"""`serve` starts without the garbage collector, and later collections leave what it made alone.

Starting `serve` imports some 1,400 modules and builds the runtime: about 200,000 objects that live as long
as the process, and almost no garbage (a collection right after start-up finds about 2,000 unreachable
objects). The collector still ran some 300 times while they were made, about 0.15 s of CPU, an eighth of
the start-up, and every full collection after it would walk them all again. So the collector is off while
`serve` starts; once it is about to serve, what start-up made is frozen out of the collector's reach
(`gc.freeze`, the little garbage among it kept for good) and the collector is turned back on.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_starting = False


@contextmanager
def collector_off_while_starting() -> Iterator[None]:
    """The collector is off until `started()`, or until the block ends, whichever comes first. Off already
    when the block begins (someone else's pause), it is left to whoever turned it off."""
    global _starting
    if not gc.isenabled():
        yield
        return
    gc.disable()
    _starting = True
    try:
        yield
    finally:
        started()


def started() -> None:
    """Start-up is over: what it made is kept out of every later collection, and collecting starts again.
    Nothing to do outside `collector_off_while_starting`, or once it has been called."""
    global _starting
    if _starting:
        _starting = False
        gc.freeze()
        gc.enable()
