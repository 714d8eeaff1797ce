"""What Slack said of people's addresses (`SlackPerson`) and when its member list was last read whole
(`SlackMemberList`), shared by every process on the database.

Two `serve`s may record the same address at once: an upsert (`INSERT ... ON CONFLICT DO UPDATE`, PostgreSQL
and SQLite alike) keeps whichever answer is newest, never an `IntegrityError`, and never an older answer
over a newer one that a rival committed first. Newest by the writers' wall clocks, which must agree
(`bot.slack.memory`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, col, select

from storage.database import Database, in_batches
from storage.models import SlackMemberList, SlackPerson

if TYPE_CHECKING:
    from sqlalchemy import Insert, Table

MEMBER_LIST = "members"


@dataclass(frozen=True)
class Said:
    """One address as Slack showed it: `user_id` None when a look-up found no member with it."""

    address: str
    user_id: str | None
    time_zone: str | None = None
    deactivated: bool = False


def address_key(email: str) -> str:
    """An address as the table keys it: Slack's emails match whatever their case."""
    return email.strip().casefold()


def record(database: Database, said: Sequence[Said], *, at: datetime) -> None:
    """Slack's answers of `at` for these addresses, over any older ones."""
    with database.session() as session:
        _record(session, said, at)
        session.commit()


def record_read(
    database: Database,
    *,
    began_at: datetime,
    deactivated: Sequence[Said] = (),
    forget_before: datetime | None = None,
) -> None:
    """A whole read of the member list that began at `began_at`, unless a newer one is recorded, with the
    deactivated members it showed, in one transaction: a deactivated holder of an address is only known
    not to have handed it on to an active member once the read is whole, so a read stopped halfway
    leaves none. They are stamped `began_at`, so that a look-up answered during the read stands. Answers
    seen before `forget_before` are deleted: the read shows those people as they are now, and people who
    left Slack's list would otherwise stay in the table for good."""
    with database.session() as session:
        if forget_before is not None:
            session.execute(delete(SlackPerson).where(col(SlackPerson.seen_at) < forget_before))
        _record(session, deactivated, began_at)
        table = SlackMemberList.__table__  # type: ignore[attr-defined]
        statement = _newest_wins(session.get_bind().dialect.name, table, "name", "read_at")
        session.execute(statement, [{"name": MEMBER_LIST, "read_at": began_at}])
        session.commit()


def _record(session: Session, said: Sequence[Said], at: datetime) -> None:
    if not said:
        return
    rows = [
        {
            "address": each.address,
            "user_id": each.user_id,
            "time_zone": each.time_zone,
            "deactivated": each.deactivated,
            "seen_at": at,
        }
        for each in said
    ]
    table = SlackPerson.__table__  # type: ignore[attr-defined]
    session.execute(_newest_wins(session.get_bind().dialect.name, table, "address", "seen_at"), rows)


def recall(
    database: Database, *, since: datetime, read_after: datetime | None = None
) -> tuple[datetime | None, list[SlackPerson]]:
    """When the newest whole read of the member list began, and every answer since `since`; (None, [])
    when no read is recorded, or none began after `read_after` (the caller has one as new: up to 20,000
    answers are not loaded for nothing)."""
    with database.session() as session:
        listed = session.get(SlackMemberList, MEMBER_LIST)
        if listed is None or (read_after is not None and listed.read_at <= read_after):
            return None, []
        rows = session.exec(select(SlackPerson).where(col(SlackPerson.seen_at) >= since)).all()
        return listed.read_at, list(rows)


def forget_missing(session: Session, addresses: Collection[str]) -> None:
    """Forgets that look-ups found no member with these addresses, in the caller's transaction: asked again
    at their next send."""
    folded = sorted({address_key(address) for address in addresses})
    for some in in_batches(folded):
        missing = col(SlackPerson.address).in_(some), col(SlackPerson.user_id).is_(None)
        session.execute(delete(SlackPerson).where(*missing))


def recall_one(database: Database, address: str) -> SlackPerson | None:
    """What Slack said last of one case-folded address (one row an address: the newest answer), if any."""
    with database.session() as session:
        return session.get(SlackPerson, address)


@cache  # built once per table: building a statement costs more than running it (storage/inserts.py)
def _newest_wins(dialect: str, table: Table, key: str, at: str) -> Insert:
    """Inserts a row, or updates the one with its `key` when the new one's `at` is not older."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        statement: postgresql.Insert | sqlite.Insert = postgresql.insert(table)
    else:
        statement = sqlite.insert(table)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[key],
        set_={column.name: excluded[column.name] for column in table.columns if column.name != key},
        where=table.c[at] <= excluded[at],
    )
