"""`aadbot ARGS` run in the test's own process: `bot.cli.main(argv)`, the function the `aadbot` script calls.

A real process costs seconds of imports each time; the commands' own behaviour (arguments, output, exit
codes) is the same in-process. The real process is still tested where starting it is the point (`serve`,
`signin`, `sandbox`, doctor's bad arguments).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from bot.cli import main


@dataclass(frozen=True)
class Finished:
    """Like `subprocess.CompletedProcess`: the exit code and what was printed."""

    returncode: int
    stdout: str
    stderr: str


@dataclass
class Aadbot:
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch

    def __call__(self, *argv: str, environment: Mapping[str, str] | None = None) -> Finished:
        """Runs `aadbot *argv` with `environment` added to the (cleaned) environment of the test."""
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        with self.monkeypatch.context() as patch:
            for name, value in (environment or {}).items():
                patch.setenv(name, value)
            self.capsys.readouterr()  # only what this command prints
            try:
                code = main(list(argv))
            except SystemExit as exit:  # argparse's usage errors, as the process would exit
                code = exit.code if isinstance(exit.code, int) else 1
            finally:  # `main` configures logging for a process; the test process keeps its own
                root.handlers[:], root.level = handlers, level
            out, err = self.capsys.readouterr()
        return Finished(code, out, err)
