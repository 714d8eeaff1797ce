"""walk30 finding 3, through the real `aadbot serve` (Teams alone): SIGTERM while `invite` runs stops the
step between two invitations within the stop's bound, exit status 0, with the step recorded `interrupted`
and how far it got; the next `serve` resumes it at once, not once the step's lease (10 min) runs out, and
every person is invited exactly once, by the sandbox's own log of invitations."""

from __future__ import annotations

import copy
import itertools
import signal
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import select

from sandbox import Sandbox, parse_scenario
from storage import Invitation, Migration, open_database
from tests.fakes.serve_process import ended, until
from tests.teams.conftest import ORGANIZATION
from tests.teams.serving import WAIT_SECONDS, HeldRequest, ServedTeams, teams_serve

DANA = "dana@fabrikam.com"
HELD = 2
"""The invitation under way when the signal comes: the first is recorded, more are still to send."""
STOP_SECONDS = 20.0
INVITED = 6
"""The bundled scenario's two people to invite, and `_more_to_invite`'s four."""


def _held_invitation(box: Sandbox) -> HeldRequest:
    """The `HELD`th invitation held: the signal comes while Microsoft has the request, as it did in walk30
    (the invite loop in a thread, mid-call)."""
    asked = itertools.count(1)
    return HeldRequest(box, "/invitations", lambda _: next(asked) == HELD)


def _migration(database_url: str) -> Migration:
    with open_database(database_url).session() as session:
        return session.exec(select(Migration)).one()


def _saying(teams: ServedTeams, text: str, heard: list[object]) -> None:
    """`text` said on a thread, as the signal comes: the answer, or how the stop cut it off."""
    try:
        heard.append(teams.say(DANA, text))
    except (AssertionError, httpx.HTTPError) as error:
        heard.append(error)


def _more_to_invite(fabrikam: dict[str, Any], count: int) -> None:
    """`count` more people on Microsoft accounts with no directory account: the plan invites them."""
    model = next(
        e for e in fabrikam["user_entitlements"] if e["user"]["principalName"] == "frank.f@outlook.com"
    )
    for number in range(count):
        entitlement = copy.deepcopy(model)
        address = f"guest{number}@outlook.com"
        entitlement["id"] = str(uuid.UUID(int=number + 1))
        entitlement["user"].update(
            principalName=address,
            mailAddress=address,
            displayName=f"Guest {number}",
            originId=f"{number + 1:016x}",
            descriptor=f"msa.{90000 + number}",
        )
        fabrikam["user_entitlements"].append(entitlement)


def test_sigterm_mid_invite_stops_between_two_invitations_and_the_next_serve_resumes_at_once(
    fabrikam: dict[str, Any], tmp_path: Path, sqlite_template: Path
) -> None:
    log = tmp_path / "serve.log"
    _more_to_invite(fabrikam, INVITED - 2)
    with Sandbox(parse_scenario(fabrikam)) as box:
        held = _held_invitation(box)
        with (
            log.open("w") as errors,
            teams_serve(
                box,
                tmp_path,
                migrated=sqlite_template,
                environment={"AADBOT_STOP_SECONDS": f"{STOP_SECONDS:g}"},
                stderr=errors,
            ) as teams,
        ):
            teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
            heard: list[object] = []
            inviting = threading.Thread(target=_saying, args=(teams, f"invite {ORGANIZATION}", heard))
            inviting.start()
            assert held.reached.wait(WAIT_SECONDS), "the second invitation never reached the sandbox"
            teams.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            until(
                "stopping", lambda: "INFO aadbot.serve: stopping (SIGTERM)" in log.read_text(), WAIT_SECONDS
            )
            held.release.set()  # Microsoft answers while `serve` stops
            code = ended(teams.process, STOP_SECONDS)
            took = time.monotonic() - signalled
            inviting.join(WAIT_SECONDS)
            database_url = teams.database_url
        said = log.read_text()
        assert code == 0, said
        assert took < STOP_SECONDS, said  # it stopped between two invitations, not at the bound
        assert "exiting without them" not in said and "Traceback" not in said, said

        stopped = _migration(database_url)
        with open_database(database_url).session() as session:
            recorded = session.exec(select(Invitation)).all()
        assert stopped.state == "interrupted", [(r.email, r.status) for r in recorded]
        assert [(row.status, row.attempts) for row in recorded] == [("sent", 1)] * HELD
        assert stopped.blocked_reason is not None
        assert stopped.blocked_reason.startswith(
            f"The invitations were interrupted after {HELD} of {INVITED}"
        )

        with teams_serve(box, tmp_path) as again:  # the same database, at once: no lease to wait for
            status = again.said(DANA, f"status {ORGANIZATION}")
            assert f"⏸️ The invitations were interrupted after {HELD} of {INVITED}" in status, status
            assert "resume** carries on from there." in status, status  # the command, in bold on Teams
            again.say(DANA, f"resume {ORGANIZATION}")
            until(
                "the invitations resumed and done",
                lambda: _migration(again.database_url).state in ("planned", "blocked"),
                WAIT_SECONDS,
            )
    invited = Counter(
        invitation["invitedUserEmailAddress"].casefold()
        for invitation in box.state()["tenant"]["invitations"]
    )
    assert len(invited) == INVITED and set(invited.values()) == {1}, invited
    with open_database(database_url).session() as session:
        rows = session.exec(select(Invitation)).all()
    assert {row.email for row in rows if row.status == "sent"} == set(invited)
    assert all(row.attempts == 1 for row in rows)
