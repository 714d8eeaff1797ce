"""`aadbot serve` restarted in its own process: what Slack said before the restart stands (`slack_person`,
`slack_member_list`), so the restarted `serve` neither reads the member list again (100 pages, four minutes
at 20,000 members) nor looks up again whoever Slack said it knew no one by.
"""

from __future__ import annotations

import signal
from pathlib import Path

from bot.runtime import utc_now
from storage import open_database
from storage.outbox import enqueue
from tests.fakes.serve_process import lists_waiting, outbox_of, serve_process, until
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import SERVED_PEOPLE

ANN, GUEST = "ann@fabrikam.com", "guest@outlook.com"
WAIT = 30.0


def _settled(database_url: str) -> list[tuple[str, str, str | None]]:
    return [(message.recipient, message.status, message.error_code) for message in outbox_of(database_url)]


def _queue_again(database_url: str) -> None:
    """Each list once more, in the same migration, as the next message to the same people."""
    database = open_database(database_url)
    with database.session() as session:
        for message in outbox_of(database_url):
            again = f"{message.idempotency_key}-again"
            enqueue(
                session,
                idempotency_key=again,
                recipient=message.recipient,
                kind=message.kind,
                payload=message.payload,
                now=utc_now(),
            )
        session.commit()
    database.dispose()


def test_a_restarted_serve_reads_no_member_list_again_and_repeats_no_look_up(
    tmp_path: Path, sqlite_template: Path
) -> None:
    fake = FakeSlack(users=dict(SERVED_PEOPLE))
    settled = [(ANN, "sent", None), (GUEST, "failed", "not_in_chat")]
    with ServerThread(fake.asgi()) as server:
        fake.url = server.url
        waiting = lists_waiting(sqlite_template, tmp_path, [ANN, GUEST])
        with serve_process("http", fake, tmp_path, migrated=waiting) as served:
            until("both lists settled", lambda: _settled(served.database_url) == settled, WAIT)
            assert served.stop(signal.SIGTERM) == 0

        _queue_again(served.database_url)  # the next wave, sent by the restarted serve
        with serve_process("http", fake, tmp_path) as again:
            until("the next lists settled", lambda: _settled(again.database_url) == settled * 2, WAIT)

    assert len(fake.calls_of("users.list")) == 1
    assert [call.params["email"] for call in fake.calls_of("users.lookupByEmail")] == [GUEST]
    assert len(fake.posts_to("DUANN")) == 2
