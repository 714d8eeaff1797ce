"""A starter who is a guest of the directory cannot connect (walk 33, finding 5): the failing check names
the admin who may connect instead and how a guest becomes a member, and that admin's `connect-as-me`
(audited) makes the checks theirs, so they pass; an admin who may not connect either is refused."""

from __future__ import annotations

from typing import Any

from sandbox import Sandbox, parse_scenario
from tests.bot.conftest import DANA, LEE, ORG, Chat, text_of
from workflows.plan_connector import CONVERT_GUEST

START = f"start {ORG} fabrikam.com"


def flat(text: str) -> str:
    return " ".join(text.split())


def dana_a_guest(box: Sandbox, fabrikam: dict[str, Any]) -> None:
    dana = next(user for user in fabrikam["tenant"]["users"] if user["userPrincipalName"] == DANA)
    dana["userType"] = "Guest"
    box.reset(parse_scenario(fabrikam))


def test_a_guest_starter_is_told_who_may_connect_instead_and_lee_takes_over(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    dana_a_guest(box, fabrikam)
    started = flat(text_of(chat.say(DANA, START)))
    assert (
        f"❌ connector-member: {DANA} is a Guest in Fabrikam; connecting needs a Member. Connect as a Member"
        f" of the tenant (a guest cannot see its identities), or have {DANA} converted into a Member:"
        f" {CONVERT_GUEST}. {LEE} may connect instead (an enabled Member and an admin of {ORG}): they type"
        f" `connect-as-me {ORG}`."
    ) in started, started
    assert chat.state() == "blocked"
    still = flat(text_of(chat.say(LEE, f"recheck {ORG}")))
    assert f"❌ connector-member: {DANA} is a Guest" in still, still  # a recheck alone keeps checking Dana

    took = flat(text_of(chat.say(LEE, f"connect-as-me {ORG}")))
    assert took.startswith(f"You are the one who connects {ORG} now: the checks are for you."), took
    assert f"✅ connector-member: {LEE} is an enabled Member of Fabrikam." in took, took
    assert chat.state() == "planned"
    assert [
        entry.details for entry in chat.runtime.service.audit_trail(ORG) if entry.action == "connect_as_me"
    ] == [{"from": DANA, "to": LEE}]
    again = flat(text_of(chat.say(DANA, f"recheck {ORG}")))  # the checks stay Lee's
    assert f"✅ connector-member: {LEE} is an enabled Member of Fabrikam." in again, again


def test_an_admin_who_may_not_connect_either_cannot_take_over(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    dana_a_guest(box, fabrikam)
    chat.say(DANA, START)
    refused = flat(text_of(chat.say(DANA, f"connect-as-me {ORG}")))
    assert refused.startswith(f"You cannot make the connection either ({DANA} is a Guest in Fabrikam"), (
        refused
    )
    assert chat.state() == "blocked"
    assert not [entry for entry in chat.runtime.service.audit_trail(ORG) if entry.action == "connect_as_me"]
