"""A notice's result value comes back from the outbox exactly as the step returned it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from workflows._codec import decode, encode
from workflows.plan import Check
from workflows.results import Actor, MigrationStatus
from workflows.results_approving import Affected, ApprovalRequest, ConnectionResult, DecisionResult, People

WHEN = datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=UTC)
DANA = Actor("UDANA", "dana@fabrikam.com", "Dana Owner")
STATUS = MigrationStatus(
    id=7,
    organization="fabrikam-fiber",
    tenant_id="7f1c2d3e-0000-4000-8000-00000000fab1",
    tenant_name="Fabrikam",
    state="connecting",
    active=True,
    blocked_reason=None,
    blocked_fix="Run `resume`.",
    plan_fingerprint="abc123",
    counts={"auto": 3, "invite": 2},
    checks=(
        Check("org-connection", "pass", "On Microsoft accounts."),
        Check("x", "warn", "Careful.", "Fix it."),
    ),
    started_by=DANA,
    channel_id=None,
    created_at=WHEN,
    updated_at=WHEN,
    invite_recheck_at=None,
    pending_approval_id=4,
    next_commands=("check-connection", "cancel"),
    version=3,
)


def _through_the_outbox(value: object) -> object:
    return json.loads(json.dumps(encode(value)))  # the payload column stores JSON


@pytest.mark.parametrize(
    "value",
    [
        STATUS,
        ApprovalRequest(
            4,
            "fabrikam-fiber",
            "t",
            "Fabrikam",
            "abc123",
            {"auto": 3},
            STATUS.checks,
            DANA,
            2,
            WHEN,
            STATUS,
            Affected(People(3, ("a@x", "b@x")), People(0, ()), People(2, ("c@x",)), People(0, ())),
        ),
        DecisionResult(4, "approved", 2, 2, STATUS, "Connect it.", DANA, "Lee cannot."),
        DecisionResult(4, "recorded", 1, 2, STATUS, "1 more needed."),
        ConnectionResult("other-tenant", "9a9a", STATUS, "Another directory."),
    ],
    ids=lambda value: type(value).__name__,
)
def test_a_result_survives_the_round_trip(value: object) -> None:
    assert decode(type(value), _through_the_outbox(value)) == value
