"""A long step's progress line: `invite` or `remove-users` of thousands of people takes minutes, one
Microsoft call each, and an admin who sees nothing meanwhile cannot tell a slow step from a stuck one. One
message where they asked, posted as the step starts and updated in place as it reports
(`workflows.step_progress`); its last version says how the step ended."""

from __future__ import annotations

import logging
import uuid
from types import TracebackType

from bot.conversation.desk import Outbox
from bot.conversation.messages import Channel, Message, Outgoing, Text
from bot.conversation.plan_views import people

log = logging.getLogger(__name__)


class ProgressLine:
    """A `workflows.step_progress.StepProgress` that shows each report in `channel` (none without one: a
    click in Slack's App Home), every version sharing one `updates` key; used as a context manager, it
    shows the step's end when it returns or raises."""

    def __init__(self, outbox: Outbox, channel: str | None, doing: str) -> None:
        self._outbox = outbox
        self._channel = channel
        self._doing = doing
        """What the step does to each person, as in "Inviting 3000 users"."""
        self._key = f"progress:{uuid.uuid4().hex}"
        self._last: tuple[int, int] | None = None

    def __call__(self, done: int, total: int) -> None:
        self._last = (done, total)
        self._show(f"{self._doing} {people(total)}: {done} done so far…")

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._last is None:
            return  # nothing was shown: nobody to tell how it ended
        done, total = self._last
        ended = "all done" if done == total else f"stopped after {done}; my reply says why"
        self._show(f"{self._doing} {people(total)}: {ended}.")

    def _show(self, text: str) -> None:
        if self._channel is None:
            return
        line = Outgoing(Message(text, (Text(text),)), Channel(self._channel), updates=self._key)
        try:
            self._outbox.show(line)
        except Exception:  # the step itself goes on: a progress line is no reason to stop inviting
            log.exception("the progress line %r could not be shown", text)
