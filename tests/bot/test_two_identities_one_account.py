"""Kim with two Azure DevOps identities, kim@fabrikam-old.com and an MSA kim@fabrikam.com, which the plan
would both give the directory account kim@fabrikam.com (walk33 finding 2): the plan says so, blocks the
request, and an admin's `decide` settles which one keeps it."""

from __future__ import annotations

import copy
from typing import Any

from sandbox import Sandbox, parse_scenario
from tests.bot.conftest import DANA, ORG, Chat, started
from tests.bot.test_decisions import lines, rows

OLD, NEW = "kim@fabrikam-old.com", "kim@fabrikam.com"


def second_kim(box: Sandbox, fabrikam: dict[str, Any]) -> None:
    """Kim also signed up to the organization with an MSA on her work address."""
    old = next(each for each in fabrikam["user_entitlements"] if each["user"]["principalName"] == OLD)
    new = copy.deepcopy(old)
    new["id"] = "11111111-2222-4333-8444-555555555555"
    new["user"] |= {"principalName": NEW, "mailAddress": NEW, "originId": "abcde", "descriptor": "msa.abcde"}
    fabrikam["user_entitlements"].append(new)
    box.reset(parse_scenario(fabrikam))


def test_two_identities_onto_one_account_fail_the_plan_until_an_admin_decides(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    second_kim(box, fabrikam)
    started(chat)
    shown = lines(chat.say(DANA, "plan"))
    failed = [line for line in shown if "shared-directory-account" in line]
    assert failed and failed[0].startswith("❌"), shown
    assert f"{OLD} and {NEW} → {NEW}" in failed[0]
    assert f"`decide {ORG} {OLD} no-access`" in failed[0]
    assert "Every principal name is distinct." in "\n".join(shown)  # the other check is no help here

    refused = lines(chat.say(DANA, f"decide {ORG} {NEW} no-access"))
    assert refused[0].startswith(f"{NEW} signs in as {NEW}: Connect gives it to them whatever is decided.")
    wrong = lines(chat.say(DANA, f"decide {ORG} {OLD} {NEW}"))
    assert wrong[0].startswith(f"{OLD} and {NEW} would both get {NEW}, which only one can")

    chat.say(DANA, f"decide {ORG} {OLD} no-access")
    chat.say(DANA, "recheck")
    plan = chat.say(DANA, "plan")
    assert (OLD, "no-access", "none: Dana decided they lose access") in rows(plan)
    assert (NEW, "auto", NEW) in rows(plan)
    assert "✅ *shared-directory-account*: No directory account is the target of two users." in lines(plan)
