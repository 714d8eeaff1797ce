"""`aadbot serve` (Teams alone) killed with SIGKILL while Teams has a to-do list's request in hand: the next
`serve` cannot tell whether it arrived (Teams keeps no history a bot could search), so it does not send it
on its own; `progress` names the person to the admins with the command that sends it again, and
`retry-failed` sends it once, saying that it is sent again in case the first did not arrive.

Teams here never got the list (the held request is dropped): the worst case, which a person would be left
in silently if nobody were told."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import col, select

from sandbox import Sandbox
from sandbox._scenario import parse_scenario
from storage import OutboundMessage, open_database
from tests.teams.conftest import ORGANIZATION, texts
from tests.teams.serving import WAIT_SECONDS, ServedTeams, teams_serve
from workflows.stages.list_messages import TODO_LIST_MESSAGE

DANA = "dana@fabrikam.com"
CAROL = "carol@fabrikam.com"
CAROLS_LIST = b"Hi Carol,"
"""How the request that hands Carol her list is told from the others: her list greets her."""


class HeldList:
    """Holds the Bot Connector's answer to the request with Carol's list until `release` is set, then drops
    the request: Teams never got it, and its sender is gone by then."""

    def __init__(self, box: Sandbox) -> None:
        self.reached, self.release = threading.Event(), threading.Event()
        app = box._app  # the sandbox's own app; `reset` would build a new one, and this test makes none

        async def holding(scope: Any, receive: Any, send: Any) -> None:
            if (
                scope["type"] != "http"
                or scope["method"] != "POST"
                or not scope["path"].endswith("/activities")
            ):
                await app(scope, receive, send)
                return
            body, more = b"", True
            while more:
                part = await receive()
                body, more = body + part.get("body", b""), bool(part.get("more_body"))
            if CAROLS_LIST in body and not self.reached.is_set():
                self.reached.set()
                await asyncio.to_thread(self.release.wait, WAIT_SECONDS)
                await send({"type": "http.response.start", "status": 502, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            whole = [{"type": "http.request", "body": body, "more_body": False}]

            async def replayed() -> Any:
                return whole.pop() if whole else await receive()

            await app(scope, replayed, send)

        box._app = holding  # type: ignore[assignment]


def _lists(database_url: str) -> dict[str, OutboundMessage]:
    """Everyone's to-do list message, by recipient."""
    database = open_database(database_url)
    try:
        with database.session() as session:
            found = session.exec(
                select(OutboundMessage).where(OutboundMessage.kind == TODO_LIST_MESSAGE)
            ).all()
            return {message.recipient: message for message in found}
    finally:
        database.dispose()


def _until(what: str, holds: Any) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not holds():
        assert time.monotonic() < deadline, f"{what}: not within {WAIT_SECONDS:g} s"
        time.sleep(0.1)


def _leases_ran_out(database_url: str) -> None:
    """What the killed worker's claims are once their lease (20 s) has run out, without waiting for it."""
    database = open_database(database_url)
    try:
        with database.session() as session:
            session.execute(
                update(OutboundMessage)
                .where(col(OutboundMessage.claimed_by).is_not(None))
                .values(claimed_until=OutboundMessage.created_at)
            )
            session.commit()
    finally:
        database.dispose()


def _said(teams: ServedTeams, text: str) -> str:
    """Everything the bot sent in answer to `text`, one line of words."""
    before = len(teams.activities())
    teams.say(DANA, text)
    return " ".join(" ".join(texts(entry) for entry in teams.activities()[before:]).split())


def _carols(teams: ServedTeams) -> list[str]:
    return [texts(entry) for entry in teams.activities() if entry["conversation"]["user"] == CAROL]


def test_a_list_cut_by_a_kill_is_named_to_the_admins_and_sent_again_once_saying_so(
    fabrikam: dict[str, Any], tmp_path: Path, sqlite_template: Path
) -> None:
    with Sandbox(parse_scenario(fabrikam)) as box:
        held = HeldList(box)
        tenant = str(box.state()["tenant"]["id"])
        connected = {"organization": ORGANIZATION, "tenantId": tenant}
        httpx.post(f"{box.url}/_sandbox/connect", json=connected, timeout=10).raise_for_status()
        with teams_serve(box, tmp_path, migrated=sqlite_template) as teams:
            teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
            teams.say(DANA, f"invite {ORGANIZATION}")
            teams.say(DANA, f"notify {ORGANIZATION}")
            assert held.reached.wait(WAIT_SECONDS), "Carol's list never reached the sandbox"
            database_url = teams.database_url
            carols = next(to for to, message in _lists(database_url).items() if "carol" in to)
            # every other list settled, so that hers alone is in doubt: Teams has her request in hand
            _until(
                "the other lists",
                lambda: all(m.status != "pending" for t, m in _lists(database_url).items() if t != carols),
            )
            teams.process.kill()
            teams.process.wait(WAIT_SECONDS)
        held.release.set()
        assert _lists(database_url)[carols].in_flight  # the kill came between handing it over and its answer
        _leases_ran_out(database_url)

        with teams_serve(box, tmp_path) as again:  # the same database
            _until("Carol's list settled", lambda: _lists(database_url)[carols].status == "sent")
            assert _carols(again) == []  # not sent again on its own: it may have arrived
            progress = _said(again, f"progress {ORGANIZATION}")
            assert f"1 to-do list may have reached 1 person or not: {carols}." in progress, progress
            assert "Retry failed sends each again, saying it is sent again in case" in progress.replace(
                "*", ""
            )

            # hers, and the three lists that could not reach people out of chat (tried again as ever)
            retried = _said(again, f"retry-failed {ORGANIZATION}")
            assert f"Queued 4 to-do lists of {ORGANIZATION} again" in retried, retried
            again.wait_for("Carol's list sent again", lambda _: bool(_carols(again)))
            (resent,) = _carols(again)
            assert resent.startswith("Sent again, in case my earlier message did not reach you."), resent
            assert "Hi Carol," in resent

            _until("Carol's list confirmed", lambda: _lists(database_url)[carols].error_code is None)
            assert "may have reached" not in _said(again, f"progress {ORGANIZATION}")
            # confirmed now: a second retry-failed sends the others again, not her list
            assert "Queued 3 to-do lists" in _said(again, f"retry-failed {ORGANIZATION}")
            _until(
                "the others tried again",
                lambda: all(m.status != "pending" for m in _lists(database_url).values()),
            )
            assert len(_carols(again)) == 1
