"""What the workflows queued for chat, read back as the tests of tests/workflows check it."""

from __future__ import annotations

from sqlmodel import col, select

from storage import Database, OutboundMessage


def queued(database: Database, kind: str) -> list[OutboundMessage]:
    """Every message of `kind` the outbox holds, whatever became of it, oldest first."""
    with database.session() as session:
        query = select(OutboundMessage).where(OutboundMessage.kind == kind)
        return list(session.exec(query.order_by(col(OutboundMessage.id))).all())


def tells_how_to_keep_benefits_as(account: str, items: list[dict[str, str]]) -> None:
    """`items` (of a message's payload) hold the one Visual Studio item, and it names `account`: the
    subscriber's sign-in moves, so her subscription's benefits must be added to it."""
    keeping = [item for item in items if item["key"] == "visual-studio-subscription"]
    assert [item["title"] for item in keeping] == ["Keep your Visual Studio subscription benefits"]
    assert f"Add alternate account and add {account}," in keeping[0]["body"]


def delivered(database: Database, kind: str) -> None:
    """Every message of `kind` still waiting went out: what a worker would have made of them."""
    with database.session() as session:
        waiting = OutboundMessage.kind == kind, OutboundMessage.status == "pending"
        for message in session.exec(select(OutboundMessage).where(*waiting)).all():
            message.status = "sent"
        session.commit()
