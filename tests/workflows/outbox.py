"""What the workflows queued for chat, read back as the tests of tests/workflows check it."""

from __future__ import annotations

from sqlmodel import col, select

from storage import Database, OutboundMessage


def queued(database: Database, kind: str) -> list[OutboundMessage]:
    """Every message of `kind` the outbox holds, whatever became of it, oldest first."""
    with database.session() as session:
        query = select(OutboundMessage).where(OutboundMessage.kind == kind)
        return list(session.exec(query.order_by(col(OutboundMessage.id))).all())
