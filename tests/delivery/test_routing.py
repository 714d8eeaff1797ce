"""Slack beside Teams: a direct message tried on its migration's surface, and on the other one only when
the person is not there; a surface's outage said once in the operator's log, and its end once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from bot.conversation.messages import Channel, DirectMessage, Message
from bot.delivery.outages import RECOVERED_AFTER, RECOVERED_AFTER_QUIET_SECONDS
from bot.delivery.sender import DeliveryFailed, Envelope, Receipt
from bot.routing import RoutingSender
from storage import Database, Migration
from storage.outbox import NOT_IN_CHAT, NewMessage, enqueue_all
from tests.storage.rows import add_migration
from workflows import notices

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Surface:
    """A surface's sender: who has an account there, and the failure it answers everyone with instead."""

    name: str
    members: set[str] = field(default_factory=set)
    failing: DeliveryFailed | None = None
    tried: list[str] = field(default_factory=list)

    async def send(self, envelope: Envelope) -> Receipt:
        to = envelope.to
        address = to.email if isinstance(to, DirectMessage) else str(to.channel)
        self.tried.append(address)
        if self.failing is not None:
            raise self.failing
        if isinstance(to, DirectMessage) and address not in self.members:
            raise DeliveryFailed(NOT_IN_CHAT, f"{self.name} has nobody called {address}", permanent=True)
        return Receipt(f"{self.name}/{address}")


def _migration_on(database: Database, surface: str) -> int:
    migration_id = add_migration(database)
    with database.session() as session:
        row = session.get(Migration, migration_id)
        assert row is not None
        row.surface = surface
        session.commit()
    return migration_id


def _to(email: str, migration_id: int) -> Envelope:
    return Envelope(f"key-{email}", DirectMessage(email), Message("your list"), migration_id=migration_id)


@pytest.fixture
def surfaces() -> tuple[Surface, Surface]:
    return Surface("slack", {"ann@fabrikam.com"}), Surface(
        "teams", {"ann@fabrikam.com", "carol@fabrikam.com"}
    )


def test_a_person_missing_on_the_migrations_surface_is_reached_on_the_other(
    sqlite_database: Database, surfaces: tuple[Surface, Surface]
) -> None:
    slack, teams = surfaces
    routing = RoutingSender(sqlite_database, {"slack": slack, "teams": teams})
    migration_id = _migration_on(sqlite_database, "slack")

    receipt = asyncio.run(routing.send(_to("carol@fabrikam.com", migration_id)))

    assert receipt.ref == "teams:teams/carol@fabrikam.com"  # recorded as reached on the other surface
    assert (slack.tried, teams.tried) == (["carol@fabrikam.com"], ["carol@fabrikam.com"])


@pytest.mark.parametrize(("started_on", "other"), [("slack", "teams"), ("teams", "slack")])
def test_a_person_found_on_the_migrations_surface_is_never_tried_on_the_other(
    sqlite_database: Database, surfaces: tuple[Surface, Surface], started_on: str, other: str
) -> None:
    """Ann is on both: the migration's surface has her, and she gets her list there alone."""
    senders = {surface.name: surface for surface in surfaces}
    routing = RoutingSender(sqlite_database, dict(senders))

    receipt = asyncio.run(routing.send(_to("ann@fabrikam.com", _migration_on(sqlite_database, started_on))))

    assert receipt.ref == f"{started_on}/ann@fabrikam.com"
    assert senders[other].tried == []


@pytest.mark.parametrize(
    "transient",
    [
        DeliveryFailed("http_503", "Slack answered 503 service_unavailable", maybe_delivered=True),
        DeliveryFailed("connection_error", "Slack did not answer (timeout)"),
        DeliveryFailed("ratelimited", "Slack is rate limiting", retry_after=3.0),
    ],
)
def test_a_transient_failure_is_retried_where_it_happened_not_sent_on_the_other_surface(
    sqlite_database: Database, surfaces: tuple[Surface, Surface], transient: DeliveryFailed
) -> None:
    """The person may be there, and the message may even have arrived (a 5xx after storing it): sent on
    the other surface too, they would have it twice."""
    slack, teams = surfaces
    slack.failing = transient
    routing = RoutingSender(sqlite_database, {"slack": slack, "teams": teams})

    with pytest.raises(DeliveryFailed) as raised:
        asyncio.run(routing.send(_to("carol@fabrikam.com", _migration_on(sqlite_database, "slack"))))

    assert raised.value is transient
    assert teams.tried == []


def test_someone_on_neither_surface_is_told_with_both_reasons(
    sqlite_database: Database, surfaces: tuple[Surface, Surface]
) -> None:
    slack, teams = surfaces
    routing = RoutingSender(sqlite_database, {"slack": slack, "teams": teams})

    with pytest.raises(DeliveryFailed) as raised:
        asyncio.run(routing.send(_to("frank@fabrikam.com", _migration_on(sqlite_database, "slack"))))

    failure = raised.value
    assert (failure.code, failure.permanent) == (NOT_IN_CHAT, True)
    assert failure.reason == (
        "Slack: slack has nobody called frank@fabrikam.com; Teams: teams has nobody called frank@fabrikam.com"
    )


def test_a_channel_message_goes_to_its_channels_surface_alone(
    sqlite_database: Database, surfaces: tuple[Surface, Surface]
) -> None:
    slack, teams = surfaces
    slack.failing = DeliveryFailed(NOT_IN_CHAT, "not a reason for a channel", permanent=True)
    routing = RoutingSender(sqlite_database, {"slack": slack, "teams": teams})
    channel = Envelope("key", Channel("C123"), Message("report"), migration_id=None)

    with pytest.raises(DeliveryFailed):
        asyncio.run(routing.send(channel))

    assert (slack.tried, teams.tried) == (["C123"], [])


def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(
    sqlite_database: Database, surfaces: tuple[Surface, Surface], caplog: pytest.LogCaptureFixture
) -> None:
    """The worker logs each retry at INFO, which `serve`'s log hides: 20 DMs failing for a minute left no
    line at all."""
    slack, teams = surfaces
    routing = RoutingSender(sqlite_database, {"slack": slack, "teams": teams})
    migration_id = _migration_on(sqlite_database, "slack")
    slack.failing = DeliveryFailed("http_503", "Slack answered 503 service_unavailable", maybe_delivered=True)

    with caplog.at_level(logging.INFO, logger="bot.delivery.outages"):
        for _ in range(20):
            with pytest.raises(DeliveryFailed):
                asyncio.run(routing.send(_to("ann@fabrikam.com", migration_id)))
        slack.failing = None
        for _ in range(RECOVERED_AFTER):
            asyncio.run(routing.send(_to("ann@fabrikam.com", migration_id)))

    assert [(record.levelname, record.getMessage()) for record in caplog.records] == [
        (
            "WARNING",
            "deliveries to Slack are failing (http_503: Slack answered 503 service_unavailable):"
            " each is retried; this log says when they work again",
        ),
        ("INFO", "deliveries to Slack work again, after 20 failed attempt(s)"),
    ]


class _Flapping:
    """A surface answering as `answers` say, in turn: a `DeliveryFailed` raised, a `Receipt` given."""

    def __init__(self, answers: list[DeliveryFailed | Receipt]) -> None:
        self._answers = iter(answers)

    async def send(self, envelope: Envelope) -> Receipt:
        answer = next(self._answers)
        if isinstance(answer, DeliveryFailed):
            raise answer
        return answer


def _log_of(
    sqlite_database: Database, caplog: pytest.LogCaptureFixture, answers: list[DeliveryFailed | Receipt]
) -> list[tuple[str, str]]:
    """What the outage log says of a Teams-alone install answering each send as `answers` say, in turn."""
    routing = RoutingSender(sqlite_database, {"teams": _Flapping(answers)})
    migration_id = _migration_on(sqlite_database, "teams")
    with caplog.at_level(logging.INFO, logger="bot.delivery.outages"):
        for _ in answers:
            with contextlib.suppress(DeliveryFailed):
                asyncio.run(routing.send(_to("carol@fabrikam.com", migration_id)))
    return [(record.levelname, record.getMessage()) for record in caplog.records]


UNAVAILABLE = DeliveryFailed("http_503", "Teams answered 503 ServiceUnavailable")
SENT, TIMED_OUT = Receipt("a:1/2"), Receipt("a:1/possibly-delivered", unconfirmed=True)
FAILING = "deliveries to Teams are failing ({}): each is retried; this log says when they work again"


def test_a_flapping_surface_is_one_outage_until_it_confirms_several_deliveries_in_a_row(
    sqlite_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """One success was enough: 503 and success in turn logged a WARNING and an INFO for each flip."""
    flapping = [UNAVAILABLE, SENT] * 5 + [SENT] * (RECOVERED_AFTER - 1)

    assert _log_of(sqlite_database, caplog, flapping) == [
        ("WARNING", FAILING.format("http_503: Teams answered 503 ServiceUnavailable")),
        ("INFO", "deliveries to Teams work again, after 5 failed attempt(s)"),
    ]


def test_timeouts_are_an_outage_and_never_its_end(
    sqlite_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A Teams send that timed out is recorded as possibly delivered: it was taken for a success, so an
    outage of timeouts had no WARNING, and one ended by it was said to work again."""
    answers = [TIMED_OUT, TIMED_OUT, *[SENT] * (RECOVERED_AFTER - 1), TIMED_OUT, *[SENT] * RECOVERED_AFTER]

    assert _log_of(sqlite_database, caplog, answers) == [
        ("WARNING", FAILING.format("no answer: a message sent may not have arrived")),
        ("INFO", "deliveries to Teams work again, after 3 failed attempt(s)"),
    ]


def test_a_send_that_was_answered_but_could_not_look_for_an_earlier_attempt_is_no_outage_nor_its_end(
    sqlite_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack answered, but its history, where an earlier attempt's post would show, is unreadable: the
    message is in doubt, which says nothing of Slack failing now, nor of its working again: neither starts
    an outage nor counts towards its end. Taken for a timeout, it was logged as an outage of "no answer",
    which Slack had given."""
    looked_for = Receipt("D1/unconfirmed", unconfirmed=True, looked_for=True)
    answers = [looked_for, UNAVAILABLE, *[looked_for] * RECOVERED_AFTER, *[SENT] * (RECOVERED_AFTER - 1)]

    assert _log_of(sqlite_database, caplog, answers) == [
        ("WARNING", FAILING.format("http_503: Teams answered 503 ServiceUnavailable"))
    ]


def test_a_quiet_surface_s_outage_ends_at_its_next_delivery_and_the_next_outage_is_warned_again(
    sqlite_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A surface sending a reminder an hour never confirmed five in a row: its outage never ended in the
    log, and the next one, days later, had no WARNING."""
    now = [0.0]
    answers: list[DeliveryFailed | Receipt] = [UNAVAILABLE, SENT, SENT, UNAVAILABLE, SENT]
    moments = [0.0, RECOVERED_AFTER_QUIET_SECONDS - 1, RECOVERED_AFTER_QUIET_SECONDS, 86_400.0, 86_401.0]
    routing = RoutingSender(sqlite_database, {"teams": _Flapping(answers)}, clock=lambda: now[0])
    migration_id = _migration_on(sqlite_database, "teams")
    with caplog.at_level(logging.INFO, logger="bot.delivery.outages"):
        for moment in moments:
            now[0] = moment
            with contextlib.suppress(DeliveryFailed):
                asyncio.run(routing.send(_to("carol@fabrikam.com", migration_id)))

    unavailable = FAILING.format("http_503: Teams answered 503 ServiceUnavailable")
    assert [(record.levelname, record.getMessage()) for record in caplog.records] == [
        ("WARNING", unavailable),
        ("INFO", "deliveries to Teams work again, after 1 failed attempt(s)"),
        ("WARNING", unavailable),
    ]


def test_people_it_cannot_reach_and_rate_limits_are_no_outage(
    sqlite_database: Database, surfaces: tuple[Surface, Surface], caplog: pytest.LogCaptureFixture
) -> None:
    slack, teams = surfaces
    routing = RoutingSender(sqlite_database, {"slack": slack, "teams": teams})
    migration_id = _migration_on(sqlite_database, "slack")

    with caplog.at_level(logging.INFO, logger="bot.delivery.outages"):
        with pytest.raises(DeliveryFailed):
            asyncio.run(routing.send(_to("frank@fabrikam.com", migration_id)))
        slack.failing = DeliveryFailed("ratelimited", "Slack is rate limiting", retry_after=1.0)
        with pytest.raises(DeliveryFailed):
            asyncio.run(routing.send(_to("ann@fabrikam.com", migration_id)))
        slack.failing = None
        asyncio.run(routing.send(_to("ann@fabrikam.com", migration_id)))

    assert caplog.records == []


def _recorded(database: Database, envelope: Envelope, receipt: Receipt) -> None:
    """What the outbox worker records of a sent approval prompt."""
    assert isinstance(envelope.to, DirectMessage)
    told = NewMessage(envelope.key, envelope.to.email, notices.APPROVAL_PROMPT, {"updates": envelope.updates})
    with database.session() as session:
        (row,) = enqueue_all(session, [replace(told, migration_id=envelope.migration_id)], now=NOW)
        row.status, row.delivered_ref = "sent", receipt.ref
        session.commit()


def test_a_decision_in_the_channel_updates_the_prompts_copies_on_the_other_surface(
    sqlite_database: Database, surfaces: tuple[Surface, Surface]
) -> None:
    """Carol's prompt went to Teams, the migration's channel is Slack's: the decision posted there updated
    Slack's copies only, and her Teams card kept its Approve button."""
    slack, teams = surfaces
    routing = RoutingSender(sqlite_database, {"slack": slack, "teams": teams})
    migration_id = _migration_on(sqlite_database, "slack")
    for person in ("ann@fabrikam.com", "carol@fabrikam.com"):
        prompt = replace(_to(person, migration_id), key=f"prompt-{person}", updates="approval:1")
        _recorded(sqlite_database, prompt, asyncio.run(routing.send(prompt)))
    slack.tried.clear()
    teams.tried.clear()

    decision = Envelope(
        "decided", Channel("C1"), Message("approved"), updates="approval:1", migration_id=migration_id
    )
    asyncio.run(routing.send(decision))

    assert (slack.tried, teams.tried) == (["C1"], ["carol@fabrikam.com"])  # Teams updates each copy it holds

    other = Envelope(
        "other", Channel("C1"), Message("approved"), updates="approval:2", migration_id=migration_id
    )
    asyncio.run(routing.send(other))
    assert teams.tried == ["carol@fabrikam.com"]  # no copy of that one in Teams: nothing to update there
