"""What a `MigrationService` remembers between calls, outside the database: for tests that put a world
back as steps left it (tests/bot/replays.py, tests/workflows/replays.py)."""

from __future__ import annotations

import copy
from typing import Any

from workflows.service import MigrationService


def admins_remembered(service: MigrationService) -> tuple[Any, ...]:
    """Who the service found an admin (or not) and the administrators it looked up, with their expiry:
    later calls answer from them (a refusal names the organizations one is confirmed an admin of)."""
    admins = service._ctx.admins
    gate = admins._gate
    return copy.deepcopy((admins._cache, gate._confirmed, gate._refused_until, gate._refusals))


def remember_admins(service: MigrationService, remembered: tuple[Any, ...]) -> None:
    """`service` remembering what `admins_remembered` read from another (or the same) service."""
    admins = service._ctx.admins
    gate = admins._gate
    admins._cache, gate._confirmed, gate._refused_until, gate._refusals = copy.deepcopy(remembered)
