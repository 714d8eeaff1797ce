"""The ways a workflow command is refused; every message is fit to show in chat as is."""

from __future__ import annotations


def as_sentence(said: object) -> str:
    """`said` (a Microsoft error's message, which may stop short: "... 5 times; giving up") ending as a
    sentence does, for words to follow it."""
    text = str(said).strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


class WorkflowError(Exception):
    """The command does not fit the migration's state, or its input is unusable."""


class ConflictError(WorkflowError):
    """Someone else changed the migration at the same moment; the message says who did what."""


class PermissionDenied(WorkflowError):
    """The actor may not do this (for example approving their own request)."""


class NotInvitedYet(WorkflowError):
    """Approval was requested while people the plan says to invite never were: connecting now would cut
    them off. `people` are their addresses; asking again with `anyway` goes ahead."""

    def __init__(self, message: str, organization: str, people: tuple[str, ...]) -> None:
        super().__init__(message)
        self.organization = organization
        self.people = people
