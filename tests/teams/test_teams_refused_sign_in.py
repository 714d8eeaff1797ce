"""Entra refusing the Teams bot's secret while `serve` runs (it expired, or was removed): the outbox waits
for it to work again, never spending its messages into "failed for good"."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from bot.runtime import utc_now
from bot.settings import SettingsError
from bot.teams.connector import SIGN_IN_AGAIN_SECONDS, TIMEOUT_SECONDS, TeamsApi
from bot.teams.settings import TeamsSettings
from bot.teams.surface import build_surface
from msapi import CookielessAsyncClient
from storage import Database
from storage.models import Migration
from storage.outbox import NOT_IN_CHAT, messages_of
from tests.fakes.server import ServerThread
from tests.storage.rows import add_migration
from tests.teams.conftest import APP_ID, ORGANIZATION, Teams, connect
from tests.teams.test_teams_serve import REFUSED_SECRET, TENANT, _entra

DANA = "dana@fabrikam.com"


def test_a_secret_refused_while_serving_keeps_every_message_waiting_until_it_works_again(
    teams: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    migration_id = _queued(teams)
    refused = _Refused(teams)
    with caplog.at_level(logging.INFO):
        for _ in range(6):  # an hour apart: any counted backoff would have spent every attempt by now
            refused.drain()
            refused.wait(3600)
    waiting = messages_of(teams.runtime.database, migration_id)
    assert waiting
    assert {(m.status, m.attempts, m.error_code) for m in waiting} == {
        ("pending", 0, "teams_sign_in_refused")
    }
    connector = ("bot.teams.connector", "ERROR")
    told = [r.getMessage() for r in caplog.records if (r.name, r.levelname) == connector]
    assert len(told) == 1, told  # once, not once per message nor per drain
    assert "AADSTS7000222" in told[0]

    teams.http.post(f"{teams.url}/_sandbox/faults", json={}).raise_for_status()  # a new secret works
    refused.drain()
    sent = messages_of(teams.runtime.database, migration_id)
    # all out, but to those Teams itself refuses (Ivan blocked the bot...), as without the refusal
    assert {m.error_code for m in sent if m.status != "sent"} == {NOT_IN_CHAT}
    assert all(m.status in ("sent", "failed") for m in sent)
    assert teams.personal("carol@fabrikam.com")


def test_a_refused_secret_is_asked_once_a_drain_not_once_per_queued_message_and_said_hourly(
    teams: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    """Entra throttles, and every refusal is a line of the tenant's sign-in logs: a queue of thousands
    asking each in turn would be both; the operator is reminded while it lasts, with what waits."""
    migration_id = _queued(teams)
    queued = len(messages_of(teams.runtime.database, migration_id))
    assert queued > 3
    refused = _Refused(teams)
    began = refused.now[0]
    refused.drain()
    assert len(refused.asked) == 1
    with caplog.at_level(logging.ERROR):
        for _ in range(13):  # every time the messages come due again, for an hour
            refused.wait(SIGN_IN_AGAIN_SECONDS + 1)
            refused.drain()
    assert len(refused.asked) == 14  # one a drain, each once the last refusal is old enough
    reminders = [r.getMessage() for r in caplog.records if r.name == "bot.teams.sender"]
    assert len(reminders) == 1, reminders
    assert f"since {began:%Y-%m-%d %H:%M} UTC (1.0 h): {queued} Teams message(s) wait" in reminders[0]
    assert "TEAMS_APP_PASSWORD" in reminders[0]  # what to change, again


def _queued(teams: Teams) -> int:
    """A migration started, invited and told in Teams, its messages queued: its id."""
    connect(teams)
    for command in ("start", "invite", "notify"):
        teams.say(DANA, f"{command} {ORGANIZATION}" + (" fabrikam.com" if command == "start" else ""))
    with teams.runtime.database.session() as session:
        (migration,) = session.exec(select(Migration)).all()
    return migration.id or 0


class _Refused:
    """The outbox worker's process with Entra refusing its secret (it expired): its clocks in the test's
    hands, its token requests counted."""

    def __init__(self, teams: Teams) -> None:
        refusal = {"sign_in_refusal": 7000222, "sign_in_refusal_client": APP_ID}
        teams.http.post(f"{teams.url}/_sandbox/faults", json=refusal).raise_for_status()
        self.teams = teams
        self.asked: list[str] = []
        self.now = [utc_now()]
        self.ticks = [0.0]

        async def seen(request: httpx.Request) -> None:
            if request.url.path.endswith("/oauth2/v2.0/token"):
                self.asked.append(str(request.url))

        client = CookielessAsyncClient(timeout=TIMEOUT_SECONDS, event_hooks={"request": [seen]})
        database = teams.runtime.database
        api = TeamsApi(teams.settings, database, client=client, clock=lambda: self.ticks[0], wall=self.clock)
        teams._working = build_surface(
            teams.settings, teams.runtime.conversation, database, clock=utc_now, api=api
        )
        self.worker = teams.working().outbox_worker(database, teams.runtime.tracking, clock=self.clock)

    def clock(self) -> datetime:
        return self.now[0]

    def wait(self, seconds: float) -> None:
        self.now[0] += timedelta(seconds=seconds)
        self.ticks[0] += seconds

    def drain(self) -> None:
        self.teams.worker.run(self.worker.drain())


def _sign_in_at_start(database: Database, migrating: int, *statuses: int) -> list[str]:
    """`serve`'s sign-in at start against an Entra answering `statuses` (the last repeats, a refused secret
    for 401) with `migrating` migrations under way, then a send's look-up as serving goes on: the lines of
    `serve`'s log and the connector's, as the operator reads them."""
    from bot import operator_log
    from bot.teams.connector import SignInRefused, TeamsApi

    async def no_wait(_: float) -> None:
        """The retries run at once."""

    for _ in range(migrating):
        add_migration(database, f"org-{_}")
    with ServerThread(_entra(REFUSED_SECRET, *statuses)) as entra, _lines() as lines:
        api = TeamsApi(TeamsSettings("app-id", "secret", TENANT, sandbox_url=entra.url), database)

        async def start_then_send() -> None:
            try:
                await operator_log.teams_identity(
                    api, operator_log.migrations_under_way(database), sleep=no_wait
                )
                with pytest.raises(SignInRefused):
                    await api.person("dana@fabrikam.com")
            finally:
                await api.aclose()

        asyncio.run(start_then_send())
    return lines


@contextmanager
def _lines() -> Iterator[list[str]]:
    """The WARNING and ERROR lines of `serve`'s log and the Teams connector's."""
    lines: list[str] = []

    class Kept(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.levelname} {record.getMessage()}")

    kept = Kept(logging.WARNING)
    loggers = [logging.getLogger(name) for name in ("aadbot.serve", "bot.teams.connector")]
    for logger in loggers:
        logger.addHandler(kept)
    try:
        yield lines
    finally:
        for logger in loggers:
            logger.removeHandler(kept)


ADVICE = "Microsoft Entra ID refused the Teams bot's sign-in (AADSTS7000215): TEAMS_APP_PASSWORD is not"


def test_a_refused_secret_at_start_with_a_migration_under_way_is_an_error_and_serving_goes_on(
    sqlite_database: Database,
) -> None:
    """Slack's people and the migration's reminders go on; the Teams messages wait for the secret."""
    (said,) = _sign_in_at_start(sqlite_database, 2, 401)  # once: not again at the first send
    assert said.startswith(f"ERROR {ADVICE}")
    assert said.endswith(
        " Serving goes on for the 2 migration(s) under way; Teams messages wait until the sign-in works"
        " again."
    )


def test_a_refusal_on_a_later_attempt_does_not_stop_a_serve_already_serving(
    sqlite_database: Database,
) -> None:
    """Entra gave no verdict at start (503): `serve` has been answering since; a refusal then is logged."""
    warned, said = _sign_in_at_start(sqlite_database, 0, 503, 401)
    assert warned.startswith("WARNING Microsoft Entra ID did not answer the Teams bot's sign-in (503)")
    assert said.startswith(f"ERROR {ADVICE}")
    assert said.endswith(" Serving goes on; Teams messages wait until the sign-in works again.")


def test_a_refused_secret_at_start_with_no_migration_stops_serve(sqlite_database: Database) -> None:
    with pytest.raises(SettingsError, match=r"AADSTS7000215\): TEAMS_APP_PASSWORD"):
        _sign_in_at_start(sqlite_database, 0, 401)
