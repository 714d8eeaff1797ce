"""Questions the bot could not answer, kept for the admins to review (and to grow the knowledge base)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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
