"""One INFO line per migration step for the operator's log (`aadbot serve` shows them), and a WARNING for what
the operator should act on, written once the step is committed: a step rolled back (a rival was faster, a
refusal) never happened, so it is not told."""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("aadbot.migration")
_STEPS = "aadbot_steps"
"""Where a session keeps the lines of its uncommitted steps (`Session.info`)."""
_WARNINGS = "aadbot_warnings"


def stepped(
    session: Session, organization: str, action: str, before: str, after: str | None, actor: str
) -> None:
    session.info.setdefault(_STEPS, []).append((organization, before, after, action, actor or "the bot"))


def warned(session: Session, problem: str) -> None:
    """`problem` names the organization: it is the line the operator reads."""
    session.info.setdefault(_WARNINGS, []).append(problem)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for step in session.info.pop(_STEPS, ()):
        log.info("%s: %s -> %s (%s, by %s)", *step)
    for problem in session.info.pop(_WARNINGS, ()):
        log.warning("%s", problem)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_STEPS, None)
    session.info.pop(_WARNINGS, None)
