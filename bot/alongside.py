"""Running a server with its background loops (watch, outbox worker, Socket Mode link) beside it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any


async def alongside(
    background: list[Coroutine[Any, Any, Any]],
    main: Coroutine[Any, Any, Any],
    *,
    stop: Callable[[], None] | None = None,
) -> None:
    """Runs `main` to its end with `background` beside it; the first background failure ends it all.

    A background loop that raises (a Socket Mode link Slack refuses) would otherwise be a task nobody
    awaits: `serve` would go on serving half of what it was asked to, with nothing said. `stop` asks
    `main` to end by itself (uvicorn logs a traceback when it is cancelled instead).
    """
    main_task = asyncio.create_task(main)
    tasks = [asyncio.create_task(loop) for loop in background]
    try:
        pending = {main_task, *tasks}
        while main_task in pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raises what ended it
    finally:
        if stop is not None and not main_task.done():
            stop()
            await asyncio.wait({main_task})
        for task in (main_task, *tasks):
            task.cancel()
        await asyncio.gather(main_task, *tasks, return_exceptions=True)  # their own clean-up runs to its end
