"""Running a server with its background loops (watch, outbox worker, Socket Mode link) beside it, and
stopping them all within a bounded time."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("aadbot.serve")

CANCELLED_SECONDS = 2.0
"""How long what was cancelled gets to run its own clean-up (closing a link) before it is left behind."""

_LOOP: contextvars.ContextVar[str] = contextvars.ContextVar("aadbot_loop")
"""The name of the loop a task works for: set in each loop's context, so that every task it starts
(directly, or from a callback: a request's) inherits it."""

Owners = weakref.WeakKeyDictionary[asyncio.Task[Any], str]
"""Each task started in a loop's context, with that loop's name."""


@dataclass(frozen=True)
class Loop:
    name: str
    """What the log calls it if it is still running when the time to stop is up."""
    run: Coroutine[Any, Any, Any]
    stop: Callable[[], None] | None = None
    """Asks it to finish the work under way and end by itself; None: it holds no work, and is cancelled."""


async def alongside(
    background: list[Loop],
    main: Loop,
    *,
    stopping: asyncio.Event | None = None,
    grace: float,
) -> None:
    """Runs `main` to its end with `background` beside it, until `stopping` is set or a loop fails.

    A background loop that raises (a Socket Mode link Slack refuses) would otherwise be a task nobody
    awaits: `serve` would go on serving half of what it was asked to, with nothing said; its failure ends
    it all and is raised here. However it ends, every loop is stopped (`Loop.stop`) or cancelled, and so is
    every other task started meanwhile (a reply being posted after its ack) still running `grace` seconds
    (`AADBOT_STOP_SECONDS`) after, with a warning naming them: nothing is left for the loop's close to
    destroy.
    """
    earlier = asyncio.all_tasks()
    with _owners_recorded() as owners:
        tasks = {_started(loop): loop for loop in (main, *background)}
        main_task = next(iter(tasks))
        told = asyncio.create_task((stopping or asyncio.Event()).wait())
        try:
            pending = {*tasks, told}
            while main_task in pending and told in pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done - {told}:
                    task.result()  # re-raises what ended it
        finally:
            told.cancel()
            await _stop(tasks, grace, earlier, owners)


def _started(loop: Loop) -> asyncio.Task[Any]:
    context = contextvars.copy_context()
    context.run(_LOOP.set, loop.name)
    return asyncio.create_task(loop.run, name=loop.name, context=context)


@contextmanager
def _owners_recorded() -> Iterator[Owners]:
    """While this lasts, each task started in a loop's context is recorded with the loop's name: a task
    does not say which context it runs in before Python 3.12 (`Task.get_context`)."""
    event_loop = asyncio.get_running_loop()
    before = event_loop.get_task_factory()
    owners: Owners = weakref.WeakKeyDictionary()

    def start(loop: asyncio.AbstractEventLoop, coroutine: Any, /, **options: Any) -> asyncio.Future[Any]:
        if before is None:
            task: asyncio.Future[Any] = asyncio.Task(coroutine, loop=loop, **options)
        else:
            task = before(loop, coroutine, **options)
        context: contextvars.Context | None = options.get("context")  # else the current one
        owner = _LOOP.get(None) if context is None else context.get(_LOOP)
        if owner is not None and isinstance(task, asyncio.Task):
            owners[task] = owner
        return task

    event_loop.set_task_factory(start)
    try:
        yield owners
    finally:
        event_loop.set_task_factory(before)


async def _stop(
    tasks: dict[asyncio.Task[Any], Loop], grace: float, earlier: set[asyncio.Task[Any]], owners: Owners
) -> None:
    """Each loop is asked to end, or cancelled; then every task started since `earlier` (the loops, and
    what started meanwhile) gets `grace` to end, all in the same time, and what still runs is named in one
    warning and cancelled, with `CANCELLED_SECONDS` for its clean-up: the time to stop is spent once, and
    `bot.stopping`'s bound counts on it. A failure nobody else took (a loop's, a task's nobody awaits)
    is logged, once."""
    for task, loop in tasks.items():
        if task.done():
            continue
        if loop.stop is not None:
            loop.stop()
        else:
            task.cancel()
    seen: set[asyncio.Task[Any]] = set()
    late = await _ended_within(grace, earlier, seen)
    if late:
        logger.warning(
            "still running when the time to stop was up, cancelled: %s",
            _named(late, owners),
        )
        for task in late:
            task.cancel()
        await _ended_within(CANCELLED_SECONDS, earlier, seen)
    for task in seen:
        if _failed_unseen(task):
            logger.error("%s failed while stopping", _name(task), exc_info=task.exception())


def _failed_unseen(task: asyncio.Task[Any]) -> bool:
    """Whether it failed and nobody took its failure: `alongside` raising a loop's, a parent awaiting its
    child's (to re-raise it, as the outbox worker does, or to log it, as a Teams turn's budget does).
    asyncio's own flag for "Task exception was never retrieved" is the only way to ask."""
    if not task.done() or task.cancelled():
        return False
    return bool(getattr(task, "_log_traceback", True)) and task.exception() is not None


def _named(late: set[asyncio.Task[Any]], owners: Owners) -> str:
    """Each loop once, for itself and what it started (the outbox worker's sends); any other task by what
    it runs, once, with how many there were."""
    loops = {owners[task] for task in late if task in owners}
    others = Counter(_name(task) for task in late if task not in owners)
    counted = [name if count == 1 else f"{name} ({count})" for name, count in others.items()]
    return ", ".join(sorted([*loops, *counted]))


async def _ended_within(
    seconds: float, earlier: set[asyncio.Task[Any]], seen: set[asyncio.Task[Any]]
) -> set[asyncio.Task[Any]]:
    """Waits up to `seconds` for every task started since `earlier` to end, those started while it waits
    too; the ones still running then. Each one it waited for is added to `seen`."""
    clock = asyncio.get_running_loop()
    deadline = clock.time() + seconds
    running = asyncio.all_tasks() - earlier
    while running:
        seen |= running
        # even with no time left, the wait lets what was just cancelled end: it is not late
        await asyncio.wait(
            running, timeout=max(deadline - clock.time(), 0.0), return_when=asyncio.FIRST_COMPLETED
        )
        running = asyncio.all_tasks() - earlier
        if clock.time() >= deadline:
            break
    seen |= running
    return running


def _name(task: asyncio.Task[Any]) -> str:
    """Its loop's name, or for a task of a library (a request, a listener) what it runs."""
    name = task.get_name()
    if not name.startswith("Task-"):
        return name
    return getattr(task.get_coro(), "__qualname__", name)
