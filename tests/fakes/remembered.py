"""What a `MigrationService` remembers between calls, outside the database: for tests that put a world
back as steps left it (tests/bot/replays.py, tests/workflows/replays.py)."""

from __future__ import annotations

import copy
from typing import Any

from workflows.admin_memory import InMemoryAdminMemory
from workflows.service import MigrationService


def admins_remembered(service: MigrationService) -> tuple[Any, ...]:
    """The administrators the service looked up, with their expiry, and, when its admin gate keeps them
    in this process rather than in the database, whom it found an admin (or not): later calls answer from
    them (a refusal names the organizations one is confirmed an admin of)."""
    admins = service._ctx.admins
    memory = admins._gate._memory
    people = memory._people if isinstance(memory, InMemoryAdminMemory) else None
    return copy.deepcopy((admins._cache, people))


def remember_admins(service: MigrationService, remembered: tuple[Any, ...]) -> None:
    """`service` remembering what `admins_remembered` read from another (or the same) service."""
    admins = service._ctx.admins
    admins._cache, people = copy.deepcopy(remembered)
    memory = admins._gate._memory
    if isinstance(memory, InMemoryAdminMemory) and people is not None:
        memory._people = people
