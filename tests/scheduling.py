"""How the run's first process hands out the test files (`--dist loadfile`), for tests/conftest.py."""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadFileScheduling

SHARED = {
    "tests/slack/test_slack_serve_process.py": "slack serves",
    "tests/slack/test_slack_hostile_requests.py": "slack serves",
    "tests/slack/test_slack_socket_mode.py": "slack serves",
    "tests/teams/test_teams_serve.py": "teams beside slack",
    "tests/teams/test_teams_files.py": "teams beside slack",
    "tests/slack/test_slack_message_sizes.py": "the 20,000-person catalog",
    "tests/teams/test_teams_sandbox.py": "the 20,000-person catalog",
}
"""Files sharing what a test process builds once: the same package-scoped `aadbot serve` processes
(tests/slack/conftest.py, tests/teams/conftest.py), or tests/message_catalog.py's `catalog(20_000)` (3.5 s
of CPU, `functools.cache`), by what they share: one test process runs the files of each, so that each
`serve` starts, and the catalog is built, once per run instead of once per file."""
STARTED_FIRST = (
    "tests/slack/test_slack_serve_what_is_wrong.py",
    "tests/slack/test_slack_serve_restart.py",
    "tests/bot/test_lost_invitation_answers.py",
    "tests/slack/test_slack_serve_migration.py",
    "teams beside slack",
    "tests/slack/test_slack_serve_stopping.py",
    "tests/teams/test_teams_sender.py",
    "tests/teams/test_teams_serve_stops_a_step.py",
    "tests/teams/test_teams_serve_killed_mid_send.py",
    "tests/test_zygote.py",
    "tests/bot/test_rehearsal_clock.py",
    "tests/faq/test_faq_eval.py",
    "tests/teams/test_teams_help.py",
    "tests/workflows/test_reminders.py",
    "tests/storage/test_schema.py",
    "tests/teams/test_teams_shared_rate.py",
    "slack serves",
    "tests/teams/test_teams_approvers.py",
    "tests/teams/test_teams_card_text.py",
    "tests/bot/test_stopping.py",
    "tests/slack/test_slack_reliability.py",
    "tests/delivery/test_notices_survive_a_kill.py",
    "the 20,000-person catalog",
    "tests/teams/test_teams_migration.py",
    "tests/teams/test_teams_requests.py",
    "tests/teams/test_reach_on_either_surface.py",
    "tests/bot/test_connection_watch_cadence.py",
    "tests/teams/test_teams_channel_privacy.py",
    "tests/bot/test_rehearsal_due_moments.py",
    "tests/workflows/test_approval_properties.py",
    "tests/slack/test_slack_outage.py",
    "tests/test_quick_start.py",
    "tests/bot/test_doctor.py",
    "tests/plan/test_rules_properties.py",
)
"""The units of work (a file, or a name of `SHARED`) that take longest, by wall time in a whole run,
longest first, handed out before the rest. xdist hands out files with many tests first, so these came
last, and one of them kept the run waiting after every other test process had finished (a `serve` of one
test started 80 s into a 90 s run; on 2026-11-28, `test_teams_help.py`, 6.6 s of wall for 2.4 s of CPU,
started 76 s into a 79 s run and the cores sat idle for its last 5 s; on 2026-11-29 the new
`test_rehearsal_due_moments.py`, 3.3 s of CPU, ran alone for the run's last 2.5 s; on 2026-11-30
`test_slack_serve_what_is_wrong.py`, grown to eleven `serve` processes and 25 s of wall for about 3 s of CPU,
started 69 s into a 100 s run and the cores were a third to half idle for its last 12 s; on 2026-12-01
`test_slack_serve_restart.py`, 17 s of wall, and `test_lost_invitation_answers.py`, 17 s, neither listed,
kept one test process 20 s past the others in a 120 s run). Measure again when a
file grows: docs/testing.md, "Session 15", "Session 16" and "Session 28"."""
WAITING = frozenset(
    {
        "tests/slack/test_slack_serve_what_is_wrong.py",
        "tests/slack/test_slack_serve_restart.py",
        "tests/slack/test_slack_serve_migration.py",
        "teams beside slack",
        "tests/teams/test_teams_help.py",
        "tests/teams/test_teams_sender.py",
        "tests/teams/test_teams_serve_stops_a_step.py",
        "tests/teams/test_teams_serve_killed_mid_send.py",
        "tests/slack/test_slack_reliability.py",
        "tests/bot/test_stopping.py",
        "tests/slack/test_slack_serve_stopping.py",
        "tests/teams/test_teams_requests.py",
        "tests/teams/test_teams_approvers.py",
        "tests/teams/test_teams_migration.py",
        "tests/teams/test_teams_shared_rate.py",
        "tests/slack/test_slack_requests.py",
        "tests/teams/test_teams_card_text.py",
        "tests/teams/test_reach_on_either_surface.py",
    }
)
"""The units of 2.5 s of wall or more that mostly wait (on `aadbot serve` processes, real poll intervals,
Slack's and Teams' pacing, `Retry-After`): their process and the processes they start used at most about a
third of their wall in CPU, where a computing file uses most of it. Of a whole run on 2026-11-29 (wall and
the test process's CPU from its per-test timeline, the CPU of the processes it started from their
`/proc/<pid>/stat` at each test's start and end): the Slack migration through `serve` 11.5 s of wall for
2.0 s of CPU, Teams beside Slack 8.8 for 3.2, `test_teams_help.py` 6.9 for 1.5, `test_teams_sender.py`
6.1 for 1.1, `test_slack_reliability.py` 5.1 for 0.2, `test_stopping.py` 5.0 for 0.3; against
`test_faq_eval.py` 3.5 s for 2.8, `test_slack_message_sizes.py` 2.6 for 2.3. tests/scheduling.py keeps at
most half the test processes in them at once. Measure again when one of them, or a file of 2.5 s or more
not in it, changes what it waits for: docs/testing.md, "Session 23"."""


class FileScheduling(LoadFileScheduling):
    """`--dist loadfile`, with the files of `SHARED` as one unit, `STARTED_FIRST` first, at most half
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
        return SHARED.get(file, file)

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
