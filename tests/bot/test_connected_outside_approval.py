"""walk33 findings 1, 3 and 14: someone clicks Connect in the portal before the approval lets them, and the
watch notices it at its next look (recorded as its own event, nobody's approval, every admin told at once
what happened, who is locked out and what to do); once connected, admins hear at once whom to map by hand
and to which account; `status` after a rejection says who rejected, when and why."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.conversation.messages import Channel, DirectMessage, Outgoing, Reply
from storage import Approval
from tests.bot.conftest import DANA, LEE, ORG, Chat, approved, connected, started, text_of
from workflows.stages.admins import Administrators

URGENT = "🚨 fabrikam-fiber was connected to Fabrikam outside the approval"
CONFIRMED = (
    "🎉 fabrikam-fiber is now connected to Fabrikam. Next: send every affected user their own to-do list."
)
LOCKED_OUT = (
    "Locked out now:"
    " • erin.eng@gmail.com, frank.f@outlook.com (2) — no directory account: `invite` them now"
    " • gus@fabrikam.com, hana@contoso.com (2) — disabled or ambiguous account: decide for them (`plan`"
    " shows their choices)"
)
DO_NOW = (
    "Do this now: send everyone their own to-do list, which tells each person how to get back in:"
    " `notify fabrikam-fiber`."
)
TO_MAP = "• carol.w@outlook.com → carol@fabrikam.com • kim@fabrikam-old.com → kim@fabrikam.com"
EVERYONE_NAMED = (
    "erin.eng@gmail.com",
    "frank.f@outlook.com",
    "gus@fabrikam.com",
    "hana@contoso.com",
    "carol.w@outlook.com",
    "carol@fabrikam.com",
    "kim@fabrikam-old.com",
    "kim@fabrikam.com",
)
LOCKED_OUT_COUNTED = (
    "Locked out now: • 2 users — no directory account: `invite` them now • 2 users — disabled or ambiguous"
    " account: decide for them (`plan` shows their choices)"
)
MAP_COUNTED = (
    "🔗 Map by hand now (2), so they keep access and history: map each one to their directory account under"
    " Organization settings > Microsoft Entra ID"
)
SENT_TO_ADMINS = (
    "📬 Who is locked out and whom to map by hand goes to each of the 2 admins (owner and Project Collection"
    " Administrators) by direct message: people's names are their addresses, which are not for the whole"
    " channel. If yours does not arrive, ask me `plan fabrikam-fiber` in a direct message for everyone."
)


def said(outgoing: list[Outgoing]) -> str:
    return " ".join(text_of(outgoing).split())


def urgent(outgoing: list[Outgoing]) -> list[Outgoing]:
    return [message for message in outgoing if message.message.summary == URGENT]


def recorded_outside_the_approval(chat: Chat) -> None:
    """Connected, by the bot's own event that names nobody's approval, and approval #1, waiting, void."""
    assert chat.state() == "connected"
    entry = chat.runtime.service.audit_trail(ORG)[-1]
    assert (entry.action, entry.actor_id, entry.state_before, entry.state_after) == (
        "connected_outside_approval",
        "aadbot",
        "awaiting_approval",
        "connected",
    )
    assert entry.details["approved_by"] is None and entry.details["approval_id"] == 1
    with chat.runtime.database.session() as session:
        assert session.exec(select(Approval.status)).all() == ["void"]


def requested_anyway(chat: Chat) -> None:
    """Walk33's repro: nobody invited, approval requested anyway, so Erin and Frank lose access."""
    started(chat)
    chat.say(DANA, "request-approval anyway")


def test_a_click_in_the_portal_while_the_approval_waits_is_recorded_apart_and_every_admin_hears_at_once(
    chat: Chat,
) -> None:
    requested_anyway(chat)
    looked = said(chat.say(DANA, "check-connection"))  # it looks rather than refuses, and says what it found
    assert looked.startswith(
        "fabrikam-fiber is not connected to a directory yet; the migration is awaiting approval. I keep"
        " watching: should someone connect it in the portal, every admin hears at once."
    )
    assert chat.state() == "awaiting_approval"

    chat.portal_connect()
    told = chat.runtime.conversation.watch()

    recorded_outside_the_approval(chat)
    alarms = urgent(told)
    assert len(alarms) == 3
    assert {message.to.email for message in alarms if isinstance(message.to, DirectMessage)} == {DANA, LEE}
    assert sum(isinstance(message.to, Channel) for message in alarms) == 1
    (in_channel,) = [message for message in alarms if isinstance(message.to, Channel)]
    for alarm in alarms:
        text = said([alarm])
        assert (
            "Someone connected fabrikam-fiber to Fabrikam in the portal while approval #1 was still waiting"
            " (it is void now). Nobody approved it and I did not authorise it: I recorded it as connected"
            " outside the approval."
        ) in text
        assert DO_NOW in text
        assert (alarm.message.buttons[0].action, alarm.message.buttons[0].value) == ("notify", ORG)
        if alarm is in_channel:  # counts, and where the names went: their names are their addresses
            assert LOCKED_OUT_COUNTED in text and MAP_COUNTED in text and SENT_TO_ADMINS in text
            assert [address for address in EVERYONE_NAMED if address in text] == []
        else:
            assert LOCKED_OUT in text and TO_MAP in text and "📬" not in text
    # every copy of the prompt says the request no longer holds
    assert "This request no longer holds: the organization was connected in the portal meanwhile." in said(
        told
    )
    # the watch carries on from there: the lists go out
    chat.say(DANA, "notify")
    assert chat.state() == "users_notified"


def test_a_rejection_after_the_click_is_overtaken_by_the_connection_rather_than_pointing_back(
    chat: Chat,
) -> None:
    requested_anyway(chat)
    chat.portal_connect()
    chat.say(LEE, "reject 1 wait for release")  # before the watch's next look
    assert chat.state() == "planned"

    alarms = urgent(chat.runtime.conversation.watch())

    assert chat.state() == "connected"
    (text,) = [said([alarm]) for alarm in alarms if alarm.to == DirectMessage(DANA)]
    assert "in the portal while the migration was planned. Nobody approved it" in text
    assert LOCKED_OUT in text and DO_NOW in text
    status = said(chat.say(DANA, "status"))
    assert "Stage connected" in status and "request approval" not in status


def test_check_connection_before_any_request_records_the_connection_it_finds(chat: Chat) -> None:
    started(chat)
    chat.portal_connect()
    answered = chat.say(LEE, "check-connection")
    assert chat.state() == "connected"
    assert "in the portal while the migration was planned." in said(urgent(answered)[:1])
    assert chat.runtime.service.audit_trail(ORG)[-1].action == "connected_outside_approval"


def test_once_connected_the_admins_hear_at_once_whom_to_map_by_hand_and_to_which_account(chat: Chat) -> None:
    told = [message for message in connected(chat) if message.message.summary.startswith("🎉")]
    (in_channel,) = [message for message in told if isinstance(message.to, Channel)]
    shared = said([in_channel])
    assert "🎉 fabrikam-fiber is now connected to Fabrikam." in shared and MAP_COUNTED in shared
    assert (
        "📬 Whom to map, each with their directory account, goes to each of the 2 admins (owner and Project"
        " Collection Administrators) by direct message"
    ) in shared
    assert [address for address in EVERYONE_NAMED if address in shared] == []
    assert {message.to.email for message in told if isinstance(message.to, DirectMessage)} == {DANA, LEE}
    for private in (message for message in told if message is not in_channel):
        announced = said([private])
        assert (
            "🔗 Map by hand now (2), so they keep access and history: map each one to the directory account"
            " after the arrow under Organization settings > Microsoft Entra ID: on the notice of disconnected"
            " users select Resolve"
        ) in announced
        assert TO_MAP in announced


def test_an_admin_asking_in_a_direct_message_reads_the_alarm_there_once(chat: Chat) -> None:
    requested_anyway(chat)
    chat.portal_connect()
    answered = chat.say(LEE, "check-connection", in_dm=True)
    to_lee = [message for message in answered if message.to in (Reply(), DirectMessage(LEE))]
    # with it, his message naming whom the voided approval affected says it is void
    assert [message.message.summary for message in to_lee] == ["Who approval #1 affected: ⌛ Void", URGENT]


def test_admins_azure_devops_cannot_list_hear_of_it_in_the_channel_and_the_starter_gets_the_names(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    requested_anyway(chat)
    chat.portal_connect()
    box = chat.runtime.sandbox
    assert box is not None
    listing = Administrators._fetch

    def throttled(self: Administrators, organization: str) -> tuple[str, ...]:
        """Azure DevOps throttling every read of the admins' list (and only those), retries and all."""
        box.set_faults(rate_429=1.0, retry_after=0.001, hosts=["vssps.dev.azure.com"])
        try:
            return listing(self, organization)
        finally:
            box.set_faults()

    monkeypatch.setattr(Administrators, "_cached", lambda self, organization: None)  # read afresh
    monkeypatch.setattr(Administrators, "_fetch", throttled)
    alarms = urgent(chat.runtime.conversation.watch())

    assert [message.to for message in alarms] == [Channel("#aad-migration"), DirectMessage(DANA)]
    shared = said(alarms[:1])
    assert (
        "📬 Who is locked out and whom to map by hand goes only to whoever started the migration, by direct"
        " message. I could not check the administrators of fabrikam-fiber: Azure DevOps answered HTTP 429 to"
        " GET vssps.dev.azure.com/fabrikam-fiber/_apis/Organization/Organizations/Me 5 times; giving up."
        " Other admins: ask me `plan fabrikam-fiber` in a direct message for everyone."
    ) in shared
    assert [address for address in EVERYONE_NAMED if address in shared] == []
    assert LOCKED_OUT in said(alarms[1:]) and TO_MAP in said(alarms[1:])


def test_the_approval_prompt_in_the_channel_counts_the_people_and_says_where_their_names_are(
    chat: Chat,
) -> None:
    started(chat)
    asked = chat.say(DANA, "request-approval anyway")
    prompts = [message for message in asked if message.message.summary.startswith("Approval #1 needed")]
    (in_channel,) = [message for message in prompts if isinstance(message.to, Channel)]
    shared = said([in_channel])
    assert "Will lose access unless invited (2) Lose access until an admin decides" in shared
    assert (
        "📬 Who they are: each approver gets a message of its own naming them, by direct message (I say here"
        " if one cannot be reached); people's names are their addresses, which are not for the whole channel."
        " Admins may ask me `plan fabrikam-fiber` in a direct message for everyone."
    ) in shared
    assert [address for address in EVERYONE_NAMED if address in shared] == []
    (to_lee,) = [message for message in prompts if message.to == DirectMessage(LEE)]
    assert said([to_lee]) == shared  # every copy is the channel's: Slack and Teams keep them equal
    (whom,) = [message for message in asked if message.message.summary.startswith("Who approval #1 affects")]
    assert whom.to == DirectMessage(LEE)
    assert "erin.eng@gmail.com, frank.f@outlook.com" in said([whom]) and "📬" not in said([whom])


def test_status_after_a_rejection_says_who_rejected_when_and_why(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    chat.say(DANA, "request-approval")
    chat.say(LEE, "reject 1 wait for release")
    rejected = next(e for e in chat.runtime.service.audit_trail(ORG) if e.action == "reject")
    when = f"{rejected.at:%Y-%m-%d %H:%M} UTC"

    status = said(chat.say(DANA, "status"))

    assert f"🚫 Approval #1 was rejected by Lee on {when}. Reason: wait for release." in status
    chat.say(DANA, "request-approval")  # a new request is the latest word
    assert "was rejected by" not in said(chat.say(DANA, "status"))


def test_a_recheck_that_finds_it_connected_in_the_portal_takes_the_watchs_path_alarm_included(
    chat: Chat,
) -> None:
    """fix74 finding 3: a `recheck` after a click in the portal used to record `found_connected` and send the
    start's messages, no alarm; it is the watch's finding, whoever looks first."""
    requested_anyway(chat)
    chat.portal_connect()
    told = chat.say(DANA, "recheck")
    recorded_outside_the_approval(chat)
    assert "found_connected" not in [entry.action for entry in chat.runtime.service.audit_trail(ORG)]
    alarms = urgent(told)
    assert {message.to.email for message in alarms if isinstance(message.to, DirectMessage)} == {DANA, LEE}
    assert sum(isinstance(message.to, Channel) for message in alarms) == 1
    assert len(alarms) == 3
    assert chat.runtime.conversation.watch() == []  # told once: the watch finds nothing new


def test_a_recheck_at_the_portal_step_refuses_without_connecting_the_migration_first(chat: Chat) -> None:
    """rev47 finding 3: at the portal step the re-check's look confirmed a click within the approval,
    which moved the migration on and queued its 🎉 notices, then `recheck` refused: "does not fit now: the
    migration is connected". It looks only short of the portal step; the command it names finds the click."""
    approved(chat)
    chat.portal_connect()
    refused = chat.say(LEE, "recheck")  # Lee approved: the refusal itself, not the news of that approval
    assert said(refused) == (
        "`recheck` does not fit now: the migration is connecting. What you can do next: `check-connection`,"
        " `cancel`."
    )
    assert chat.state() == "connecting"
    found = chat.say(LEE, "check-connection")
    assert chat.state() == "connected"
    assert [(message.to, message.message.summary) for message in found] == [
        (Channel("#aad-migration"), CONFIRMED),
        (DirectMessage(DANA), CONFIRMED),
        (DirectMessage(LEE), CONFIRMED),
    ]


def test_a_recheck_whose_look_finds_the_migration_approved_and_clicked_meanwhile_answers_with_the_connection(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Short of the portal step when `recheck` began, approved and clicked while its look read Microsoft:
    the look records the click within the approval, and that, not a refusal, is the answer."""
    requested_anyway(chat)
    microsoft = chat.runtime.microsoft
    read = microsoft.organization_tenant_id

    def approved_and_clicked_meanwhile(organization: str) -> str:
        monkeypatch.setattr(microsoft, "organization_tenant_id", read)
        chat.say(LEE, "approve 1")
        chat.portal_connect()
        return read(organization)

    monkeypatch.setattr(microsoft, "organization_tenant_id", approved_and_clicked_meanwhile)
    told = chat.say(DANA, "recheck")
    assert chat.state() == "connected"
    assert [entry.action for entry in chat.runtime.service.audit_trail(ORG)][-2:] == [
        "approve",
        "connection_confirmed",
    ]
    assert [(message.to, message.message.summary) for message in told] == [
        (Channel("#aad-migration"), CONFIRMED),
        (DirectMessage(DANA), CONFIRMED),
        (DirectMessage(LEE), CONFIRMED),
    ]
