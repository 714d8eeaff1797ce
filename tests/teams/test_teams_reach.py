"""Who a to-do list can reach in Teams: people who cannot read Teams in the tenant are counted as not
reachable, with why and the address to write to, until they can; someone the plan could not match to one
directory account is reached, and known, at the accounts it found for them."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from bot.delivery.reports import refresh_reports
from tests.teams.conftest import ORGANIZATION, Teams, approval_requested, connect, lists_sent, texts
from workflows.progress import UserProgress
from workflows.results import Actor

DANA = "dana@fabrikam.com"
ERIN, FRANK, GUS = "erin.eng@gmail.com", "frank.f@outlook.com", "gus@fabrikam.com"
IVAN = "ivan@fabrikam.com"  # blocked the bot (tests/teams/conftest.py)
ERIN_GUEST = "erin.eng_gmail.com#EXT#@fabrikam.onmicrosoft.com"
HANA, HANA_MEMBER, HANA_GUEST = (
    "hana@contoso.com",
    "hana.hart@fabrikam.com",
    "hana_contoso.com#EXT#@fabrikam.onmicrosoft.com",
)
NOT_ACCEPTED = "has not accepted the invitation yet: cannot see Teams messages in this tenant"
DISABLED = "has a disabled directory account: cannot sign in to Teams"


def _rows(teams: Teams) -> dict[str, UserProgress]:
    return {user.email: user for user in teams.runtime.tracking.progress(ORGANIZATION).users}


def _directory_user(teams: Teams, upn: str) -> dict[str, Any]:
    users = teams.runtime.sandbox.state()["tenant"]["users"]  # type: ignore[union-attr]
    return next(user for user in users if user["userPrincipalName"] == upn)


def test_invitees_who_have_not_accepted_and_disabled_people_are_not_reached_until_they_can_be(
    teams: Teams,
) -> None:
    connect(teams)
    lists_sent(teams, DANA)  # the organization found connected, the missing people invited after
    assert _directory_user(teams, ERIN_GUEST)["externalUserState"] == "PendingAcceptance"

    # Nothing went where they cannot look, and the admins are told so, with why and where to write
    assert teams.personal(ERIN_GUEST) == [] and teams.personal(GUS) == []
    rows = _rows(teams)
    assert [(rows[who].delivery, rows[who].delivery_error) for who in (ERIN, FRANK, GUS, IVAN)] == [
        ("not-in-chat", NOT_ACCEPTED),
        ("not-in-chat", NOT_ACCEPTED),
        ("not-in-chat", DISABLED),
        ("not-in-chat", "they blocked the bot in Teams (ConversationBlockedByUser)"),
    ]
    report = teams.said(DANA, f"progress {ORGANIZATION}")
    row = (
        f"{ERIN}\nitems done: 0 of 3 · signed in: not yet · to-do list: not in chat · reason: {NOT_ACCEPTED}"
    )
    assert row in report, report

    # Erin accepts (her first sign-in redeems the invitation): once the bot sees the sign-in, her list goes
    httpx.post(
        f"{teams.url}/_sandbox/signin", json={"organization": ORGANIZATION, "principalName": ERIN}
    ).raise_for_status()
    teams.say(DANA, f"check-sign-ins {ORGANIZATION}")
    teams.deliver_outbox()
    erins = sorted(texts(entry) for entry in teams.personal(ERIN_GUEST))  # sent side by side: any order
    assert len(erins) == 2 and erins[1].startswith(f"Your to-do list for {ORGANIZATION}\n"), erins
    assert erins[0].startswith(f"Hi Erin, I can see you signed in to {ORGANIZATION} with your guest"), erins
    rows = _rows(teams)
    assert (rows[ERIN].delivery, rows[GUS].delivery, rows[GUS].delivery_error) == (
        "sent",
        "not-in-chat",
        DISABLED,
    )
    # the others stay listed; `retry-failed` tries them again (Frank, Gus, and Ivan who blocked the bot)
    retried = teams.said(DANA, f"retry-failed {ORGANIZATION}")
    assert (
        f"Queued again 3 to-do lists of {ORGANIZATION} that failed or may not have arrived; sending now."
        in (" ".join(retried.split()))
    )


def test_teams_refuses_people_who_cannot_use_it_in_the_tenant(teams: Teams) -> None:
    gus = _directory_user(teams, GUS)
    refused = httpx.post(f"{teams.url}/_sandbox/teams/message", json={"from": GUS, "text": "todo"})
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": "'gus@fabrikam.com' cannot use Teams in this tenant: the account is disabled"},
    )
    token = httpx.post(
        f"{teams.url}/login.microsoftonline.com/{teams.settings.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": teams.settings.app_id,
            "client_secret": teams.settings.password,
            "scope": "https://api.botframework.com/.default",
        },
    ).json()["access_token"]
    created = httpx.post(
        f"{teams.url}/smba.trafficmanager.net/amer/v3/conversations",
        json={"members": [{"id": gus["id"]}], "isGroup": False},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert (created.status_code, created.json()["error"]) == (
        403,
        {"code": "ServiceError", "message": "Failure due to: AclCheckFailed."},
    )


def test_a_person_with_two_matching_accounts_gets_her_list_and_is_known_by_either(teams: Teams) -> None:
    connect(teams)
    lists_sent(teams, DANA)

    # Her list reached the account she works in (the member one), not the guest one
    (hers,) = teams.personal(HANA_MEMBER)
    assert "Tell the admins which work account is yours" in texts(hers)
    assert teams.personal(HANA_GUEST) == []
    assert _rows(teams)[HANA].delivery == "sent"

    # Writing from that account, her list is hers: todo, done
    assert "Tell the admins which work account is yours" in teams.said(HANA_MEMBER, "todo", channel=False)
    ticked = teams.click(HANA_MEMBER, hers["id"], "Done").json()
    assert ticked["status"] == 200 and "There is no item" not in texts({"attachments": [ticked["body"]]})
    # ...and so is the other account the plan found for her
    guest = _directory_user(teams, HANA_GUEST)
    assert (
        teams.runtime.service.standing_of(ORGANIZATION, Actor(guest["id"], HANA_GUEST, "Hana")).outcome
        == "ambiguous"
    )


def test_the_approval_card_shows_invitees_still_to_accept_apart_from_who_keeps_access(teams: Teams) -> None:
    channel = approval_requested(teams, DANA)
    lines = texts(channel).splitlines()
    (keep,) = [line for line in lines if line.startswith("**Keep access**")]
    assert ERIN not in keep and FRANK not in keep
    # the channel's card counts them: their names are their addresses (the approvers' copies name them)
    assert (
        "**Invited, still to accept** (no access from the switch until they accept the invitation, 2)"
        in lines
    )


def refresh_report(teams: Teams) -> None:
    """What the worker does beside a server once a batch of the migration's messages settled (`drain` in a
    test ends before the refresh it started does)."""

    async def refresh() -> None:
        surface = teams.surface()
        try:
            await refresh_reports(teams.runtime.tracking, {ORGANIZATION}, lambda _: surface.delivery)
        finally:
            await surface.aclose()

    asyncio.run(refresh())


def test_the_advance_notice_says_in_the_channel_in_status_and_in_the_approval_whom_it_could_not_reach(
    teams: Teams,
) -> None:
    """Before connecting (walk25 finding 1): the notice's outcomes are the same records as the lists'."""
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    teams.say(DANA, f"invite {ORGANIZATION}")
    teams.deliver_outbox()
    teams.say(DANA, f"announce {ORGANIZATION} Friday 14:00 UTC")
    assert teams.deliver_outbox() == 10  # not Gus, whose only directory account is disabled: he left
    before = len(teams.activities())
    refresh_report(teams)
    channel = [
        texts(e) for e in teams.activities()[before:] if e["conversation"]["conversationType"] == "channel"
    ]
    report = " ".join(" ".join(channel).split())
    assert "Advance notice of fabrikam-fiber" in report and "3 could not be reached." in report, channel
    # the channel counts them (people's names are their addresses); an admin's `status` in private names them
    assert "An admin's **status** in a direct message with me names them." in report and ERIN not in report
    in_channel = " ".join(teams.said(DANA, f"status {ORGANIZATION}").split())
    assert "3 could not be reached." in in_channel and ERIN not in in_channel
    status = " ".join(teams.said(DANA, f"status {ORGANIZATION}", channel=False).split())
    assert "3 could not be reached" in status and f"{ERIN} (invited, still to accept" in status
    assert NOT_ACCEPTED in status and f"{GUS} (" not in status
    prompt = " ".join(teams.said(DANA, f"request-approval {ORGANIZATION}").split())
    assert "The advance notice could not reach them in chat" in prompt and "Nobody in" not in prompt


def test_someone_invited_after_the_notice_missed_them_is_named_with_when_the_reason_held(
    teams: Teams,
) -> None:
    """The notice found no directory account for Erin; `invite` then gave her one. The approval prompt's
    line says what happens to her now and that the reason was the notice's (walk28 problem 12)."""
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    teams.say(DANA, f"announce {ORGANIZATION} Friday 14:00 UTC")
    teams.deliver_outbox()
    teams.say(DANA, f"invite {ORGANIZATION}")
    teams.deliver_outbox()
    prompt = teams.said(DANA, f"request-approval {ORGANIZATION}").splitlines()
    [erin] = [line for line in prompt if line.startswith(f"- {ERIN} ")]
    assert erin == (
        f"- {ERIN} (invited, still to accept: no access from the switch until they accept) — when the"
        f" notice went out: no directory user with the sign-in name {ERIN}"
    )
