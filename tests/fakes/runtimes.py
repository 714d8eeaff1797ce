"""Chat runtimes over the test process's sandbox: a reset costs 2 ms, a sandbox server of its own 0.2 s."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.runtime import Runtime, Surface, build_runtime, utc_now
from bot.settings import Settings
from sandbox import Sandbox
from storage import Database


def runtime_on(
    box: Sandbox,
    database: Database | str,
    *,
    surface: Surface = "console",
    clock: Callable[[], datetime] = utc_now,
    **settings: Any,
) -> Runtime:
    """The chat runtime over a running sandbox, as `AADBOT_SANDBOX_URL` wires it: the test process's sandbox,
    reset by the test, instead of a new server per runtime (`AADBOT_SANDBOX`) for each test.

    `database`: the test process's engine (its compiled statements are kept from test to test), or a
    URL for a runtime with an engine of its own, as a process of its own has."""
    shared = database if isinstance(database, Database) else None
    runtime = build_runtime(
        Settings(
            database_url=database if isinstance(database, str) else database.url,
            sandbox_url=box.url,
            microsoft_environment={"AZURE_TENANT_ID": str(box.state()["tenant"]["id"])},
            **settings,
        ),
        surface=surface,
        clock=clock,
        database=shared,
    )
    runtime.sandbox = (
        box  # for the tests to drive (the portal's Connect); the module stops it, not the runtime
    )
    return runtime
