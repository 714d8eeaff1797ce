"""The steps many chat tests take before the one they test (start, invite, approve, connect, notify),
replayed for real once per test process and restored after.

`replayed(chat, key, steps)` runs `steps()` and saves the world they leave: the SQLite file, the sandbox
(`Sandbox.save`), what the runtime remembers between commands (who was confirmed an admin), the console's
transcript, where a rehearsal clock stands (`:later` moves it on), and what `steps()` returned. A later test
that asks for the same steps from the same world gets that world restored instead (a file copy and a sandbox
copy, about 2 % of the steps' CPU). "The same world" is checked, not assumed: nothing said yet, the sandbox
serving the same data with the same faults and counts, the same settings and, on a fake clock, the same time;
anything else replays for real.

What a restored world cannot give back: the runtime's Microsoft clients sign in again (tokens live in the
client), so the sandbox's sign-in counts and issued tokens are not those of a replay; the Graph, Azure
DevOps and ARM calls and everything they change are. tests/bot/test_replays.py compares both ways.

A `Scene` is what the steps run in: a console `Chat` (tests/bot/conftest.py), on SQLite; a rehearsal's
`ConsoleChat` (tests/bot/test_rehearsal_clock.py), on SQLite, whose proof is that file's first test; or a
Slack life of the bot with its fake Slack (tests/delivery/test_notices_survive_a_kill.py), on SQLite and
PostgreSQL, whose proof is that file's first test.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Hashable
from contextlib import closing
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from bot.console.rehearsal import RehearsalClock
from bot.runtime import Runtime, utc_now
from sandbox import SandboxSnapshot
from sandbox._copies import copied
from tests.fakes.remembered import admins_remembered, remember_admins
from tests.storage.databases import RunSchema, SavedSchema, restore_rows, save_rows

T = TypeVar("T")


class Scene(Protocol):
    """Where the steps run: a runtime over the sandbox, and the surface it talks through."""

    runtime: Runtime
    restores: bool
    """False: the steps always run for real."""
    schema: RunSchema | None
    """The run's PostgreSQL schema the runtime's database is; None on SQLite."""

    def untouched(self) -> bool:
        """Nothing said yet: the steps would start where they started when saved."""
        ...

    def surface_saved(self) -> Any:
        """What the surface holds after the steps (a transcript, messages posted)."""
        ...

    def restore_surface(self, saved: Any) -> None: ...


@dataclass(frozen=True)
class _Saved:
    rows: Path | SavedSchema
    sandbox: SandboxSnapshot
    admins: tuple[Any, ...]
    surface: Any
    result: Any
    clock: datetime | None
    """Where the steps left a rehearsal clock; None for another clock, which the steps left where it was."""


SIGN_IN_HOST = "login.microsoftonline.com"
_RANDOM = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|rd=[\w-]+")
_SAVED: dict[tuple[Hashable, ...], _Saved] = {}
RESTORED: Counter[Hashable] = Counter()
"""How often this process restored each kind of steps (`started`, `approved`, `notified`) instead of
replaying them: what tests/bot/test_replays.py reads."""


def replayed(chat: Scene, key: tuple[Hashable, ...], steps: Callable[[], T]) -> T:
    """`steps()`, which take `chat` through the steps `key` names; or, when this test process ran them
    already from the same world, the world they left restored and what they returned then."""
    world = _world(chat)
    if world is None:
        return steps()
    saved = _SAVED.get((*key, world))
    if saved is not None and chat.restores:
        _restore(chat, saved)
        RESTORED[key[0]] += 1
        return cast(T, copied(saved.result))
    result = steps()
    # a fake clock moved would have to move back; a rehearsal clock moves on again to where it was left
    moved_on = isinstance(_clock(chat), RehearsalClock)
    if saved is None and (moved_on or _clock_reading(chat) == world[-1]):
        _SAVED[(*key, world)] = _save(chat, result)
    return result


def _world(chat: Scene) -> tuple[Hashable, ...] | None:
    """What the steps start from, as a key; None where a snapshot cannot stand in for them."""
    runtime, sandbox = chat.runtime, chat.runtime.sandbox
    backend = runtime.database.engine.url.get_backend_name()
    if sandbox is None or (backend != "sqlite" and chat.schema is None):
        return None
    if not chat.untouched():
        return None
    faults = sandbox.faults()
    settings = replace(runtime.settings, database_url="", sandbox_url=None, microsoft_environment={})
    return (
        backend,
        json.dumps(sandbox.state(), sort_keys=True),
        json.dumps(sandbox.request_counts(), sort_keys=True),
        repr([getattr(faults, setting.name) for setting in fields(faults) if setting.name != "rng"]),
        repr(faults.rng.getstate()),  # how far the faults' draws went
        repr(settings),
        _clock_reading(chat),
    )


def _clock(chat: Scene) -> Callable[[], datetime]:
    return chat.runtime.service._ctx.clock


def _clock_reading(chat: Scene) -> str:
    clock = _clock(chat)
    return "the real clock" if clock is utc_now else clock().isoformat()


def _save(chat: Scene, result: Any) -> _Saved:
    runtime = chat.runtime
    assert runtime.sandbox is not None
    return _Saved(
        save_rows(runtime.database, chat.schema),
        runtime.sandbox.save(),
        admins_remembered(chat.runtime.service),
        chat.surface_saved(),
        copied(result),
        clock() if isinstance(clock := _clock(chat), RehearsalClock) else None,
    )


def _restore(chat: Scene, saved: _Saved) -> None:
    runtime = chat.runtime
    assert runtime.sandbox is not None
    restore_rows(runtime.database, chat.schema, saved.rows)
    runtime.sandbox.restore(saved.sandbox)
    remember_admins(chat.runtime.service, saved.admins)
    chat.restore_surface(saved.surface)
    clock = _clock(chat)
    if saved.clock is not None and isinstance(clock, RehearsalClock):
        clock.stand_at(saved.clock)  # from the reading the steps started from (the world's), as they moved it
        clock.walk_on()


def observed(runtime: Runtime, transcript: str, delivered: list[tuple[str, Any]], **more: Any) -> str:
    """Everything a test on the console could look at, for the proofs that a restore leaves what a replay
    leaves: the database's rows, the sandbox's state and requests (not its sign-ins, which a restore's new
    Microsoft clients make again), the transcript, what was delivered where, and `more`. The sandbox's
    random invitation ids and links are named by their order of appearance: they differ between any two
    real replays too."""
    box = runtime.sandbox
    assert box is not None
    with closing(sqlite3.connect(str(runtime.database.engine.url.database))) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        select = 'SELECT * FROM "{}" ORDER BY rowid'
        rows = {table: connection.execute(select.format(table)).fetchall() for (table,) in tables}
    seen = {
        "rows": rows,
        "sandbox": box.state(),
        "requests": {host: n for host, n in box.request_counts().items() if host != SIGN_IN_HOST},
        "transcript": transcript,
        "delivered": [(where, repr(message.to)) for where, message in delivered],
        **more,
    }
    text = json.dumps(seen, sort_keys=True, default=str)
    names: dict[str, str] = {}
    return _RANDOM.sub(lambda found: names.setdefault(found[0], f"<random {len(names)}>"), text)
