"""Entra refusing the Teams bot's secret while `serve` runs (it expired, or was removed): the outbox waits
for it to work again, never spending its messages into "failed for good"."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.runtime import utc_now
from bot.settings import SettingsError
from bot.teams.settings import TeamsSettings
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
    connect(teams)
    for command in ("start", "invite", "notify"):
        teams.say(DANA, f"{command} {ORGANIZATION}" + (" fabrikam.com" if command == "start" else ""))
    refusal = {"sign_in_refusal": 7000222, "sign_in_refusal_client": APP_ID}  # the secret expired
    teams.http.post(f"{teams.url}/_sandbox/faults", json=refusal).raise_for_status()
    now = [utc_now()]
    worker = teams.working().outbox_worker(
        teams.runtime.database, teams.runtime.tracking, clock=lambda: now[0]
    )
    with caplog.at_level(logging.INFO):
        for _ in range(6):  # an hour apart: any counted backoff would have spent every attempt by now
            teams.worker.run(worker.drain())
            now[0] += timedelta(hours=1)
    with teams.runtime.database.session() as session:
        (migration,) = session.exec(select(Migration)).all()
    waiting = messages_of(teams.runtime.database, migration.id or 0)
    assert waiting
    assert {(m.status, m.attempts, m.error_code) for m in waiting} == {
        ("pending", 0, "teams_sign_in_refused")
    }
    told = [r.getMessage() for r in caplog.records if "refused the Teams bot's sign-in" in r.getMessage()]
    assert len(told) == 1, told  # once, not once per message nor per drain
    assert "AADSTS7000222" in told[0]

    teams.http.post(f"{teams.url}/_sandbox/faults", json={}).raise_for_status()  # a new secret works
    teams.worker.run(worker.drain())
    sent = messages_of(teams.runtime.database, migration.id or 0)
    # all out, but to those Teams itself refuses (Ivan blocked the bot...), as without the refusal
    assert {m.error_code for m in sent if m.status != "sent"} == {NOT_IN_CHAT}
    assert all(m.status in ("sent", "failed") for m in sent)
    assert teams.personal("carol@fabrikam.com")


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
