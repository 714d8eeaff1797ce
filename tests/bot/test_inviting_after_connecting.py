"""In chat: nobody left behind after connecting (console surface, real sandbox and database)."""

from __future__ import annotations

import re

import httpx

from bot.conversation.messages import DirectMessage, Outgoing, Reply, Text
from sandbox import Sandbox
from tests.bot.conftest import ORG, Chat, started, text_of

DANA, LEE, ERIN = "dana@fabrikam.com", "lee@fabrikam.com", "erin.eng@gmail.com"


def replies(outgoing: list[Outgoing]) -> list[Outgoing]:
    """The answer to the admin who typed it, not the channel's count."""
    return [m for m in outgoing if isinstance(m.to, Reply)]


def _raw(outgoing: list[Outgoing]) -> str:
    return "\n".join(b.markdown for m in outgoing for b in m.message.blocks if isinstance(b, Text))


def test_someone_left_out_at_connecting_is_invited_told_and_verified(chat: Chat) -> None:
    started(chat)
    chat.click(LEE, chat.say(DANA, f"request-approval {ORG} anyway"), "Approve")  # nobody invited first
    chat.portal_connect()
    chat.runtime.conversation.watch()
    lists = {m.to.email: text_of([m]) for m in chat.say(DANA, "notify") if isinstance(m.to, DirectMessage)}
    assert "Ask for an account in the directory" in lists[ERIN]
    progress = text_of(chat.say(DANA, "check-sign-ins") + chat.say(DANA, "progress"))
    erin_row = [line for line in progress.splitlines() if line.strip().startswith(ERIN)][-1]
    assert erin_row.split()[-3:] == ["invite,", "then", "map"]  # short; in full below
    assert "invite then map: invite them as a guest (`invite`)" in " ".join(progress.replace(",", "").split())

    invited = chat.say(DANA, "invite")
    reply = _raw([m for m in invited if not isinstance(m.to, DirectMessage)])
    assert "2 invited." in reply and "I changed 2 to-do lists to say what each now needs" in reply
    assert chat.state() == "users_notified"
    told = [m for m in invited + chat.runtime.conversation.watch() if m.to == DirectMessage(ERIN)]
    assert len(told) == 1
    assert "the migration admins invited you as a guest" in _raw(told)
    assert "Accept the invitation to the directory" in text_of(told)
    assert "Recreate your personal access tokens" in text_of(told)  # a new guest identity
    assert "admins can map it to your guest account" in _raw(told)
    accept, *others = told[0].message.buttons  # her own link to accept it comes first
    sent = chat.runtime.sandbox.state()["tenant"]["invitations"]  # type: ignore[union-attr]
    assert [i["inviteRedeemUrl"] for i in sent if i["invitedUserEmailAddress"] == ERIN] == [accept.url]
    assert accept.label == "Accept the invitation"
    assert [button.label for button in others] == ["Done", "I need help"] * 2

    answer = httpx.post(
        f"{chat.runtime.sandbox.url}/_sandbox/signin",  # type: ignore[union-attr]
        json={"organization": ORG, "principalName": ERIN},
    )
    answer.raise_for_status()  # the guest account the invitation created lets her in
    assert "1 signed in with their guest account" in _raw(chat.say(DANA, "check-sign-ins"))
    erin = chat.runtime.service.todo_list(ERIN)
    assert [entry.key for entry in erin if entry.done_at] == ["accept-invitation"]


def test_the_start_of_an_organization_already_connected_says_so_in_one_line(chat: Chat) -> None:
    chat.portal_connect()
    started = chat.say(DANA, f"/aad start {ORG} fabrikam.com")
    summary = _raw(started)
    assert chat.state() == "connected"
    assert (
        "Already connected to Fabrikam, so nothing is left to approve or click. 2 people have no directory"
        " account and cannot sign in until invited: `invite` them first, then `notify` sends everyone their"
        " own to-do list."
    ) in summary
    assert "lose access unless invited" not in text_of(started) and "`rehearse`" not in summary
    labels = [button.label for button in started[0].message.buttons]
    assert labels == ["Send users their to-do lists", "Invite missing users"]


def _labels(outgoing: list[Outgoing]) -> list[str]:
    return [button.label for message in outgoing for button in message.message.buttons]


def test_invite_missing_users_is_offered_only_while_someone_needs_an_invitation(chat: Chat) -> None:
    started = chat.say(DANA, f"/aad start {ORG} fabrikam.com")
    assert "Invite missing users" in _labels(started)
    invited = chat.say(DANA, "invite")
    assert chat.state() == "planned" and "Request approval" in _labels(invited)
    assert "Invite missing users" not in _labels(invited + chat.say(DANA, "status"))
    chat.click(LEE, chat.say(DANA, "request-approval"), "Approve")
    chat.portal_connect()
    connected = chat.runtime.conversation.watch() + chat.say(DANA, "status")
    assert chat.state() == "connected" and "Send users their to-do lists" in _labels(connected)
    assert "Invite missing users" not in _labels(connected)


def test_someone_invited_before_a_403_after_connecting_is_told_at_once(chat: Chat) -> None:
    """Dana's `invite` after the lists went out invites Erin, then the directory refuses Frank (its
    settings changed): Erin's list says to accept her invitation now, not at the next `invite`."""
    started(chat)
    chat.click(LEE, chat.say(DANA, f"request-approval {ORG} anyway"), "Approve")  # nobody invited first
    chat.portal_connect()
    chat.runtime.conversation.watch()
    chat.say(DANA, "notify")
    sandbox = chat.runtime.sandbox
    assert sandbox is not None
    sandbox.set_faults(invitation_faults=["ok", "403"])

    refused = chat.say(DANA, "invite")
    told = [m for m in refused + chat.runtime.conversation.watch() if m.to == DirectMessage(ERIN)]
    assert [m.message.summary for m in told] == [f"You are invited to Fabrikam: {ORG} is open to you again"]
    assert _raw(told).startswith(
        "Hi Erin, the migration admins invited you as a guest of Fabrikam, so you can sign in to"
        f" {ORG} again."
    )
    erin = chat.runtime.service.todo_list(ERIN)
    assert erin[0].key == "accept-invitation"

    said = re.sub(
        r"after \d{4}-\d\d-\d\d \d\d:\d\d UTC", "after HH:MM UTC", _raw(replies(refused)).splitlines()[0]
    )
    assert said == (  # the app sends the invitations: the refusal is the app's, not Dana's (walk 37, 8)
        "Microsoft Entra ID refused to let the bot's app invite guests (403 Forbidden). In the Microsoft"
        " Entra admin center check that the app's User.Invite.All permission has admin consent (App"
        " registrations > API permissions), that External Identities > External collaboration settings"
        " lets members invite guests (Microsoft refuses an app's invitations when only admins may) and does"
        " not block the guests' domains (Collaboration restrictions), and that External Identities >"
        " Cross-tenant access settings does not block their organizations. Changes take 15-60 minutes to"
        " apply; then run `invite` again. Re-check after HH:MM UTC. I changed the to-do list of 1 person"
        " invited before the refusal; my message telling them is on its way."
    )
    assert _raw(replies(refused)).count("External collaboration settings") == 1  # the fix, once

    sandbox.set_faults()
    again = chat.say(DANA, "invite") + chat.runtime.conversation.watch()  # Frank's turn
    assert [m for m in again if m.to == DirectMessage(ERIN)] == []  # Erin is not told twice


def _lists_out(chat: Chat) -> Sandbox:
    """Connected with nobody invited first, and everyone's list out: the sandbox serving it."""
    started(chat)
    chat.click(LEE, chat.say(DANA, f"request-approval {ORG} anyway"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    chat.say(DANA, f"notify {ORG}")
    assert chat.runtime.sandbox is not None
    return chat.runtime.sandbox


def _nobody_may_invite(box: Sandbox) -> None:
    """The directory's guest invite settings tightened to let nobody invite (allowInvitesFrom: none): the
    sandbox has no route for them, so its saved world is changed and served again."""
    tightened = box.save()
    tightened.state.tenant["authorizationPolicy"]["allowInvitesFrom"] = "none"
    box.restore(tightened)


def test_invite_with_nobody_left_to_invite_is_not_refused_by_a_setting_tightened_since(chat: Chat) -> None:
    """Dana invites Erin and Frank after the lists went out; minutes later, before Microsoft's directory
    search shows their guest accounts, the guest invite settings are tightened to let nobody invite. Her
    next `invite` finds nobody to invite: it says so, and that the setting would refuse a later invitation,
    not that the directory refused this one, and the migration waits for nothing."""
    box = _lists_out(chat)
    box.set_faults(directory_lag=600)  # the search shows a new guest ten minutes after the invitation
    assert "2 invited." in _raw(chat.say(DANA, f"invite {ORG}"))
    _nobody_may_invite(box)

    said = re.sub(
        r"at \d{4}-\d\d-\d\d \d\d:\d\d UTC", "at HH:MM UTC", _raw(replies(chat.say(DANA, f"invite {ORG}")))
    )
    assert said.splitlines()[0] == (
        "Nobody needs an invitation now: you invited 2 people at HH:MM UTC. Should someone need an invitation"
        " later, the directory would refuse it (allowInvitesFrom: none): In the Microsoft Entra admin center"
        " open External Identities > External collaboration settings > Guest invite settings and choose"
        " 'Member users and users assigned to specific admin roles can invite'. Under 'No one in the"
        " organization can invite guest users' nobody can invite them, admins included, not even in the"
        " portal."
    ), said
    assert chat.state() == "users_notified"


def test_a_setting_that_lets_nobody_invite_says_its_fix_once(chat: Chat) -> None:
    """After connecting, Erin and Frank still need an invitation and the directory lets nobody invite: the
    answer says what to change, once, then when to try again (the bot's app sends the invitations, and its
    check leaves the fix to invite-permission, which `invite` does not show)."""
    box = _lists_out(chat)
    _nobody_may_invite(box)

    said = _raw(replies(chat.say(DANA, f"invite {ORG}"))).splitlines()[0]
    assert said.startswith(
        "2 users need a guest invitation, which the bot's app may not send either (allowInvitesFrom: none):"
        " invite-permission says what changes that. In the Microsoft Entra admin center open External"
        " Identities > External collaboration settings > Guest invite settings"
    ), said
    assert said.count("Guest invite settings") == 1, said
    assert "not even in the portal. Changes take 15-60 minutes to apply; then run `invite` again." in said


def test_status_after_a_setting_that_lets_nobody_invite_names_the_setting_as_the_fix(chat: Chat) -> None:
    """The refusal above, read later in `status`: its fix line names the setting to change, not only when
    a change applies (the bot's app's check leaves its fix to invite-permission)."""
    box = _lists_out(chat)
    _nobody_may_invite(box)
    chat.say(DANA, f"invite {ORG}")

    shown = _raw(replies(chat.say(DANA, f"status {ORG}")))
    (fix,) = [line for line in shown.splitlines() if line.startswith("Fix: ")]
    assert fix.startswith(
        "Fix: In the Microsoft Entra admin center open External Identities > External collaboration settings"
        " > Guest invite settings"
    ), fix
    assert fix.endswith("Changes take 15-60 minutes to apply; then run `invite` again."), fix
