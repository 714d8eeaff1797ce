"""How the run's first process hands out the test files (`--dist loadfile`), for tests/conftest.py."""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadFileScheduling

from tests.conftest import SHARED_SERVES, STARTED_FIRST, WAITING


class FileScheduling(LoadFileScheduling):
    """`--dist loadfile`, with the files of `SHARED_SERVES` as one unit, `STARTED_FIRST` first, at most half
    the test processes in units of `WAITING` at once, and the last units only for a test process with
    nothing else to run.

    xdist hands a test process its next file as soon as it has two tests left to run (or as soon as it
    starts a file of one or two tests), so that it never waits for the next; the file then waits behind
    those tests. In the run's last seconds that kept files queued behind a slow last test while another
    process had finished all it had (three whole runs: `test_tls_context.py` started 9.9 s after a test
    process had ended, behind `test_benchmark.py`; `test_teams_people.py` 2.3 to 3.3 s after;
    `test_web_server.py`, handed out with six units left, 2.0 s after). Once fewer units are left than
    twice the test processes, a unit goes to a process only when it has nothing left to run but the last
    test it holds (xdist's worker runs a test only once it knows the next). That costs one exchange with
    the first process per unit, and only for those few.

    pytest-xdist orders the files by their number of tests; how it splits and hands out work is its own
    (`_split_scope`, `_assign_work_unit`, `_reschedule`, `_pending_of`, `workqueue`), so pyproject.toml
    keeps xdist below 4."""

    def _split_scope(self, nodeid: str) -> str:
        file = super()._split_scope(nodeid)
        return SHARED_SERVES.get(file, file)

    def _assign_work_unit(self, node: Any) -> None:
        """The next unit in `STARTED_FIRST`'s order, but a unit of `WAITING` only while fewer than half the
        other test processes hold one: the other half keeps the 2 cores busy (check.py runs two test
        processes a core).

        In the order alone, the four longest units went out first, and all four wait: in a whole run on
        2026-11-29 the cores were about half idle from 7 to 10 s in (`/proc/stat`), the CPU-bound files
        (`test_rehearsal_clock.py`, `test_faq_eval.py`, `test_reminders.py`, 2.8 to 2.9 s of CPU each) only
        starting once the waiting ones ended. When only units of `WAITING` are left, they go out anyway."""
        for file in reversed(STARTED_FIRST):
            if file in self.workqueue:
                self.workqueue.move_to_end(file, last=False)
        if self._waiting_elsewhere(node) >= len(self.nodes) // 2:
            computing = next((unit for unit in self.workqueue if unit not in WAITING), None)
            if computing is not None:
                self.workqueue.move_to_end(computing, last=False)
        super()._assign_work_unit(node)

    def _waiting_elsewhere(self, node: Any) -> int:
        """How many test processes other than `node` hold a unit of `WAITING` with tests still to run."""
        return sum(
            any(unit in WAITING and not all(tests.values()) for unit, tests in work.items())
            for other, work in self.assigned_work.items()
            if other is not node
        )

    def _reschedule(self, node: Any) -> None:
        in_the_tail = 0 < len(self.workqueue) < 2 * len(self.nodes)
        if in_the_tail and self._pending_of(self.assigned_work[node]) > 1:
            return
        super()._reschedule(node)
