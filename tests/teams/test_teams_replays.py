"""Restoring the Teams steps before the one under test (tests/bot/replays.py, through `approval_requested` and
the help tests' `_notified`) is indistinguishable from replaying them: the same activities, per-person
cards, database rows and sandbox, then and after steps that read what the prefix left."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox import Sandbox
from storage import Database
from tests.bot import replays
from tests.storage.databases import replace_sqlite_file
from tests.teams.conftest import ORGANIZATION, Teams, approval_requested, teams_on, texts
from tests.teams.test_teams_help import BOB, DANA, LEE, _notified

_WHEN = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?"  # when a row or record was written
    r"|\b1\d{9}\.\d+"  # when the shared rate let a connector call go
)
_PER_RUN = re.compile(
    r"\b1\d{13}\d{6}\b"  # an activity id: the sandbox's milliseconds, then its number
    r"|\b[0-9a-f]{32}(\.\d+\.[\w-]+)?\b"  # a file's random id, and a link's expiry and signature
    r"|127\.0\.0\.1:\d+"  # the bot's own server, on a port of its test
)
_OWN_SEED = 2026_11_30
LOOK_UPS = "graph.microsoft.com"
"""Not compared: a restored world's new bot looks people up in the directory again, as a bot's new process
does (its cache is in memory; the sign-ins too, tests/bot/replays.py). What Graph changed is: the sandbox's
state."""


def _follow_on(teams: Teams, bob: str) -> dict[str, Any]:
    """Steps that read what the prefix left: Bob ticks his list and asks a question, an admin's copy of the
    approval card, progress, the watch, and a refusal naming what the runtime remembers Dana an admin of.
    No outbox drain: whether the delivery report's refresh it starts updates the progress card before the
    drain ends depends on the machine's load, in two real replays as in a replay and a restore."""
    (todo,) = [e for e in teams.personal(bob) if "to-do list" in texts(e).lower()]
    ticked = teams.click(bob, todo["id"], "Done")
    assert ticked.status_code == 200, ticked.text
    teams.say(bob, "I get a 403 when inviting", channel=False)
    teams.say(DANA, f"progress {ORGANIZATION}")
    teams.watch()
    refused = teams.said(DANA, "start no-such-org fabrikam.com")
    (lee_copy,) = [e for e in teams.personal(LEE) if str(e.get("summary")).startswith("Approval #")]
    return {
        "ticked": ticked.json(),
        "refused": refused,
        "views": [teams.view(bob, todo["id"]), teams.view(LEE, lee_copy["id"])],
    }


def _observed(teams: Teams, bob: str, after: dict[str, Any]) -> str:
    """Everything the Teams tests look at, with what differs between any two real replays named by order of
    appearance (activity ids, file links, the bot's port, the sandbox's random ids) or left out (when
    things happened: how close two calls came depends on the machine's load)."""
    box = teams.runtime.sandbox
    assert box is not None
    stats = httpx.get(f"{teams.url}/_sandbox/teams/stats", timeout=10).json()
    seen = replays.observed(
        teams.runtime,
        "",
        [],
        bob=bob,
        activities=teams.activities(),
        after=after,
        connector_operations=stats["operations"],
    )
    counted = json.loads(seen)
    del counted["requests"][LOOK_UPS]
    seen = json.dumps(counted, sort_keys=True)
    names: dict[str, str] = {}
    seen = _PER_RUN.sub(lambda found: names.setdefault(found[0], f"<per run {len(names)}>"), seen)
    return _WHEN.sub("<when>", seen)


@pytest.fixture
def world(
    served_box: Sandbox, sqlite_database: Database, sqlite_template: Path, fabrikam: dict[str, Any]
) -> Iterator[Callable[..., str]]:
    """Runs the prefix and the follow-on on a fresh world: a new bot on a fresh database and sandbox, whose
    faults draw from a seed no other test uses, so that the first run replays for real and saves (two real
    replays may differ in the order concurrent deliveries reach Teams; a restore is the replay it saved)."""

    def run(*, restores: bool) -> str:
        replace_sqlite_file(sqlite_database, sqlite_template)
        with teams_on(served_box, sqlite_database, fabrikam, restores=restores) as teams:
            served_box.set_faults(seed=_OWN_SEED)
            bob = _notified(teams)
            return _observed(teams, bob, _follow_on(teams, bob))

    yield run


def test_a_restored_teams_prefix_is_indistinguishable_from_a_replayed_one(world: Callable[..., str]) -> None:
    restored_before = replays.RESTORED["teams notified"]
    replayed_for_real = world(restores=False)
    assert replays.RESTORED["teams notified"] == restored_before
    restored = world(restores=True)
    assert replays.RESTORED["teams notified"] == restored_before + 1
    assert "You are an admin of fabrikam-fiber." in restored  # what the runtime remembers, not the database
    assert BOB in restored and "Sign in with your guest account" in restored
    assert restored == replayed_for_real


def test_steps_after_something_happened_in_teams_run_for_real(teams: Teams) -> None:
    """A person wrote to the bot first: the saved world, where nobody had, cannot stand in for the steps."""
    restored_before = replays.RESTORED["teams approval requested"]
    teams.say(LEE, "help", channel=False)
    prompt = approval_requested(teams, DANA)
    assert replays.RESTORED["teams approval requested"] == restored_before
    assert [e["op"] for e in teams.personal(LEE)][:1] == ["send"]  # the help answer, still there
    assert teams.click(LEE, prompt["id"], "Approve").status_code == 200
