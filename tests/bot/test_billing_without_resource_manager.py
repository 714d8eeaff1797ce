"""`check-billing` in a tenant without Azure Resource Manager (Entra's AADSTS500011 for it, rev77 4): such a
tenant holds no Azure subscription, so the one billing the organization is not in it yet. The admin reads
that, with the two ways to move it, not a failed read to try again that fails alike."""

from __future__ import annotations

from sandbox import Sandbox
from tests.bot.conftest import DANA, ORG, Chat, notified, text_of


def test_check_billing_without_resource_manager_says_the_subscription_is_not_there_and_how_to_move_it(
    chat: Chat, box: Sandbox
) -> None:
    notified(chat)
    box.set_faults(sign_in_refusal=500011)
    box.revoke_tokens()  # the Resource Manager token the preflight had: asked for again, and refused
    answer = " ".join(text_of(chat.say(DANA, "check-billing")).split())  # as read, not as wrapped
    subscription = chat.runtime.microsoft.organization(ORG).billing_subscription_id
    assert "could not read" not in answer and "Try again" not in answer, answer
    assert (
        f"Billing subscription {subscription} is not in Fabrikam: Microsoft Entra ID says Fabrikam has no"
        " Azure Resource Manager, which every directory that holds an Azure subscription has." in answer
    ), answer
    assert "Subscriptions > Change directory" in answer and "Organization settings > Billing" in answer
    assert "Then run `check-billing` again." in answer
    assert chat.state() == "users_notified"  # not confirmed: the reminders go on
