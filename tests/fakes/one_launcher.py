"""The run's one pre-imported launcher (tests/fakes/preimported.py), started by the run's first process.

Under xdist that is the controller, which runs no test: it starts the launcher before it starts the test
processes, which inherit `LAUNCHER_VARIABLE` and connect at their first `launch`; without xdist, the one
process does both. One launcher a run instead of one per test process that forks: its imports (0.8 s of CPU)
once, not three or four times. The run's first process ends it at its own end (`pytest_unconfigure`, after
the test processes have ended) and reaps it, so that the forked children's CPU counts in the run's; if that
process is killed instead, the launcher sees its socket close and ends its children and itself.
"""

from __future__ import annotations

import os

import pytest

from tests import forkserver
from tests.fakes import preimported

_owned: forkserver.Server | None = None


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    global _owned
    if hasattr(config, "workerinput") or not forkserver.AVAILABLE or config.option.collectonly:
        return
    _owned = preimported.own()  # in a folder of its own, short enough for a Unix socket whatever TMPDIR is
    os.environ[preimported.LAUNCHER_VARIABLE] = _owned.address  # before xdist starts the test processes


def pytest_unconfigure() -> None:
    global _owned
    if _owned is not None:
        _owned.stop()
        _owned = None
        os.environ.pop(preimported.LAUNCHER_VARIABLE, None)
