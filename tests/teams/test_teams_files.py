"""Lists as files in Teams: the card links the full CSV, served by the real `aadbot serve` at a short-lived
signed link; forged or altered links get 403, expired ones 410, each with a page saying what to do."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlmodel import Session, select
from starlette.applications import Starlette

from bot.conversation.messages import Attachment, Message, Text
from bot.teams.files import LINK_LIFETIME, FileLinks, link_key
from bot.teams.store import ConversationRef
from storage import Database, TeamsFile, open_database
from tests.fakes.server import ServerThread
from tests.teams.conftest import ORGANIZATION
from tests.teams.serving import ServedTeams

DANA = "dana@fabrikam.com"


def _download_links(node: Any, filename: str) -> list[str]:
    from bot.teams.cards import download_title  # the Teams SDK: not at collection

    if isinstance(node, dict):
        download = node.get("type") == "Action.OpenUrl" and node.get("title") == download_title(filename)
        own = [node["url"]] if download else []
        return own + [url for value in node.values() for url in _download_links(value, filename)]
    if isinstance(node, list):
        return [url for item in node for url in _download_links(item, filename)]
    return []


def test_the_plan_s_card_links_its_csv_served_by_serve(
    teams_beside_slack: ServedTeams, fabrikam: dict[str, Any]
) -> None:
    served = teams_beside_slack
    served.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    before = len(served.activities())
    served.say(DANA, f"plan {ORGANIZATION}")
    links = [
        url
        for entry in served.activities()[before:]
        for url in _download_links(entry["attachments"], f"{ORGANIZATION}-plan.csv")
    ]
    assert len(links) == 1, links
    link = links[0]
    assert link.startswith(f"{served.url}/files/") and "sandbox-secret" not in link

    answer = httpx.get(link, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == f'attachment; filename="{ORGANIZATION}-plan.csv"'
    assert answer.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    expected = {e["user"]["principalName"] for e in fabrikam["user_entitlements"]}
    assert {row["principal_name"] for row in rows} == expected  # every user of the plan, not 25
    assert {row["outcome"] for row in rows} >= {"auto", "invite"}
    stored = open_database(served.database_url)
    try:
        with stored.session() as session:
            (row,) = session.exec(select(TeamsFile)).all()
    finally:
        stored.dispose()
    dana = next(u["id"] for u in served.box.state()["tenant"]["users"] if u["userPrincipalName"] == DANA)
    assert row.organization == ORGANIZATION  # bound to the migration...
    assert row.requester in (dana, "conversation:19:aadbot-migration@thread.tacv2")  # ...and its audience

    token = urlsplit(link).path.removeprefix("/files/")
    file_id, expires, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    forged = [
        f"{file_id}.{expires}.{flipped}",  # signature altered
        f"{'0' * 32}.{expires}.{signature}",  # another file
        f"{file_id}.{int(expires) + 86400}.{signature}",  # a longer life
        "../../etc/passwd",
        "x" * 5000,
    ]
    for attempt in forged:
        refused = httpx.get(f"{served.url}/files/{attempt}", timeout=10)
        assert refused.status_code in (403, 404), attempt
        if refused.status_code == 403:
            assert "not valid" in refused.text and "plan" in refused.text
            assert "principal_name" not in refused.text


def test_a_link_expires_after_an_hour_with_a_page_saying_so(database: Database) -> None:
    now = [datetime(2026, 11, 28, 9, 0, tzinfo=UTC)]
    files = FileLinks(database, link_key("app-password"), clock=lambda: now[0], public_url="http://x")
    with ServerThread(Starlette(routes=[files.route()])) as server:
        files.public_url = server.url
        ref = ConversationRef("a:1chat", "https://smba/", "tenant", "personal", "user-object-id")
        attachment = Attachment("stale-users-contoso.csv", "a,b\n1,2\n", "Stale")
        message = Message("list", (Text("list"), attachment))
        link = asyncio.run(files.links(message, ref))["stale-users-contoso.csv"]
        assert httpx.get(link).text == "a,b\n1,2\n"
        now[0] += LINK_LIFETIME - timedelta(seconds=1)
        assert httpx.get(link).status_code == 200
        now[0] += timedelta(seconds=1)
        expired = httpx.get(link)
        assert expired.status_code == 410 and "expired" in expired.text and "a,b" not in expired.text
    now[0] -= timedelta(minutes=30)
    elsewhere = FileLinks(database, link_key("another password"), clock=lambda: now[0])
    with ServerThread(Starlette(routes=[elsewhere.route()])) as other:  # a server with another key
        assert httpx.get(link.replace(server.url, other.url)).status_code == 403


def test_a_link_is_bound_to_its_audience_and_migration(database: Database) -> None:
    """The signature covers who the file is for and its migration, as stored: a row changed in the
    database (another audience or organization) no longer matches its link."""
    files = FileLinks(database, link_key("pw"), clock=lambda: datetime.now(UTC), public_url="http://x")
    with ServerThread(Starlette(routes=[files.route()])) as server:
        files.public_url = server.url
        link = files.issue(Attachment("open-items.csv", "a\n", "Open", "fabrikam"), "user-1")
        assert httpx.get(link).status_code == 200
        file_id = urlsplit(link).path.removeprefix("/files/").split(".")[0]
        for column, stored, changed in (("requester", "user-1", "user-2"), ("organization", "fabrikam", "x")):
            with Session(database.engine) as session:
                row = session.get(TeamsFile, file_id)
                assert row is not None and getattr(row, column) == stored  # as the attachment said
                setattr(row, column, changed)
                session.add(row)
                session.commit()
            assert httpx.get(link).status_code == 403
            with Session(database.engine) as session:
                row = session.get(TeamsFile, file_id)
                assert row is not None
                setattr(row, column, stored)
                session.add(row)
                session.commit()
            assert httpx.get(link).status_code == 200
