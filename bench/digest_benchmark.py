"""Digest benchmark: the admins' stragglers' digest of a 20,000-user organization, as `tick` queues it.

    .venv/bin/python bench/digest_benchmark.py [--users 20000] [--rounds 3] [--json]

The people come from `sandbox.generate` (the same synthetic organization the other benchmarks use),
recorded as `notify` leaves them: each with a to-do list of four items (some done), a delivered list
and a reminder schedule that is not due, so that the digest is the only thing a tick has to do (the
organization was connected ten days ago; its sign-ins were read and are not due). One in a
hundred waits on an admin's decision, one in a hundred was decided out of access (no list). Reported:
the SQL statements the tick sends and its wall time, on a SQLite file, per round (the digest is made
due again before each).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, select

# The code measured comes first on the path: this checkout's, or another's (`PYTHONPATH`, to measure a
# version before a change with this same script).
sys.path.append(str(Path(__file__).resolve().parents[1]))

from sandbox.generate import generate
from storage import (
    AffectedUser,
    Database,
    Migration,
    OutboundMessage,
    Reminder,
    SignInWatch,
    TodoItem,
    open_database,
)
from workflows.service import MigrationService
from workflows.tracking import Tracking

NOW = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)  # a Wednesday, inside working hours
ITEMS = ("sign-in-work-account", "clear-git-credentials", "re-add-ssh-keys", "rename-microsoft-account")
WAITING_ITEM = "choose-work-account"


def populate(database: Database, users: int) -> int:
    """A notified migration of `users` people; its id."""
    people = generate(users, users, seed=2026)["user_entitlements"]
    with database.session() as session:
        row = Migration(
            organization="contoso-synthetic",
            tenant_id="tenant",
            tenant_name="Contoso (synthetic)",
            state="billing_checked",  # past the billing reminder: the digest is all that runs
            started_by_id="U1",
            started_by_email="admin@contoso.com",
            started_by_name="Admin",
            channel_id="CMIGRATE",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        affected = [
            AffectedUser(
                migration_id=row.id,
                entitlement_id=person["id"],
                principal_name=person["user"]["principalName"],
                email=person["user"]["mailAddress"].lower(),
                display_name=person["user"]["displayName"],
                outcome="no-access" if index % 100 == 1 else "auto",
                created_at=NOW,
            )
            for index, person in enumerate(people)
        ]
        session.add_all(affected)
        session.flush()
        for index, user in enumerate(affected):
            assert user.id is not None
            if user.outcome == "no-access":
                continue
            keys = (WAITING_ITEM, *ITEMS[1:]) if index % 100 == 2 else ITEMS
            session.add_all(
                TodoItem(
                    affected_user_id=user.id,
                    position=position,
                    key=key,
                    title=key.replace("-", " "),
                    body="",
                    link="",
                    done_at=NOW if (index + position) % 3 == 0 else None,
                )
                for position, key in enumerate(keys)
            )
            session.add(
                OutboundMessage(
                    idempotency_key=f"list-{user.id}",
                    migration_id=row.id,
                    recipient=user.email,
                    kind="todo_list",
                    payload={"affected_user_id": user.id},
                    status="sent",
                    not_before=NOW,
                    sent_at=NOW,
                    created_at=NOW,
                )
            )
            session.add(
                Reminder(
                    key=f"todo:{user.id}",
                    kind="todo",
                    migration_id=row.id,
                    affected_user_id=user.id,
                    next_at=NOW + timedelta(days=30),
                    created_at=NOW,
                )
            )
        # connected ten days ago, sign-ins read and not due again: the digest names who has not signed in
        session.add(
            SignInWatch(
                migration_id=row.id, connected_at=NOW - timedelta(days=10), next_at=NOW + timedelta(days=1)
            )
        )
        session.add(
            Reminder(key=f"digest:{row.id}", kind="digest", migration_id=row.id, next_at=NOW, created_at=NOW)
        )
        session.commit()
        return row.id


class _NoMicrosoft:
    """The digest asks Microsoft nothing; any call would be a change in what is measured."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the digest called Microsoft: {name}")


def measure(database: Database, migration_id: int, rounds: int) -> list[dict[str, float]]:
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(database.engine, "before_cursor_execute", count)
    service = MigrationService(database, _NoMicrosoft(), clock=lambda: NOW)  # type: ignore[arg-type]
    tracking = Tracking(database, service, clock=lambda: NOW)
    results = []
    for _ in range(rounds):
        with database.session() as session:
            digest = session.get(Reminder, _digest_id(session, migration_id))
            assert digest is not None
            digest.next_at = NOW
            session.commit()
        statements = 0
        started = time.perf_counter()
        queued = tracking.tick()
        wall = time.perf_counter() - started
        assert queued == 1, f"the tick queued {queued} messages, not the one digest"
        results.append({"statements": statements, "wall_s": round(wall, 3)})
    event.remove(database.engine, "before_cursor_execute", count)
    return results


def _digest_id(session: Session, migration_id: int) -> int:
    found = session.exec(select(Reminder.id).where(Reminder.key == f"digest:{migration_id}")).one()
    return int(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database = open_database(f"sqlite:///{os.path.join(directory, 'digest.db')}")
        started = time.perf_counter()
        migration_id = populate(database, args.users)
        populated = time.perf_counter() - started
        results = measure(database, migration_id, args.rounds)
        database.dispose()
    report = {
        "users": args.users,
        "python": platform.python_version(),
        "populate_s": round(populated, 1),
        "rounds": results,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{args.users} users (populated in {populated:.1f} s), Python {platform.python_version()}")
        for number, result in enumerate(results, start=1):
            print(f"round {number}: {result['statements']} SQL statements, {result['wall_s']:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
