"""The directory's invitation policy (allowInvitesFrom) at `start` and `doctor`, as the admins read it: it
stops a migration only when someone needs an invitation, and the fix is one that can work under it."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from bot.console.render import render
from bot.conversation import unreached_views
from bot.conversation.messages import DirectMessage
from sandbox import Sandbox, parse_scenario
from tests.bot.conftest import ORG, Chat, text_of
from workflows.plan import Check
from workflows.plan_invitations import invitation_policy_fix
from workflows.results_preparing import Unreached

DANA = "dana@fabrikam.com"
NOBODY_INVITES = (
    "2 users need a guest invitation, but the directory lets nobody invite guests, admins included"
    " (allowInvitesFrom: none). In the Microsoft Entra admin center open External Identities > External"
    " collaboration settings > Guest invite settings and choose 'Member users and users assigned to specific"
    " admin roles can invite'. Under 'No one in the organization can invite guest users' nobody can invite"
    " them, admins included, not even in the portal."
)


def _serve(box: Sandbox, scenario: dict[str, Any], policy: str) -> None:
    scenario["tenant"]["authorizationPolicy"]["allowInvitesFrom"] = policy
    box.reset(parse_scenario(scenario))


def _check_line(reply: str, code: str) -> str:
    """The check's line in a start summary, its wrapped lines joined."""
    lines = reply.splitlines()
    first = next(i for i, line in enumerate(lines) if line.lstrip("✅❌⚠️ ").startswith(f"{code}:"))
    rest = [line.strip() for line in lines[first + 1 :]]
    wrapped = rest[: next((i for i, line in enumerate(rest) if line[:1] in "✅❌⚠"), len(rest))]
    return " ".join([lines[first].strip(), *wrapped])


def test_nobody_may_invite_yet_a_migration_that_invites_nobody_starts(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    """allowInvitesFrom none, and erin and frank (the two the plan would invite) left the organization."""
    fabrikam["user_entitlements"] = [
        entitlement
        for entitlement in fabrikam["user_entitlements"]
        if entitlement["user"]["principalName"] not in ("erin.eng@gmail.com", "frank.f@outlook.com")
    ]
    _serve(box, fabrikam, "none")
    started = text_of(chat.say(DANA, f"start {ORG} fabrikam.com"))
    assert chat.state() == "planned", started
    assert (
        _check_line(started, "invite-permission") == "✅ invite-permission: Nobody needs a guest invitation."
    )
    doctor = text_of(chat.say(DANA, f"doctor {ORG} fabrikam.com"))
    assert doctor.splitlines()[0].strip() == (
        "Every check passes: these credentials can do everything the migration needs."
    )
    assert _check_line(doctor, "`graph-invite`").startswith(
        "⚠️ `graph-invite`: User.Invite.All is granted, but the directory lets nobody invite guests, admins"
        " included (allowInvitesFrom: none). That matters only if someone needs a guest invitation: the"
        " plan's invite-permission check says."
    )


def test_nobody_may_invite_and_two_need_it_the_plan_blocks_with_the_setting_as_its_fix(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    _serve(box, fabrikam, "none")
    started = text_of(chat.say(DANA, f"start {ORG} fabrikam.com"))
    assert chat.state() == "blocked", started
    assert _check_line(started, "invite-permission") == f"❌ invite-permission: {NOBODY_INVITES}"
    assert "Guest Inviter" not in started and "signin" not in started  # neither can invite under `none`


def test_the_app_sends_the_invitations_so_whoever_connects_needs_no_right_to_invite(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    """Members may invite, the bot's app too (AZURE_AUTH=app); Dana is only a guest of the directory,
    with no role: the contract's check is hers (a guest is no member), the app's is the extension's."""
    dana = next(user for user in fabrikam["tenant"]["users"] if user["userPrincipalName"] == DANA)
    dana["userType"] = "Guest"
    fabrikam["tenant"]["directoryRoles"] = {}
    _serve(box, fabrikam, "adminsGuestInvitersAndAllMembers")
    started = text_of(chat.say(DANA, f"start {ORG} fabrikam.com"))
    assert _check_line(started, "invite-permission").startswith(
        "❌ invite-permission: 2 users need a guest invitation but Dana may not invite guests"
        " (allowInvitesFrom: adminsGuestInvitersAndAllMembers)."  # in the channel, by name (walk39 d)
    )
    assert _check_line(started, "app-invite-permission").startswith(
        "✅ app-invite-permission: The bot's app may send the 2 invitations needed"
        " (allowInvitesFrom: adminsGuestInvitersAndAllMembers)."
    )


def test_a_guest_inviter_may_invite_yet_the_bot_s_app_may_not_so_only_that_blocks_and_anyway_gets_past(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    """adminsAndGuestInviters, Dana a Guest Inviter: the contract's check passes on her role; Microsoft
    refuses the bot's app all the same, so `app-invite-permission` fails and is treated as the invitation
    check it is: the one failure, `request-approval` refused but for `anyway`."""
    fabrikam["tenant"]["directoryRoles"] = {DANA: ["Guest Inviter"]}
    _serve(box, fabrikam, "adminsAndGuestInviters")
    started = text_of(chat.say(DANA, f"start {ORG} fabrikam.com"))
    assert chat.state() == "blocked", started
    assert _check_line(started, "invite-permission") == (
        "✅ invite-permission: Dana may invite the 2 guests needed"
        " (allowInvitesFrom: adminsAndGuestInviters)."
    )
    assert _check_line(started, "app-invite-permission").startswith(
        "❌ app-invite-permission: 2 users need a guest invitation, which the bot's app sends; Microsoft"
        " refuses invitations from an app when allowInvitesFrom is adminsAndGuestInviters."
    )
    plain = " ".join(text_of(chat.say(DANA, "request-approval")).split())
    assert plain.startswith(
        f"{ORG} is blocked only because nobody may invite the people without a directory account"
        " (erin.eng@gmail.com, frank.f@outlook.com)."
    ), plain
    anyway = chat.say(DANA, f"request-approval {ORG} anyway")
    assert chat.state() == "awaiting_approval"
    prompt = " ".join(text_of([m for m in anyway if isinstance(m.to, DirectMessage)]).split())
    uninvited = "someone allowed to invite guests invites them (2): erin.eng@gmail.com, frank.f@outlook.com"
    assert uninvited in prompt
    assert "❌ app-invite-permission: 2 users need a guest invitation" in prompt
    approved = chat.click("lee@fabrikam.com", anyway, "Approve")
    assert chat.state() == "connecting", text_of(approved)


def test_nobody_may_invite_so_request_approval_anyway_connects_without_the_two_and_the_reason_shows_once(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    """The documented way to connect without the people nobody can invite (walk25 finding 15)."""
    _serve(box, fabrikam, "none")
    started = text_of(chat.say(DANA, f"start {ORG} fabrikam.com"))
    assert " ".join(started.split()).count("nobody can invite them") == 1
    status = text_of(chat.say(DANA, f"status {ORG}"))
    assert " ".join(status.split()).count("nobody can invite them") == 1
    assert "Fix:" not in status
    for reply in (status, text_of(chat.say(DANA, f"plan {ORG}"))):  # nobody may invite them: not the way in
        plain = " ".join(reply.split())
        assert "2 users lose access unless the directory's invitation settings change" in plain
        assert "unless invited" not in plain and "someone allowed to invite" not in plain

    plain = " ".join(text_of(chat.say(DANA, "request-approval")).split())
    assert plain.startswith(
        f"{ORG} is blocked only because nobody may invite the people without a directory account"
        " (erin.eng@gmail.com, frank.f@outlook.com)."
    )
    assert f"say `request-approval {ORG} anyway`" in plain and chat.state() == "blocked"

    anyway = chat.say(DANA, f"request-approval {ORG} anyway")
    assert chat.state() == "awaiting_approval"
    prompt = " ".join(text_of([m for m in anyway if isinstance(m.to, DirectMessage)]).split())
    assert (
        "Will lose access unless the directory's invitation settings change (2): erin.eng@gmail.com,"
        " frank.f@outlook.com"
    ) in prompt
    assert "unless invited" not in prompt and "someone allowed to invite" not in prompt
    assert "❌ invite-permission: 2 users need a guest invitation" in prompt
    approved = chat.click("lee@fabrikam.com", anyway, "Approve")
    assert chat.state() == "connecting", text_of(approved)


@pytest.mark.parametrize(
    ("policy", "words"),
    [
        ("everyone", "2 to invite"),
        ("none", "2 lose access unless the directory's invitation settings change"),  # no way in to promise
    ],
)
def test_the_line_counting_the_groups_says_inviting_is_no_way_in_while_nobody_may_invite(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any], policy: str, words: str
) -> None:
    """The plan's one-line summary (notifications) and the App Home's row word those to invite as the plan
    does (`plan_views.outcome_words`)."""
    _serve(box, fabrikam, policy)
    chat.say(DANA, f"start {ORG} fabrikam.com")
    (plan,) = [m for m in chat.say(DANA, f"plan {ORG}") if m.message.summary.startswith("Plan for")]
    home = " ".join(render(chat.runtime.conversation.home(chat.person(DANA))).split())
    for line in (plan.message.summary, home):
        assert f", {words}" in line, line
        assert ("to invite" in line) == (policy == "everyone"), line


def _notice_to_erin(chat: Chat) -> str:
    """The advance notice Erin, who has no directory account, gets from `announce`."""
    told = chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    to_erin = [m for m in told if isinstance(m.to, DirectMessage) and "erin.eng@gmail.com" in m.to.addresses]
    return " ".join(text_of(to_erin).split())


def test_nobody_may_invite_so_the_advance_notice_promises_the_uninvited_no_invitation(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    _serve(box, fabrikam, "none")
    chat.say(DANA, f"start {ORG} fabrikam.com")
    to_erin = _notice_to_erin(chat)
    assert (
        "You have no account in Fabrikam, and its settings let nobody invite guests for now: unless they"
        " change, you lose access after the change (your history is kept). The migration admins"
        " (dana@fabrikam.com, lee@fabrikam.com) know; ask them."
    ) in to_erin
    assert "you will get an invitation email" not in to_erin


def test_only_guest_inviters_may_invite_so_the_plan_and_the_notice_name_them_as_a_way_in(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    """adminsAndGuestInviters: Microsoft refuses the bot's app, yet a Guest Inviter may still invite them."""
    _serve(box, fabrikam, "adminsAndGuestInviters")
    chat.say(DANA, f"start {ORG} fabrikam.com")
    plan = " ".join(text_of(chat.say(DANA, f"plan {ORG}")).split())
    assert (
        "2 users lose access unless the directory's invitation settings change or someone allowed to invite"
        " guests invites them"
    ) in plan
    to_erin = _notice_to_erin(chat)
    assert (
        "You have no account in Fabrikam, and the migration admins may not invite you as a guest for now:"
        " unless its invitation settings change or someone allowed to invite guests invites you, you lose"
        " access after the change (your history is kept)."
    ) in to_erin


@pytest.mark.parametrize(
    ("policy", "said"),
    [
        ("none", "loses access unless the directory's invitation settings change)"),
        (
            "adminsAndGuestInviters",
            "loses access unless the directory's invitation settings change or someone allowed to invite"
            " guests invites them)",
        ),
    ],
)
def test_whom_the_notice_missed_are_said_to_lose_access_as_the_invitation_policy_has_it(
    policy: str, said: str
) -> None:
    check = Check(
        "invite-permission", "fail", "2 users need a guest invitation.", invitation_policy_fix(policy), policy
    )
    missed = unreached_views.unreached_lines(
        [Unreached("erin.eng@gmail.com", "invite", "no chat account")], [check]
    )
    assert f"• erin.eng@gmail.com ({said} — when the notice went out: no chat account" in missed


def test_everyone_the_notice_missed_is_in_a_csv_when_the_message_cannot_name_them_all() -> None:
    """walk30: at 20,000 people the notice missed 1,689; the message named ten, "…and 1679 more", asking the
    admins to email "these addresses", with no way to get the rest."""
    check = Check("invite-permission", "fail", "2 users need a guest invitation.", "", "everyone")
    missed = [Unreached(f"user{n}@fabrikam.com", "auto", "no chat account") for n in range(30)]
    missed.append(Unreached("erin.eng@gmail.com", "invite", "no chat account"))
    lines = unreached_views.unreached_lines(missed, [check])
    assert lines.splitlines()[1].startswith("• erin.eng@gmail.com (")  # who must act first
    assert (
        lines.splitlines()[-1]
        == f"…and {len(missed) - unreached_views.AFFECTED_NAMES} more in the attached CSV"
    )
    [attached] = unreached_views.unreached_csv(missed, [check], ORG)
    rows = list(csv.reader(io.StringIO(attached.content)))
    assert attached.filename == f"not-reached-{ORG}.csv"
    assert rows[0] == ["email", "what happens to them", "why the notice could not reach them"]
    assert [row[0] for row in rows[1:]] == ["erin.eng@gmail.com"] + [
        f"user{n}@fabrikam.com" for n in range(30)
    ]
    assert unreached_views.unreached_csv(missed[:3], [check], ORG) == []  # all named in the message
