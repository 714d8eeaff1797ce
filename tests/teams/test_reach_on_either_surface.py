"""A real `aadbot serve` with Slack beside Teams, a migration started on Slack: each person is reached on the
surface they are on, once; an approver on neither is named to the channel, with what to do instead."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bot.slack.sender import LOOKUPS_LIMITED, LOOKUPS_LIMITED_REASON
from sandbox import Sandbox
from storage import Migration, OutboundMessage
from storage.slack_people import Said, record, record_read
from tests.bot.test_approval_everyone import REQUEST
from tests.delivery.test_notice_codec import DANA, STATUS
from tests.fakes.serve_process import Served, outbox_of, queue_dms, serve_process, until
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import Failure, FakeSlack
from tests.storage.rows import add_migration
from tests.teams.conftest import APP_ID
from tests.teams.serving import teams_through
from workflows import notices
from workflows.results_approving import DecisionResult

WAIT = 60.0
SLACK_ONLY = "sam@partner.example"
"""In Slack's workspace, not in the directory Teams knows."""
TEAMS_ONLY = "carol@fabrikam.com"
APPROVER_ON_TEAMS = "lee@fabrikam.com"
NOWHERE = "frank@nowhere.example"
CHANNEL = "CMIGRATION"


def _teams_sends_to(box: Sandbox, upn: str) -> list[dict[str, Any]]:
    log = httpx.get(f"{box.url}/_sandbox/teams/activities", timeout=10).json()
    return [entry for entry in log if entry["conversation"]["user"] == upn and entry["op"] == "send"]


def _prompts_queued(database_url: str, approvers: list[str]) -> int:
    """An approval requested in a migration started in a Slack channel, its prompt queued for each of
    `approvers` and the channel as `request-approval` queues it, from another process."""
    from bot.runtime import utc_now
    from storage import open_database

    database = open_database(database_url)
    migration_id = add_migration(database, "contoso")
    with database.session() as session:
        row = session.get(Migration, migration_id)
        assert row is not None
        row.channel_id, row.surface = CHANNEL, "slack"
        request = replace(REQUEST, organization="contoso")
        notices.approval_prompt(session, row, request, approvers, utc_now())
        session.commit()
    database.dispose()
    return migration_id


def _rejected(database_url: str, migration_id: int) -> None:
    """Dana rejects the request, as `reject 4` records it."""
    from bot.runtime import utc_now
    from storage import open_database

    database = open_database(database_url)
    with database.session() as session:
        row = session.get(Migration, migration_id)
        assert row is not None
        result = DecisionResult(4, "rejected", 0, 1, STATUS, "Not now.")
        notices.decision(session, row, result, DANA, utc_now(), timedelta(minutes=1))
        session.commit()
    database.dispose()


def _sent_or_failed(row: OutboundMessage) -> bool:
    return row.status != "pending"


def _settled(
    database_url: str, count: int, settled: Callable[[OutboundMessage], bool] = _sent_or_failed
) -> list[OutboundMessage]:
    """The `count` messages once each is `settled`."""
    rows: list[OutboundMessage] = []

    def holds() -> bool:
        rows[:] = outbox_of(database_url)
        return len(rows) == count and all(settled(row) for row in rows)

    until(f"{count} messages settled", holds, WAIT)
    return rows


@contextmanager
def _beside_teams(fake: FakeSlack, folder: Path, box: Sandbox, template: Path) -> Iterator[Served]:
    """`aadbot serve` with Slack (`fake`, on loopback) beside Teams (`box`), the bot registered there, on a
    copy of the migrated `template` where a `serve` before it read `fake`'s member list whole: the DMs go at
    once. A first read under way would put back every DM to someone its pages in so far do not show, for
    `READING_LATER_SECONDS`, which no test here is about (tests/slack reads it)."""
    read = folder / "member-list-read.db"
    shutil.copyfile(template, read)
    _member_list_read(f"sqlite:///{read}", fake)
    with ServerThread(fake.asgi()) as server:
        fake.url = server.url
        teams = {**teams_through(box), "AADBOT_SANDBOX": ""}
        with serve_process("http", fake, folder, environment=teams, migrated=read) as served:
            registration = {"endpoint": f"{served.url}/api/messages", "appId": APP_ID}
            httpx.post(f"{box.url}/_sandbox/teams/bot", json=registration, timeout=10).raise_for_status()
            yield served


def _member_list_read(database_url: str, fake: FakeSlack) -> None:
    """`fake`'s members recorded in the database as a whole read of Slack's member list records them."""
    from bot.runtime import utc_now
    from storage import open_database

    database = open_database(database_url)
    now = utc_now()
    members = [Said(address, user_id) for user_id, (address, _) in fake.users.items()]
    record(database, members, at=now)
    record_read(database, began_at=now)
    database.dispose()


def test_people_and_approvers_are_reached_on_the_surface_they_are_on_once(
    tmp_path: Path, box: Sandbox, sqlite_template: Path
) -> None:
    fake = FakeSlack(users={"USAM": (SLACK_ONLY, "Sam Partner")})
    with _beside_teams(fake, tmp_path, box, sqlite_template) as served:
        queue_dms(served.database_url, [SLACK_ONLY, TEAMS_ONLY, NOWHERE])  # a migration started on Slack
        migration_id = _prompts_queued(served.database_url, [APPROVER_ON_TEAMS, NOWHERE])
        # 3 lists, 3 prompts, whom it affects to each approver, and the channel told of the approver on
        # neither surface
        rows = {(row.recipient, row.kind): row for row in _settled(served.database_url, 9)}
        _rejected(served.database_url, migration_id)
        # the decision, and Lee's message naming whom it affects settled (the one to nowhere failed)
        _settled(served.database_url, 11)
        log = served.log_text()

    assert len(fake.posts_to("DUSAM")) == 1 and _teams_sends_to(box, SLACK_ONLY) == []
    (carols,) = _teams_sends_to(box, TEAMS_ONLY)
    assert carols["summary"] == "Your to-do list for fabrikam"
    assert rows[(TEAMS_ONLY, "todo_list")].status == "sent"

    # the prompt and whom it affects go to Lee in one batch, sent side by side: either may arrive first
    sent = sorted(_teams_sends_to(box, APPROVER_ON_TEAMS), key=lambda entry: entry["summary"])
    prompt, whom = sent
    assert prompt["summary"].startswith("Approval #4 needed: connect contoso")
    assert whom["summary"] == "Who approval #4 affects: connect contoso"
    assert rows[(APPROVER_ON_TEAMS, notices.APPROVAL_PEOPLE)].status == "sent"
    assert rows[(NOWHERE, notices.APPROVAL_PEOPLE)].status == "failed"
    # the decision, posted in the Slack channel, updated Lee's card in Teams too: no Approve left there
    activities = httpx.get(f"{box.url}/_sandbox/teams/activities", timeout=10).json()
    updates = [entry for entry in activities if entry["op"] == "update" and entry["id"] == prompt["id"]]
    assert updates[-1]["summary"] == "Approval #4: 🚫 Rejected by Dana Owner"
    settled = [entry for entry in activities if entry["op"] == "update" and entry["id"] == whom["id"]]
    assert settled[-1]["summary"] == "Who approval #4 affected: 🚫 Rejected by Dana Owner"
    slack_updates = [(call.params["channel"], call.params["text"]) for call in fake.calls_of("chat.update")]
    assert slack_updates == [(CHANNEL, "Approval #4: 🚫 Rejected by Dana Owner")]  # the channel's copy

    nowhere = rows[(NOWHERE, "todo_list")]
    assert (nowhere.status, nowhere.error_code, nowhere.last_error) == (
        "failed",
        "not_in_chat",
        f"Slack: no Slack account with the email {NOWHERE}; Teams: no directory user with the sign-in name"
        f" {NOWHERE}",
    )
    told = [call.params["text"] for call in fake.posts_to(CHANNEL)]
    assert len(told) == 2  # the channel's copy of the prompt, and whom it did not reach
    assert told[1] == (
        f"The approval prompt #4 could not reach {NOWHERE} in chat ({nowhere.last_error}), so they have not"
        " been asked. Tell them another way: they can type `approve 4` (or `help`) to the bot wherever they"
        " have it, in Slack or Teams, or press *Approve* on the prompt in this channel."
    )
    assert "deliveries to" not in log  # no outage: people not found are no failure of a surface


LOOKUP_RETRY_AFTER = 30
"""Slack's Retry-After on a look-up: a client retrying on its own held the DM in flight this long."""
GUEST, CONTRACTOR = "guest@outlook.com", "contractor@gmail.com"
"""Two people the member list does not show (nor the directory Teams knows): only a look-up can tell."""


def _looked_for(row: OutboundMessage) -> bool:
    """Its person looked for in Slack's member list, and then alone: sent or failed, or put back saying
    why."""
    return row.status != "pending" or row.error_code is not None


def test_a_slack_look_ups_429_in_the_combined_serve_holds_every_look_up_and_is_not_retried_in_the_client(
    tmp_path: Path, box: Sandbox, sqlite_template: Path
) -> None:
    """Beside Teams, People looks people up with the outbox's client, which hands a 429 back, as in Slack's
    own serve: the DM waits for Slack, saying so, and the next person is not looked up meanwhile. A client
    that retried on its own held the DM in flight for the Retry-After and then looked everyone up."""
    fake = FakeSlack(users={"USAM": (SLACK_ONLY, "Sam Partner")})
    fake.fail("users.lookupByEmail", Failure(status=429, retry_after=LOOKUP_RETRY_AFTER))
    with _beside_teams(fake, tmp_path, box, sqlite_template) as served:
        queue_dms(served.database_url, [GUEST, CONTRACTOR])
        rows = _settled(served.database_url, 2, _looked_for)

    assert [call.params["email"] for call in fake.calls_of("users.lookupByEmail")] == [GUEST]
    waiting = ("pending", 0, LOOKUPS_LIMITED, LOOKUPS_LIMITED_REASON)
    assert {row.recipient: (row.status, row.attempts, row.error_code, row.last_error) for row in rows} == {
        GUEST: waiting,
        CONTRACTOR: waiting,  # not asked of Slack while the Retry-After lasts
    }
