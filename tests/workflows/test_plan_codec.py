"""The stored plan: summaries read straight from it agree with the fully rebuilt plan."""

from __future__ import annotations

from workflows import _plan_codec
from workflows.plan import Check, Match, Plan, PlannedUser


def stored() -> tuple[Plan, dict[str, object]]:
    plan = Plan(
        organization="fabrikam",
        tenant_id="t-1",
        users=(
            PlannedUser("e-1", "ann@fabrikam.com", "auto", Match("g-1", "ann@fabrikam.com", "upn")),
            PlannedUser(
                "e-2",
                "kim@old.com",
                "map",
                Match("g-2", "kim@fabrikam.com", "mail"),
                mail_address="Kim@Fabrikam.com",
            ),
            PlannedUser("e-3", "erin@gmail.com", "invite", None),
        ),
        checks=(
            Check("user-count", "pass", "3 users"),
            Check("org-connection", "warn", "already", fix="none"),
        ),
    )
    return plan, _plan_codec.encode(plan)


def test_counts_and_checks_come_from_the_stored_summary_without_rebuilding_users() -> None:
    plan, data = stored()
    assert _plan_codec.counts(data) == plan.counts
    assert _plan_codec.checks(data) == plan.checks
    assert _plan_codec.decode(data) == plan


def test_a_person_is_found_by_principal_name_or_email_in_any_case() -> None:
    _, data = stored()
    assert _plan_codec.outcome_of(data, "ANN@fabrikam.com") == "auto"
    assert _plan_codec.outcome_of(data, " kim@fabrikam.com ") == "map"
    assert _plan_codec.outcome_of(data, "nobody@fabrikam.com") is None
