"""Entra refusing the Teams bot's secret while `serve` runs (it expired, or was removed): the outbox waits
for it to work again, never spending its messages into "failed for good"."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.runtime import utc_now
from storage.models import Migration
from storage.outbox import NOT_IN_CHAT, messages_of
from tests.teams.conftest import APP_ID, ORGANIZATION, Teams, connect

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
