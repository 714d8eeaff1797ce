"""Questions the bot could not answer, kept for the admins to review (and to grow the knowledge base)."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# Enough to read the question; a pasted log file is not worth keeping whole.
KEPT_CHARS = 500
# Long runs of token-like characters mixing letters and digits: PATs, Slack tokens, client secrets.
_SECRET_LIKE = re.compile(r"(?=[A-Za-z0-9+/=_.~-]*\d)(?=[A-Za-z0-9+/=_.~-]*[A-Za-z])[A-Za-z0-9+/=_.~-]{20,}")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+\S+")


def redact(text: str) -> str:
    """The question with anything that looks like a secret replaced, cut to a readable length."""
    text = _BEARER.sub(r"\1 [redacted]", text[: KEPT_CHARS * 4])
    return _SECRET_LIKE.sub("[redacted]", text)[:KEPT_CHARS]


@dataclass(frozen=True)
class UnansweredQuestion:
    question: str  # already redacted and shortened
    closest: tuple[str, ...]
    score: float
    organization: str | None
    asked_at: datetime


class UnansweredLog(Protocol):
    """Where declined questions go; the bot wires a persistent one."""

    def record(self, entry: UnansweredQuestion) -> None: ...


class InMemoryUnansweredLog:
    """Keeps the most recent declined questions in memory, oldest dropped first."""

    def __init__(self, limit: int = 1000) -> None:
        self._entries: deque[UnansweredQuestion] = deque(maxlen=limit)

    def record(self, entry: UnansweredQuestion) -> None:
        self._entries.append(entry)

    def entries(self) -> list[UnansweredQuestion]:
        """Oldest first."""
        return list(self._entries)
