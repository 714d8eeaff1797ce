"""In chat: where someone's earlier work history is, once their directory account came after the connection
and Azure DevOps shows that history mapped (console surface, real sandbox and database): their item advised
the admins to map it, and now says what Azure DevOps shows. A late invitee's is in
test_done_invitation_items."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from bot.conversation.messages import DirectMessage, Outgoing
from msapi import MicrosoftClients
from sandbox import Sandbox, parse_scenario
from tests.bot.conftest import ORG, Chat, started, text_of
from workflows.directory import DirectorySnapshot

DANA, LEE, FRANK = "dana@fabrikam.com", "lee@fabrikam.com", "frank.f@outlook.com"
MAX = "max@fabrikam.com"
"""A directory account with no entitlement, which *Resolve* may map anyone to (`sandbox._resolve`)."""
STEPS = (
    "Sign out of Azure DevOps everywhere. Open a private browser window first, go to"
    f" https://dev.azure.com/{ORG} and sign in as {FRANK}. If the people picker or work items ask you to sign"
    " in or show users as not valid, clear the browser cache and cookies, close the browser and reopen it."
)
"""The steps of Frank's *Sign in with your guest account*, before what it says of his earlier history."""


def _flat(outgoing: list[Outgoing]) -> str:
    return " ".join(text_of(outgoing).split())


def _box(chat: Chat) -> Sandbox:
    assert chat.runtime.sandbox is not None
    return chat.runtime.sandbox


def _lists_out_before_any_invitation(chat: Chat) -> None:
    started(chat)
    chat.click(LEE, chat.say(DANA, f"request-approval {ORG} anyway"), "Approve")  # nobody invited first
    chat.portal_connect()
    chat.runtime.conversation.watch()
    chat.say(DANA, f"notify {ORG}")


def _frank_found_by_invite(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lists out, then Dana's `invite`: between its read of the directory and its look-up of Frank,
    someone else invites him and he accepts, so `invite` finds his guest account (`found`), and his list
    says to sign in with it, his earlier history still to map."""
    _lists_out_before_any_invitation(chat)
    microsoft: MicrosoftClients = chat.runtime.microsoft
    tenant = str(_box(chat).state()["tenant"]["id"])
    read = microsoft.snapshot

    def invited_meanwhile(organization: str, tenant_name: str, connector: str) -> DirectorySnapshot:
        snapshot = read(organization, tenant_name, connector)
        monkeypatch.setattr(microsoft, "snapshot", read)
        redirect = f"https://dev.azure.com/{ORG}"
        microsoft.invite_guest(
            tenant, email=FRANK, display_name="Frank", message="", redirect_url=redirect, inviter=LEE
        )
        _box(chat).redeem_invitation(FRANK)
        return snapshot

    monkeypatch.setattr(microsoft, "snapshot", invited_meanwhile)
    said = _flat(chat.say(DANA, f"invite {ORG}") + chat.runtime.conversation.watch())
    assert f"{FRANK} found already in the directory" in said, said
    assert _first_item(chat, FRANK) == (
        f"{STEPS} Your earlier work history stays with your Microsoft account: to keep it yours, the"
        f" migration admins can map it to {FRANK} (Organization settings > Microsoft Entra ID > Resolve, or"
        " Microsoft Support if that fails); press I need help to ask them."
    )


def _first_item(chat: Chat, address: str, title: str = "Sign in with your guest account") -> str:
    """The body of the first item of `address`'s `todo`, `title`, unwrapped, to its link."""
    todo = _flat(chat.say(address, "todo", in_dm=True))
    found = re.search(rf" 1\. {re.escape(title)} (.*?) More: ", todo)
    assert found is not None, todo
    return found.group(1)


def _mapped(chat: Chat, shown: str, account: str, *, support: bool = False) -> list[Outgoing]:
    """The admins' *Resolve* (or Microsoft Support's mapping again) of whom Azure DevOps shows as `shown`
    to `account`, then the watch's next read: what it sent."""
    body: dict[str, object] = {"organization": ORG, "principalName": shown, "account": account}
    httpx.post(f"{_box(chat).url}/_sandbox/resolve", json={**body, "support": support}).raise_for_status()
    return chat.say(DANA, "check-sign-ins") + chat.runtime.conversation.watch()


def test_a_late_sign_in_item_says_where_azure_devops_shows_the_history_it_advised_to_map(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frank's account came after the connection, and his item advises the admins to map his earlier
    history to it. An admin maps him to Max's account instead: the watch records it, and his item no longer
    says his history stays with his Microsoft account, nor names only his own account: it says where Azure
    DevOps shows it, and he hears it, as the admins are told he did. Support then maps him to his own
    account: the item says so."""
    _frank_found_by_invite(chat, monkeypatch)
    said = _mapped(chat, FRANK, MAX)
    assert _first_item(chat, FRANK) == (
        f"{STEPS} ⚠️ Azure DevOps shows your old identity, with your earlier work history, mapped to {MAX},"
        f" not to {FRANK}: the migration admins check it with you. If {MAX} is not yours, do not sign in with"
        " it."
    )
    (told,) = [each for each in said if each.to == DirectMessage(FRANK)]
    assert _flat([told]).startswith(
        f"YOUR IDENTITY IN {ORG.upper()} IS MAPPED TO ANOTHER ACCOUNT Hi Frank, Azure DevOps now shows your"
        f" identity in {ORG} mapped to {MAX}, not to the guest account your list named. I told the migration"
        " admins, who check it with you."
    ), _flat([told])

    _mapped(chat, MAX, FRANK, support=True)
    assert _first_item(chat, FRANK) == (
        f"{STEPS} ✅ Azure DevOps shows your old identity, with your earlier work history, mapped to {FRANK}:"
        " it stays yours."
    )


ERIN = "erin.eng@gmail.com"
ACCEPT = "Accept the invitation to the directory"
"""Her open item's title."""


def test_a_late_invitee_mapped_before_she_signs_in_no_longer_reads_that_her_history_is_to_map(
    chat: Chat,
) -> None:
    """Erin is invited after connecting: her item advises the admins to map her earlier history to her guest
    account. An admin does (*Resolve*) before she has even accepted: the watch sees it as it sees those the
    plan had to map, and her still open item says where Azure DevOps shows that history, not that it is
    still to map; the admins count her among those mapped by hand."""
    _lists_out_before_any_invitation(chat)
    chat.say(DANA, f"invite {ORG}")
    steps = (
        f'Microsoft sent an invitation email from "Microsoft Invitations on behalf of" the company to {ERIN}'
        " to join Fabrikam as a guest. Open it and select Accept invitation, then sign in to"
        f" https://dev.azure.com/{ORG} with that same address. {ORG} already signs in with Fabrikam accounts:"
        " accepting gets your access back."
    )
    still = " No email? Check your spam folder, then press I need help."
    assert _first_item(chat, ERIN, ACCEPT) == (
        f"{steps} Your earlier work history stays with your Microsoft account: to keep it yours, the"
        f" migration admins can map it to your guest account {ERIN} (Organization settings > Microsoft Entra"
        f" ID > Resolve, or Microsoft Support if that fails); press I need help to ask them.{still}"
    )

    said = _flat(_mapped(chat, ERIN, ERIN))
    assert "1 person is now mapped by hand." in said, said
    assert _first_item(chat, ERIN, ACCEPT) == (
        f"{steps} ✅ Azure DevOps shows your old identity, with your earlier work history, mapped to {ERIN}:"
        f" it stays yours.{still}"
    )
    progress = _flat(chat.say(DANA, f"progress {ORG}"))
    assert f"{ERIN} {ERIN} as planned" in progress, progress


def test_the_admins_read_that_a_late_invitee_mapped_elsewhere_was_not_messaged(chat: Chat) -> None:
    """Erin, invited after connecting, is mapped to Max's account before she signs in. Her list has no
    sign-in item, so only her invitation item says where Azure DevOps shows her history: she gets no
    message of it. The admins' warning says so and asks them to tell her, not that I told her."""
    _lists_out_before_any_invitation(chat)
    chat.say(DANA, f"invite {ORG}")
    chat.runtime.conversation.watch()  # her invitation's notice
    said = _mapped(chat, ERIN, MAX)
    assert [each for each in said if each.to == DirectMessage(ERIN)] == []
    (warning,) = [each for each in said if each.to == DirectMessage(LEE)]
    assert _flat([warning]).endswith(
        "Their to-do list says what Azure DevOps shows, but I sent them no message of it: tell them, and to"
        " ask you before signing in with an account that is not theirs."
    ), _flat([warning])


def test_a_late_invitee_still_on_her_microsoft_account_is_listed_with_the_step_her_list_names(
    chat: Chat,
) -> None:
    """Before `invite`, Erin's row among those still on a Microsoft account says to invite her; once
    invited after connecting, not again: she accepts the invitation, as her list says, and the admins map
    her earlier history to her guest account, as her item advises. Nor does it vanish from their list."""
    _lists_out_before_any_invitation(chat)
    chat.say(DANA, f"invite {ORG}")
    progress = _flat(chat.say(DANA, "check-sign-ins") + chat.say(DANA, f"progress {ORG}"))
    assert f"{ERIN} invite accept, then map" in progress, progress
    assert (
        "accept, then map: invited after the connection, they accept the invitation as their list says; to"
        " keep their earlier history, map them to their guest account under Organization settings"
    ) in progress, progress
    assert "cannot sign in or their earlier history stays behind." in progress


IVAN = "ivan@fabrikam.com"
SIGN_IN = "Sign in with your work account"
"""His item's title."""


def test_an_account_made_after_the_connection_is_followed_until_its_history_is_mapped(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    """Ivan had no directory account when the organization was connected; the directory admins make one
    with his own address before `notify`, so his list has him sign in with it (nothing to map by plan)
    and advises the admins to map his earlier history to it. An admin does (*Resolve*): the watch sees it
    as it sees those the plan had to map, his item says where Azure DevOps shows that history, he hears
    it, and the admins count him among those mapped by hand."""
    users = fabrikam["tenant"]["users"]
    (his,) = [user for user in users if user["userPrincipalName"] == IVAN]
    users.remove(his)
    box.reset(parse_scenario(fabrikam))
    started(chat)
    chat.click(LEE, chat.say(DANA, f"request-approval {ORG} anyway"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    made = box.save()  # the sandbox has no route for a new directory user: its saved world is changed
    made.state.tenant["users"].append(his)
    box.restore(made)
    chat.say(DANA, f"notify {ORG}")
    chat.runtime.conversation.watch()
    advice = (
        "Your earlier work history stays with your Microsoft account: to keep it yours, the migration"
        f" admins can map it to {IVAN} (Organization settings > Microsoft Entra ID > Resolve, or Microsoft"
        " Support if that fails); press I need help to ask them."
    )
    assert _first_item(chat, IVAN, SIGN_IN).endswith(advice)
    progress = _flat(chat.say(DANA, "check-sign-ins") + chat.say(DANA, f"progress {ORG}"))
    assert f"{IVAN} auto map by hand" in progress, progress  # as his item advises

    said = _mapped(chat, IVAN, IVAN)
    assert "1 person is now mapped by hand." in _flat(said), _flat(said)
    assert _first_item(chat, IVAN, SIGN_IN).endswith(
        f"✅ Azure DevOps shows your old identity, with your earlier work history, mapped to {IVAN}: it stays"
        " yours."
    )
    assert [each.message.summary for each in said if each.to == DirectMessage(IVAN)] != []
    progress = _flat(chat.say(DANA, f"progress {ORG}"))
    assert f"{IVAN} {IVAN} as planned" in progress, progress
