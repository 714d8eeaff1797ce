"""A long step's progress line: `invite` or `remove-users` of thousands of people takes minutes, one
Microsoft call each, and an admin who sees nothing meanwhile cannot tell a slow step from a stuck one. One
message where they asked, posted once the step has run a while and updated in place as it reports
(`workflows.step_progress`); its last version says how the step ended, in the step's own counts."""

from __future__ import annotations

import logging

from bot.conversation.desk import Outbox
from bot.conversation.messages import Channel, Message, Outgoing, Text
from bot.conversation.plan_views import people
from workflows.step_progress import StepReport

log = logging.getLogger(__name__)

REPLY_SAYS_WHY = "my reply says why"
"""Where a step that ended short says why, when the reply is read where the line is."""
_WORDS = {"invite": ("Inviting", "invited"), "remove": ("Removing", "removed")}
"""What a step's `action` does to each person, and what it did to those it succeeded with."""


class ProgressLine:
    """A `workflows.step_progress.StepProgress` that shows each report in `channel`, the conversation the
    admin asked in (`Command.reply_to`: a channel, a direct message; none without one, a click in Slack's
    App Home), every version of a step sharing one `updates` key, the step's own (`StepReport.step`): a
    `resume` in another turn, or another process, updates the same line."""

    def __init__(self, outbox: Outbox, channel: str | None, *, why: str = REPLY_SAYS_WHY) -> None:
        """`why`: where a step that ended short says why, for the line to point there (a reply the
        channel reads, or one only whoever asked reads)."""
        self._outbox = outbox
        self._channel = channel
        self._why = why
        self.shown = False
        """Whether the channel has the line: its last version then says how the step ended."""

    def __call__(self, report: StepReport) -> None:
        if self._channel is None:
            return
        text = line_text(report, self._why)
        line = Outgoing(
            Message(text, (Text(text),)), Channel(self._channel), updates=f"progress:{report.step}"
        )
        try:
            self._outbox.show(line)
            self.shown = True
        except Exception:  # the step itself goes on: a progress line is no reason to stop inviting
            log.exception("the progress line %r could not be shown", text)


def line_text(report: StepReport, why: str = REPLY_SAYS_WHY) -> str:
    """The line as it reads now ("Inviting 3,000 users: 300 done so far…"); at the end what the step did:
    "all done." only when it did it to everyone, else how many of them and where it stopped."""
    doing, did = _WORDS[report.action]
    total = report.total
    if not report.ended:
        return f"{doing} {people(total)}: {report.done:,} done so far…"
    if report.succeeded == total:
        return f"{doing} {people(total)}: all done."
    stopped = "" if report.done == total else f", stopped after {report.done:,}"
    return f"{doing} {people(total)}: {did} {report.succeeded:,} of {total:,}{stopped}; {why}."
