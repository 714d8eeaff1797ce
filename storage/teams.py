"""What the Teams surface remembers: conversation references, activities acted on, shared cards and copies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class TeamsConversation(SQLModel, table=True):
    """A conversation the bot can write to, a personal chat or a channel: Teams' conversation reference."""

    __tablename__ = "teams_conversation"

    conversation_id: str = Field(primary_key=True)
    service_url: str
    tenant_id: str
    kind: str
    """`personal` or `channel`"""
    user_id: str | None = Field(default=None, index=True)
    """The directory object id of the user in a personal chat."""
    time_zone: str | None = None
    """That user's time zone as their Teams client last reported it (IANA name): reminders keep to it."""
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class TeamsSeenActivity(SQLModel, table=True):
    """An activity already acted on: claiming one is an INSERT, so only one process acts on a redelivery."""

    __tablename__ = "teams_seen_activity"

    activity_key: str = Field(primary_key=True)
    seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    answer: dict[str, Any] | None = Field(default=None, sa_type=JSON, nullable=True)
    """A click's invoke response once it was given: Teams' redelivery of the click gets it again."""


class TeamsSharedCard(SQLModel, table=True):
    """The full card behind a shared message (an approval prompt) and who may see it with its actions."""

    __tablename__ = "teams_shared_card"

    key: str = Field(primary_key=True)
    card: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    viewers: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    """Directory object ids who get the card with its actions (`refresh.userIds`); others a read-only copy."""
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class TeamsCardCopy(SQLModel, table=True):
    """Where a copy of a shared card was posted, so every copy can be updated after each decision."""

    __tablename__ = "teams_card_copy"

    key: str = Field(primary_key=True)
    conversation_id: str = Field(primary_key=True)
    activity_id: str
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class TeamsDispatch(SQLModel, table=True):
    """An outbox message handed to Teams: written right before the request, so that after a crash a
    message that never left is sent, and one that may have arrived is not sent twice unless an admin's
    *Retry failed* drops this record to send it again (`outbox._send_again`)."""

    __tablename__ = "teams_dispatch"

    key: str = Field(primary_key=True)
    """The outbox idempotency key."""
    conversation_id: str
    dispatched_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class TeamsFile(SQLModel, table=True):
    """A list sent in Teams as a file: served at its signed link (`GET /files/...`) until it expires."""

    __tablename__ = "teams_file"

    id: str = Field(primary_key=True)
    """Random, 128 bits: the link names it, and the link's signature covers it with what follows."""
    organization: str
    """The migration the list belongs to (empty when none could be named)."""
    requester: str
    """Who it was made for: the directory object id of the person, or `conversation:ID` for a channel."""
    filename: str
    content: str
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class TeamsRateLane(SQLModel, table=True):
    """One of the N lanes of a Teams limit of N requests a second, shared by every process."""

    __tablename__ = "teams_rate_lane"

    key: str = Field(primary_key=True)
    """The limit: `connector:TENANT` or `graph-installs:TENANT`."""
    lane: int = Field(primary_key=True)
    free_at: float = 0.0
    """When the lane may be taken again: a second after its last answer, or after a 429's wait."""
    busy_until: float = 0.0
    """While a request holds the lane: when it is taken for dead if never freed (0 when idle)."""
