"""How soon an admin's message is claimed behind a wave, and what a claim costs, at 20,000 pending lists.

Run from the repository root: `nice .venv/bin/python -m bench.outbox_claim_benchmark [--lists N]`.

On each database (a SQLite file, and a fresh schema of the PostgreSQL server at 127.0.0.1:5432, trust
auth, database `test`), brought to the head revision by `open_database`: N advance notices already sent
(what the walk's `announce` left behind), then N to-do lists and, queued after them, one approval prompt,
all due. The worker's claim (`claim_due`, the production batch of 50) runs until the queue is empty,
each batch marked sent in one statement outside the timing. Printed per database: the batch that held
the prompt, the claims' wall and CPU (this process: SQLite's work, PostgreSQL's client side),
and the plan of the claim's candidate query at the first claim (`EXPLAIN (ANALYZE, BUFFERS)`, `EXPLAIN
QUERY PLAN`).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text, update
from sqlmodel import col

from bench import machine
from bot.delivery.settings import DeliverySettings
from storage import Database, OutboundMessage, open_database
from storage.outbox import NewMessage, enqueue_all
from storage.outbox_claims import claim_due

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SLACK = DeliverySettings()
"""What `serve` claims at a time on Slack, and for how long (bot/settings.py builds these defaults)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lists", type=int, default=20_000)
    arguments = parser.parse_args()
    print(f"Machine: {machine.summary()}, {machine.processor()}")
    with tempfile.TemporaryDirectory() as folder:
        _run("SQLite", f"sqlite:///{Path(folder) / 'outbox.db'}", arguments.lists)
    with _postgres_schema() as url:
        _run("PostgreSQL", url, arguments.lists)


def _run(name: str, url: str, lists: int) -> None:
    database = open_database(url)
    try:
        _fill(database, lists)
        plan = _plan(database)
        walls: list[float] = []
        cpus: list[float] = []
        prompt_in = 0
        while True:
            wall, cpu = time.perf_counter(), time.process_time()
            claimed = claim_due(database, worker="bench", now=NOW, lease=SLACK.lease, limit=SLACK.batch)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            if not claimed:
                break
            if any(message.kind == "approval_prompt" for message in claimed):
                prompt_in = len(walls)
            _mark_sent(database, [message.id for message in claimed if message.id is not None])
        print(
            f"{name}: {lists} lists pending, the prompt queued after them claimed in batch {prompt_in}"
            f" (after {SLACK.batch * (prompt_in - 1)} lists); {len(walls)} claims to empty the queue,"
            " a claim:"
            f" median {statistics.median(walls) * 1000:.1f} ms wall, {statistics.median(cpus) * 1000:.1f} ms"
            f" CPU; all: {sum(walls):.2f} s wall, {sum(cpus):.2f} s CPU"
        )
        print("  plan of the first claim's candidates:\n    " + "\n    ".join(plan))
    finally:
        database.dispose()


def _fill(database: Database, lists: int) -> None:
    sent = [NewMessage(f"notice-{n}", f"p{n}@x.com", "advance_notice", {"n": n}, None) for n in range(lists)]
    waiting = [NewMessage(f"list-{n}", f"p{n}@x.com", "todo_list", {"n": n}, None) for n in range(lists)]
    prompt = NewMessage("prompt", "lee@x.com", "approval_prompt", {"updates": "approval:1"}, None)
    with database.session() as session:
        enqueue_all(session, sent, now=NOW - timedelta(hours=1))
        session.commit()
    with database.engine.begin() as connection:
        connection.execute(update(OutboundMessage).values(status="sent", sent_at=NOW))
    with database.session() as session:
        enqueue_all(session, waiting, now=NOW)
        session.commit()
        enqueue_all(session, [prompt], now=NOW)
        session.commit()
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))


def _mark_sent(database: Database, ids: list[int]) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            update(OutboundMessage)
            .where(col(OutboundMessage.id).in_(ids))
            .values(status="sent", sent_at=NOW, claimed_by=None, claimed_until=None)
        )


def _plan(database: Database) -> list[str]:
    """The plan of the candidates query `claim_due` runs first: every SELECT of one claim is explained, the
    first one (the candidates) is kept, and the claim is undone."""
    engine: Engine = database.engine
    # PostgreSQL's pages read (BUFFERS) say what the query costs whatever else loads the host
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    plans: list[list[str]] = []

    def explained(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> Any:
        if statement.lstrip().upper().startswith("SELECT") and not plans:
            cursor.execute(explain + statement, params)
            plans.append([" | ".join(str(cell) for cell in row) for row in cursor.fetchall()])
        return statement, params

    event.listen(engine, "before_cursor_execute", explained, retval=True)
    try:
        claimed = claim_due(database, worker="plan", now=NOW, lease=SLACK.lease, limit=SLACK.batch)
    finally:
        event.remove(engine, "before_cursor_execute", explained)
    with database.engine.begin() as connection:
        connection.execute(
            update(OutboundMessage)
            .where(col(OutboundMessage.id).in_([message.id for message in claimed]))
            .values(claimed_by=None, claimed_until=None, attempts=0)
        )
    return plans[0] if plans else ["(no SELECT ran)"]


@contextlib.contextmanager
def _postgres_schema() -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
