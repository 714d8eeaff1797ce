"""Nobody can use the bot to probe Azure DevOps: arguments are checked first, refusals are remembered and
rate limited per person, and the reply does not tell whether an organization exists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.bot.conftest import Chat, text_of
from workflows.admin_gate import AdminGate
from workflows.arguments import ArgumentError, organization_name, tenant_name, user_id
from workflows.directory import MicrosoftError

STRANGER = "mallory@outlook.com"


def _devops_requests(chat: Chat) -> int:
    assert chat.runtime.sandbox is not None
    counts = chat.runtime.sandbox.request_counts()
    return sum(count for host, count in counts.items() if host.endswith("dev.azure.com"))


def _without_name(text: str, name: str) -> str:
    return " ".join(text.replace(name, "ORG").split())


def test_a_stranger_starting_twenty_times_costs_a_bounded_number_of_requests(chat: Chat) -> None:
    assert chat.runtime.sandbox is not None
    chat.runtime.sandbox.request_counts(reset=True)
    replies = [text_of(chat.say(STRANGER, f"start probe-org-{n} fabrikam.com")) for n in range(20)]
    assert _devops_requests(chat) <= 3 * 6  # three look-ups at most, a handful of requests each
    assert all("is for the organization's admins" in reply for reply in replies)


def test_the_refusal_is_the_same_whether_or_not_the_organization_exists(chat: Chat) -> None:
    existing = _without_name(
        text_of(chat.say(STRANGER, "start fabrikam-fiber fabrikam.com")), "fabrikam-fiber"
    )
    missing = _without_name(text_of(chat.say(STRANGER, "start no-such-org fabrikam.com")), "no-such-org")
    assert existing == missing


def test_dotdot_never_reaches_azure_devops(chat: Chat) -> None:
    assert chat.runtime.sandbox is not None
    chat.runtime.sandbox.request_counts(reset=True)
    reply = text_of(chat.say("dana@fabrikam.com", "remove-users .. x"))
    assert "not an Azure DevOps organization name" in reply or "not a user id" in reply
    reply = text_of(chat.say("dana@fabrikam.com", "remove-users fabrikam-fiber .."))
    assert "not a user id" in reply
    assert _devops_requests(chat) == 0


@pytest.mark.parametrize("bad", ["..", "a/b", "-lead", "trail-", "x" * 51, "a b", ""])
def test_organization_names_follow_azure_devops_rules(bad: str) -> None:
    with pytest.raises(ArgumentError):
        organization_name(bad)
    assert organization_name(" fabrikam-fiber ") == "fabrikam-fiber"


def test_tenants_and_user_ids_are_checked() -> None:
    assert tenant_name("contoso.com") == "contoso.com"
    assert tenant_name("3c0a7f5e-8d2b-4f61-9a7c-5e4b2d1f0a11")
    for bad in ("..", "contoso", "a/b.com"):
        with pytest.raises(ArgumentError):
            tenant_name(bad)
    with pytest.raises(ArgumentError):
        user_id("../x")


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_the_gate_remembers_refusals_and_limits_lookups_per_person() -> None:
    clock = _Clock()
    gate = AdminGate(clock, remember=timedelta(minutes=10), limit=3, window=timedelta(hours=1))
    asked: list[str] = []

    def refuse(org: str) -> bool:
        asked.append(org)
        raise MicrosoftError("VS800075: The organization was not found.")

    for n in range(10):
        assert not gate.allows("U1", f"org-{n}", lambda n=n: refuse(f"org-{n}"))  # type: ignore[misc]
    assert len(asked) == 3  # the rest were refused without asking
    assert not gate.allows("U1", "org-0", lambda: True)  # remembered, not asked again
    assert gate.allows("U2", "org-0", lambda: True)  # another person is not affected
    clock.now += timedelta(hours=2)
    assert gate.allows("U1", "org-0", lambda: True)  # the window passed


@pytest.mark.parametrize("command", ["start", "doctor"])
@pytest.mark.parametrize("pasted", ["zq7wpatsecret" + "k3" * 19 + "a", "notadomain"])
def test_a_tenant_that_is_neither_guid_nor_domain_is_refused_unechoed_before_any_call(
    chat: Chat, command: str, pasted: str
) -> None:
    """A secret pasted where the tenant goes must not be repeated in the channel nor sent to Microsoft."""
    assert chat.runtime.sandbox is not None
    chat.runtime.sandbox.request_counts(reset=True)
    reply = text_of(chat.say("dana@fabrikam.com", f"{command} fabrikam-fiber {pasted}"))
    assert "not a tenant" in reply and "contoso.com" in reply, reply
    assert pasted not in reply
    assert sum(chat.runtime.sandbox.request_counts().values()) == 0
