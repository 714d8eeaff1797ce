"""Asking the long steps to stop between two people: a `serve` told to stop (SIGTERM, Ctrl-C) sets
`PROCESS_STOPPING`, and an invite or a removal under way finishes the person in hand, records how far it got
and leaves its busy state for `interrupted`, so that `resume` carries on at once, in this process's successor
or another replica, instead of after the step's lease (`WorkflowSettings.step_lease`): a stop that waited for
the whole step would outlast `AADBOT_STOP_SECONDS`, and be cut short with the step left busy."""

from __future__ import annotations

import threading

PROCESS_STOPPING = threading.Event()
"""Process-wide, as the signal that sets it is; the tests' in-process services get their own event."""

WHY_STOPPED = "(the bot was stopping)"
"""How a step's reason ends when a stop interrupted it (`unit.interrupt`): a pause, not a fault."""
