"""The stored plan: summaries read straight from it agree with the fully rebuilt plan."""

from __future__ import annotations

from dataclasses import replace

import pytest

from workflows import _plan_codec
from workflows.identities import is_planned_as
from workflows.plan import Check, Match, Plan, PlannedUser
from workflows.plan_invitations import invitation_bar
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
            Check("invite-permission", "fail", "1 user needs a guest invitation.", fix="Ask.", policy="none"),
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


@pytest.mark.parametrize(
    ("said", "policy", "bar"),
    [
        (
            "but the directory lets nobody invite guests, admins included (allowInvitesFrom: none).",
            "none",
            "setting",
        ),
        (
            "which the bot's app sends; Microsoft refuses invitations from an app when allowInvitesFrom is"
            " adminsAndGuestInviters.",
            "adminsAndGuestInviters",
            "rights",
        ),
    ],
)
def test_a_plan_stored_before_checks_kept_the_invite_setting_is_barred_as_its_message_names_it(
    said: str, policy: str, bar: str
) -> None:
    """Its fix is in words since edited: the setting, as Graph spells it, is what tells the bar."""
    data = {
        "checks": [
            {
                "code": "invite-permission",
                "status": "fail",
                "message": f"2 users need a guest invitation, {said} Older words.",
                "fix": "Older words.",
            }
        ]
    }
    checks = _plan_codec.checks(data)
    # "rights" is also what a check naming no setting gives: the setting read is what tells them apart
    assert ([check.policy for check in checks], invitation_bar(checks)) == ([policy], bar)
