"""Whom the bot invited as guests: until they accept, every message to them is about the invitation."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage import Invitation
from workflows.plan import PlannedUser


def sent_invitations(
    session: Session, migration_id: int, of: Collection[str] | None = None
) -> dict[str, str]:
    """Entitlement id -> the address Microsoft sent the invitation to; only for the entitlements `of`
    when given (one person's question need not read everyone's)."""
    if of is None:
        return dict(session.exec(_SENT, params={"migration": migration_id}).all())
    return dict(session.exec(_SENT_OF, params={"migration": migration_id, "of": list(of)}).all())


_SENT = select(Invitation.entitlement_id, Invitation.email).where(
    Invitation.migration_id == bindparam("migration"), Invitation.status == "sent"
)
_SENT_OF = _SENT.where(col(Invitation.entitlement_id).in_(bindparam("of", expanding=True)))
"""Built once: every message to a person and every wave asks who was invited, and building the query and its
cache key anew cost about as much as running it."""


def to_accept(
    session: Session, migration_id: int, users: Iterable[PlannedUser], of: Collection[str] | None = None
) -> dict[str, str]:
    """`sent_invitations` (`of` as there), and every guest among `users` whose invitation is still pending,
    whichever migration (or admin) invited them: until they accept, they are invited as much as anyone this
    migration invited, and their messages say to accept it."""
    pending = {user.id: user.address for user in users if user.group == "to-accept"}
    return {**pending, **sent_invitations(session, migration_id, of)}


def as_invited(user: PlannedUser, invited: dict[str, str]) -> PlannedUser:
    """A fresh plan matches an invited person to their new guest account, yet they must still accept it."""
    return replace(user, outcome="invite") if user.id in invited else user


def joined_after_connecting(stored: PlannedUser, invited: Collection[str], outcome_now: str | None) -> bool:
    """Whether this person's way in came after the connection: Connect found no directory account for them
    (the plan it connected with has them `invite`), and they have an invitation now, or an account
    (`outcome_now` is no longer `invite`). Connect did not carry their identity over."""
    return stored.outcome == "invite" and (stored.id in invited or outcome_now not in (None, "invite"))
