"""The stored plan: summaries read straight from it agree with the fully rebuilt plan."""

from __future__ import annotations

from dataclasses import replace

from workflows import _plan_codec
from workflows.identities import is_planned_as
from workflows.plan import Check, Match, Plan, PlannedUser
from workflows.results import Actor


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


def test_a_person_is_found_by_any_address_or_their_directory_id_in_any_case() -> None:
    plan, data = stored()
    ann, kim, erin = plan.users

    def found(*keys: str) -> list[PlannedUser]:
        return list(_plan_codec.candidates(data, set(keys)))

    assert found("ann@fabrikam.com") == [ann]
    assert found("kim@old.com") == found("kim@fabrikam.com") == found("g-2") == [kim]
    assert found("erin@gmail.com", "nobody") == [erin]
    assert found("nobody@fabrikam.com") == []


def test_a_chat_user_is_the_planned_person_by_address_or_directory_id_not_by_a_disabled_account() -> None:
    plan, _ = stored()
    kim = plan.users[1]
    assert is_planned_as(Actor("U1", "KIM@fabrikam.com", "Kim"), kim)
    assert is_planned_as(Actor("g-2", "", "Kim"), kim)  # Teams knows her by her directory object id
    assert not is_planned_as(Actor("U2", "ann@fabrikam.com", "Ann"), kim)
    disabled = replace(kim, outcome="disabled")
    assert not is_planned_as(Actor("g-2", "", "Kim"), disabled)  # no account she can use
    assert is_planned_as(Actor("U1", "kim@old.com", "Kim"), disabled)
