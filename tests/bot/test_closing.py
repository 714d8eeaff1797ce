"""Ending a migration over the console conversation: nobody is left behind without the admins knowing,
and nobody who heard of a cancelled move is left thinking it is coming."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from bot.conversation.messages import Channel, DirectMessage, Facts, Heading, Outgoing, Table, Text
from storage import OutboundMessage
from tests.bot.conftest import ORG, Chat, approved, notified, started, text_of

DANA, LEE = "dana@fabrikam.com", "lee@fabrikam.com"


def billing_moved(chat: Chat) -> None:
    move_billing(chat)
    chat.say(DANA, "check-billing")
    assert chat.state() == "billing_checked"


def move_billing(chat: Chat) -> None:
    """Lists sent, then an admin moves the subscription in the Azure portal; the bot has not looked yet."""
    notified(chat)
    subscription_moved(chat)


def subscription_moved(chat: Chat) -> None:
    """An admin moves the subscription in the Azure portal, wherever the migration stands."""
    sandbox = chat.runtime.sandbox
    assert sandbox is not None
    subscription = chat.runtime.microsoft.organization(ORG).billing_subscription_id
    tenant = str(sandbox.state()["tenant"]["id"])
    httpx.post(
        f"{sandbox.url}/_sandbox/subscription", json={"subscriptionId": subscription, "tenantId": tenant}
    ).raise_for_status()


# Each named as `progress` names them: Kim by her work account, with the address she was listed under
# (walk 27, finding 11: the closing lists named Carol by her work account and Kim by her old address).
EVERYONE_BUT_GUS_AND_HANA = (
    "dana@fabrikam.com, lee@fabrikam.com, ann@fabrikam.com, bob.builder@outlook.com, carol@fabrikam.com,"
    " kim@fabrikam.com (was kim@fabrikam-old.com), erin.eng@gmail.com, frank.f@outlook.com, ivan@fabrikam.com"
)
LEFT_BEHIND = [
    "• 2 people have no way in yet (no directory account, a disabled one, or several to choose from):"
    " gus@fabrikam.com, hana@contoso.com",
    f"• 9 people have items still open: {EVERYONE_BUT_GUS_AND_HANA}",
    f"• 9 people have not been seen signing in with their work or guest account: {EVERYONE_BUT_GUS_AND_HANA}",
]


def lines_of(outgoing: list[Outgoing]) -> list[str]:
    """The headings and the lines of text of the messages, unwrapped, as each platform gets them."""
    lines: list[str] = []
    for message in outgoing:
        for block in message.message.blocks:
            if isinstance(block, Heading):
                lines.append(block.text)
            elif isinstance(block, Text):
                lines.extend(block.markdown.splitlines())
    return lines


def test_complete_names_who_would_be_left_behind_and_waits_for_a_confirmation(chat: Chat) -> None:
    billing_moved(chat)
    asked = chat.say(DANA, "complete")
    assert asked[0].message.private
    assert lines_of(asked)[1:4] == LEFT_BEHIND
    assert chat.state() == "billing_checked"
    (button,) = asked[0].message.buttons
    assert (button.label, button.value, button.style) == ("Complete anyway", f"{ORG} confirm", "danger")
    assert button.confirm == (
        f"Complete {ORG}, leaving 11 of 11 people not able to get in or not seen signing in? Reminders stop"
        " for everyone."
    )

    done = chat.click(DANA, asked, "Complete anyway")
    assert chat.state() == "completed"
    told = [message for message in done if isinstance(message.to, Channel)]
    # the channel counts them; who they are, by their addresses, goes to Dana alone (walk39 a)
    assert lines_of(told)[-5:] == [
        "Completed with people left behind; reminders have stopped:",
        *(line.partition(":")[0] + "." for line in LEFT_BEHIND),
        "📬 Who, by name, goes to Dana alone, in a message only they see: people's names are their addresses,"
        f" which are not for the whole channel. Any admin may ask me `progress {ORG}` in a direct message for"
        " everyone's list.",
    ]
    (named,) = [message for message in done if message.message.private]
    assert lines_of([named]) == [
        f"Left behind by the completion of {ORG}, by name",
        *LEFT_BEHIND,
        f"Their lists stay readable: `progress {ORG}`.",
    ]


def test_complete_anyway_counts_who_signed_in_with_only_clean_up_left_apart_from_who_cannot_get_in(
    chat: Chat,
) -> None:
    """walk37 16: someone seen signing in, with only the Git credential cache left, is not counted among
    those left without a way in."""
    billing_moved(chat)
    sandbox = chat.runtime.sandbox
    assert sandbox is not None
    signed_in = {"organization": ORG, "principalName": "ann@fabrikam.com"}
    httpx.post(f"{sandbox.url}/_sandbox/signin", json=signed_in).raise_for_status()
    chat.say(DANA, f"check-sign-ins {ORG}")
    (button,) = chat.say(DANA, "complete")[0].message.buttons
    assert button.confirm == (
        f"Complete {ORG}, leaving 10 of 11 people not able to get in or not seen signing in and 1 more who"
        " signed in with only clean-up items left (such as clearing the Git credential cache)? Reminders stop"
        " for everyone."
    )


def test_complete_before_billing_moved_says_billing_is_what_it_waits_for(chat: Chat) -> None:
    notified(chat)
    said = lines_of(chat.say(DANA, "complete"))
    assert said[0] == f"`complete` waits for the billing of {ORG} to move"
    assert said[1].startswith(
        "Microsoft's procedure ends with billing in Fabrikam, and it is not there yet: I looked just now."
    )
    assert "1. Associate subscription" in said[2]
    assert chat.state() == "users_notified"


def test_complete_right_after_billing_moved_looks_and_goes_on_without_check_billing_first(chat: Chat) -> None:
    move_billing(chat)
    asked = chat.say(DANA, "complete")
    assert lines_of(asked)[0].startswith("I looked at billing first: Billing subscription")
    assert chat.state() == "billing_checked"
    assert lines_of(asked)[2:5] == LEFT_BEHIND  # then, as ever, who would be left behind
    chat.say(DANA, f"complete {ORG} confirm")
    assert chat.state() == "completed"


def test_complete_refused_says_to_decide_for_whoever_waits_for_a_decision(chat: Chat) -> None:
    """Gus's only account is disabled and two accounts may be Hana's: until an admin decides, `decide`
    is a next step, not only `complete ... confirm`."""
    billing_moved(chat)

    def next_steps() -> str:
        lines = lines_of(chat.say(DANA, "complete"))
        return next(line for line in lines if line.startswith("Once it is complete"))

    assert (
        "gus@fabrikam.com, hana@contoso.com wait for your decision: say"
        f" `decide {ORG} PERSON ACCOUNT|no-access` for each (`plan` shows their choices)."
    ) in next_steps()
    chat.say(DANA, "decide gus@fabrikam.com no-access")
    assert f"hana@contoso.com waits for your decision: say `decide {ORG} PERSON" in next_steps()
    chat.say(DANA, "decide hana@contoso.com hana.hart@fabrikam.com")
    assert "decide" not in next_steps()
    assert chat.state() == "billing_checked"


def test_a_completed_migration_stays_in_view_of_status_and_progress(chat: Chat) -> None:
    billing_moved(chat)
    chat.say(DANA, f"complete {ORG} confirm")
    assert chat.state() == "completed"
    status = lines_of(chat.say(DANA, "status"))
    assert status[0] == f"Migration of {ORG}"
    # 24 items asked for (the optional SSH and rename ones aside): the two guests invited under their own
    # address keep their personal access tokens
    # Gus, whose only account is disabled, has one item (walk34 finding 6)
    assert "To-do lists: 0 of 11 people done, 0 of 23 items; `progress` has the details." in status
    progress = lines_of(chat.say(DANA, "progress"))
    assert progress[0] == f"Progress of {ORG}"
    assert progress[1] == "0 of 11 people done; 0 of 23 items done."


def test_a_new_migration_of_the_connected_organization_hands_out_no_second_lists(chat: Chat) -> None:
    billing_moved(chat)
    chat.say(DANA, f"complete {ORG} confirm")
    started(chat)
    assert chat.state() == "connected"
    notified = chat.say(DANA, "notify")
    assert not [message for message in notified if isinstance(message.to, DirectMessage)]
    already = f"11 people have their list from an earlier migration of {ORG} already, so they get none again"
    report, named = notified[:2]  # the channel's report counts them; the admin who typed `notify` reads who
    assert lines_of([report])[2] == f"{already}; I told you who, privately."
    assert (report.message.private, named.message.private) == (False, True)
    assert lines_of([named]) == [
        f"{already}: {EVERYONE_BUT_GUS_AND_HANA.replace('ivan', 'gus@fabrikam.com, hana@contoso.com, ivan')}."
    ]
    kim = lines_of(chat.say("kim@fabrikam.com", "todo", in_dm=True))
    assert kim[0] == f"Your to-do list for {ORG}: 3 of 3 open, 1 optional"  # SSH keys, if she uses them


def in_a_week() -> str:
    return (datetime.now(UTC).date() + timedelta(days=7)).isoformat()


def test_a_bare_cancel_asks_first_then_everyone_told_of_the_move_hears_it_is_off(chat: Chat) -> None:
    started(chat)
    when = in_a_week()
    announced = chat.say(DANA, f"announce {ORG} {when}")
    told = {m.to.email for m in announced if isinstance(m.to, DirectMessage)}
    assert len(told) == 10  # not Gus, whose only directory account is disabled: he left
    chat.say(DANA, "invite")

    asked = chat.say(DANA, "cancel")
    assert chat.state() == "planned"
    assert asked[0].message.private
    (button,) = asked[0].message.buttons
    assert (button.label, button.action, button.value, button.style) == (
        f"Cancel migration of {ORG}",
        "cancel",
        ORG,
        "danger",
    )
    assert button.confirm == f"Cancel the migration of {ORG}? Everyone told about it hears that it is off."

    cancelled = chat.click(DANA, asked, "Cancel migration")
    assert chat.state() == "cancelled"
    dms = {m.to.email: lines_of([m]) for m in cancelled if isinstance(m.to, DirectMessage)}
    assert set(dms) == told
    assert dms["ann@fabrikam.com"] == [
        f"Called off: {ORG} is not moving to Fabrikam accounts",
        "Hi Ann,",  # the display name's aside is for admins, not a greeting
        f"The change announced for {when} is off. Keep signing in as you do today.",
    ]
    assert dms["erin.eng@gmail.com"][-1] == "You can ignore Microsoft's invitation to join Fabrikam."
    # the channel counts whom it told and who stays invited; their names, their addresses, go to Dana alone
    channel = lines_of([m for m in cancelled if isinstance(m.to, Channel)])
    assert channel == [
        f"Dana cancelled the migration of {ORG} (no reason given). Nothing more happens.",
        "Telling 10 people by direct message that the move is off. The messages are on their way; `status"
        f" {ORG}` shows how many could not be reached.",
        "2 guests invited for the move stay in Fabrikam's directory. Delete them in the Microsoft Entra admin"
        " center (Users) if they should not stay.",
        "📬 Who, by name, goes to Dana alone, in a message only they see: people's names are their addresses,"
        " which are not for the whole channel.",
    ]
    (named,) = [m for m in cancelled if m.message.private]
    assert lines_of([named]) == [
        f"Who hears that {ORG} is off, by name",
        "Telling by direct message that the move is off: dana@fabrikam.com, lee@fabrikam.com,"
        " ann@fabrikam.com, bob.builder@outlook.com, carol@fabrikam.com, kim@fabrikam-old.com,"
        " erin.eng@gmail.com, frank.f@outlook.com, hana@contoso.com, ivan@fabrikam.com. The messages are on"
        f" their way; `status {ORG}` shows who could not be reached.",
        "Guests invited for the move stay in Fabrikam's directory: erin.eng@gmail.com, frank.f@outlook.com."
        " Delete them in the Microsoft Entra admin center (Users) if they should not stay.",
    ]


def test_an_advance_notice_cut_short_mid_send_is_never_tried_again_after_the_move_is_off(chat: Chat) -> None:
    """fix132 2: the process sending Ann's advance notice was killed mid-send; before another claims it,
    Dana cancels. The notice may have reached her, so she hears that the move is off, and "get ready" is
    never tried again after it."""
    started(chat)
    chat.say(DANA, f"announce {ORG} {in_a_week()}")
    with chat.runtime.database.session() as session:
        (cut_short,) = session.exec(
            select(OutboundMessage).where(
                OutboundMessage.kind == "advance_notice", OutboundMessage.recipient == ANN
            )
        ).all()
        cut_short.status, cut_short.in_flight, cut_short.claimed_by = "pending", True, "killed-worker"
        cut_short.claimed_until = cut_short.not_before = cut_short.created_at  # its lease ran out
        session.commit()

    off = chat.say(DANA, f"cancel {ORG} confirm") + chat.runtime.conversation.watch()

    to_ann = [m.message.summary for m in off if isinstance(m.to, DirectMessage) and m.to.email == ANN]
    assert to_ann == [f"Called off: {ORG} is not moving to Fabrikam accounts"]


def test_cancelling_after_the_approval_tells_the_connector_not_to_connect(chat: Chat) -> None:
    to_lee = [m for m in approved(chat) if m.to == DirectMessage(LEE)]
    (steps,) = [m for m in to_lee if m.message.summary.startswith("Your steps to connect")]

    cancelled = chat.say(DANA, f"cancel {ORG} budget freeze")
    (withdrawn,) = [m for m in cancelled if m.to == DirectMessage(LEE)]
    assert withdrawn.updates == steps.updates is not None
    assert lines_of([withdrawn]) == [
        f"Do not connect {ORG} to Fabrikam",
        "The migration was cancelled (budget freeze), so the portal steps you had are withdrawn: do not"
        " select *Connect*. If you already did, tell the migration admins at once.",
    ]
    channel = lines_of([m for m in cancelled if isinstance(m.to, Channel)])
    assert channel[0] == f"Dana cancelled the migration of {ORG}: budget freeze. Nothing more happens."


def test_approval_waits_for_the_invitations_microsoft_puts_before_connecting(chat: Chat) -> None:
    started(chat)
    refused = chat.say(DANA, "request-approval")
    assert chat.state() == "planned"
    assert refused[0].message.private
    assert lines_of(refused) == [
        "2 people have no directory account and no invitation to one, so connecting would cut them off:"
        " erin.eng@gmail.com, frank.f@outlook.com. Microsoft's procedure puts everyone in the directory"
        f" before connecting: run `invite` first. To connect without them, say `request-approval {ORG}"
        " anyway`."
    ]
    invite, anyway = refused[0].message.buttons
    assert (invite.label, invite.action, invite.value) == ("Invite missing users", "invite", ORG)
    assert (anyway.value, anyway.style) == (f"{ORG} anyway", "danger")

    chat.click(DANA, refused, "Invite missing users")
    prompt = chat.say(DANA, "request-approval")
    assert chat.state() == "awaiting_approval"
    assert prompt[0].message.summary == (
        "Approval requested (#1); the prompt goes to the other admins by direct message, and I say here if it"
        " cannot reach one."
    )


def test_asked_anyway_the_approval_prompt_names_who_connecting_cuts_off(chat: Chat) -> None:
    started(chat)
    refused = chat.say(DANA, "request-approval")
    prompt = chat.click(DANA, refused, "Request approval anyway")
    assert chat.state() == "awaiting_approval"
    assert "*Will lose access unless invited* (2): erin.eng@gmail.com, frank.f@outlook.com" in lines_of(
        prompt
    )


def test_with_one_migration_in_progress_its_name_may_be_left_out_before_anyway_and_confirm(
    chat: Chat,
) -> None:
    started(chat)
    prompt = chat.say(DANA, "request-approval anyway")
    assert chat.state() == "awaiting_approval"
    assert prompt[0].message.summary == (
        "Approval requested (#1); the prompt goes to the other admins by direct message, and I say here if it"
        " cannot reach one."
    )

    unknown = chat.say(DANA, "complete fabrikam-fibre confirm")
    assert lines_of(unknown)[0].startswith(
        "I know no migration called `fabrikam-fibre`, so I completed nothing."
    )


def test_the_start_offers_removing_who_left_and_says_what_is_left_before_approval(chat: Chat) -> None:
    started = chat.say(DANA, f"/aad start {ORG} fabrikam.com")
    lines = lines_of(started)
    assert (
        "No prerequisite fails, but some warn (⚠️ in `plan`): read them before approval. The plan is ready."
        " Next, as Microsoft orders it: remove the people who left (1 person has only a disabled directory"
        " account: `stale-users`, then `remove-users`), tell users what is coming (`announce`, with the"
        " date), invite the missing users, then request approval."
    ) in lines
    assert (
        "Before connecting, Microsoft also asks you to remove the users who no longer need access (people"
        " who left). Press *Users who may have left* to see who has not signed in for 90 days; the button"
        " under that list removes exactly those people once you confirm."
    ) in lines
    stale = chat.click(DANA, started, "Users who may have left")
    (table,) = [block for block in stale[0].message.blocks if isinstance(block, Table)]
    assert [row[:2] for row in table.rows] == [("gus@fabrikam.com", "2025-03-01")]
    assert [button.label for button in stale[0].message.buttons] == ["Remove this user"]


def test_once_everyone_is_invited_the_stage_no_longer_asks_for_invitations(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    checked = chat.say(DANA, "recheck")
    assert (
        "No prerequisite fails, but some warn (⚠️ in `plan`): read them before approval. The plan is ready."
        " Next, as Microsoft orders it: remove the people who left (1 person has only a disabled directory"
        " account: `stale-users`, then `remove-users`), tell users what is coming (`announce`, with the"
        " date), then request approval. 2 people are invited and still to accept their invitation (`plan`"
        " names them): from the switch until they accept it, they cannot sign in."
    ) in lines_of(checked)
    assert "Invite missing users" not in [button.label for button in checked[0].message.buttons]


def test_the_cancel_says_who_is_being_told_and_status_shows_who_could_not_be_reached(chat: Chat) -> None:
    hana, hana_member = "hana@contoso.com", "hana.hart@fabrikam.com"
    started(chat)
    chat.say(DANA, f"announce {ORG} {in_a_week()}")
    chat.say(DANA, f"decide {hana} {hana_member}")  # after the announcement: her account is known now
    cancelled = chat.say(DANA, f"cancel {ORG} {hana} asked to wait", in_dm=True)
    chosen = next(u for u in chat.runtime.service.plan(ORG).users if u.principal_name == hana).match
    assert chosen is not None and chosen.user_principal_name == hana_member
    (to_hana,) = [m.to for m in cancelled if isinstance(m.to, DirectMessage) and m.to.email == hana]
    # Teams finds her by the account the admin chose, not by her sign-in name, which no directory user has
    assert (to_hana.directory_id, to_hana.also) == (chosen.id, (hana_member,))
    # cancelled in a direct message: the channel still hears it, counted, the reason without Hana's address
    channel = lines_of([m for m in cancelled if isinstance(m.to, Channel)])
    assert channel[:2] == [
        f"Dana cancelled the migration of {ORG}: Someone asked to wait. Nothing more happens.",
        "Telling 10 people by direct message that the move is off. The messages are on their way; `status"
        f" {ORG}` shows how many could not be reached.",
    ]
    (named,) = [m for m in cancelled if m.message.private]
    assert lines_of([named])[1].startswith("Telling by direct message that the move is off: dana@fabrikam")

    with chat.runtime.database.session() as session:  # the chat platform could not reach Erin
        erin = session.exec(
            select(OutboundMessage).where(
                OutboundMessage.kind == "migration_called_off",
                OutboundMessage.recipient == "erin.eng@gmail.com",
            )
        ).one()
        erin.status, erin.last_error = "failed", "Erin is not in the workspace"
        frank = session.exec(  # and Frank's is still being sent
            select(OutboundMessage).where(
                OutboundMessage.kind == "migration_called_off",
                OutboundMessage.recipient == "frank.f@outlook.com",
            )
        ).one()
        frank.status = "pending"
        session.commit()
    unreached = "⚠️ Could not be reached, so they may still expect the move; tell them another way:"
    erin_why = Table(("User", "Why"), (("erin.eng@gmail.com", "Erin is not in the workspace"),))
    (in_dm,) = chat.say(DANA, f"status {ORG}", in_dm=True)
    assert lines_of([in_dm])[-2:] == [
        "Told that the move is off: 8; still on the way to frank.f@outlook.com.",
        unreached,
    ]
    assert erin_why in in_dm.message.blocks
    # asked in the channel: counted there, and by name to Dana alone
    shown, named = chat.say(DANA, f"status {ORG}")
    assert lines_of([shown])[-3:] == [
        "Told that the move is off: 8; still on the way to 1 person.",
        "⚠️ 1 person could not be reached, so they may still expect the move.",
        "📬 Who, and why, I send to you alone, in a message only you see.",
    ]
    assert named.message.private
    assert lines_of([named]) == [
        f"Not yet told that {ORG} is off, by name",
        "Still on the way to frank.f@outlook.com.",
        unreached,
    ]
    assert erin_why in named.message.blocks
    assert erin_why not in shown.message.blocks
    # Ann, no admin, reads the counts alone: telling them another way is the admins' to do
    (to_ann,) = chat.say(ANN, f"status {ORG}")
    assert lines_of([to_ann])[-2:] == [
        "Told that the move is off: 8; still on the way to 1 person.",
        "⚠️ 1 person could not be reached, so they may still expect the move.",
    ]


def test_a_cancelled_migrations_status_promises_nobody_an_invitation_or_a_decision(chat: Chat) -> None:
    approved(chat)  # the guests are invited, Hana and Gus wait for a decision
    chat.say(DANA, f"cancel {ORG}")
    said = " ".join(text_of(chat.say(DANA, f"status {ORG}")).split())
    assert "Nothing changes for the 11 users of its plan." in said, said
    assert "still to accept" not in said and "decision" not in said and "keep access" not in said


def test_complete_when_azure_fails_says_nothing_changed_in_whole_sentences(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rev34 #5: the reply ran "…5 times; giving up Try again." and said nothing of the migration staying."""
    notified(chat)
    sandbox = chat.runtime.sandbox
    assert sandbox is not None
    sandbox.set_faults(rate_500=1.0, hosts=["management.azure.com"])
    waited: list[float] = []  # the retries' back-off, taken at once
    monkeypatch.setattr(chat.runtime.microsoft.session, "_sleep", waited.append)
    (said,) = lines_of(chat.say(DANA, "complete"))
    assert said.startswith("I could not read the billing subscription, so nothing changed: "), said
    assert said.endswith("; giving up. Try again."), said
    assert chat.state() == "users_notified"


ANN, HANA = "ann@fabrikam.com", "hana@contoso.com"


def left_behind_notes(outgoing: list[Outgoing]) -> dict[str, list[str]]:
    """The last word each person got from the completed migration, by address."""
    return {
        message.to.email: lines_of([message])
        for message in outgoing
        if isinstance(message.to, DirectMessage) and message.message.summary.endswith(" accounts is closed")
    }


def test_complete_tells_each_person_left_behind_once_where_they_stand_and_whom_to_ask(chat: Chat) -> None:
    """walk34 finding 5: after `complete ... confirm` reminders stopped, but Ann (items open) and Hana (no way
    in) heard nothing, their `todo` read as live, and the closing message said "before the switch"."""
    billing_moved(chat)
    done = chat.say(DANA, f"complete {ORG} confirm")
    (closing,) = [message.message for message in done if isinstance(message.to, Channel)]
    counts = next(block.pairs for block in closing.blocks if isinstance(block, Facts))
    assert counts == (
        ("5 users", "keep access (same identity)"),
        ("2 users", "invited, still to accept when the plan was approved: no access until they accept"),
        ("2 users", "keep access, mapped by hand after connecting"),
        ("1 user", "loses access: their directory account is disabled"),
        ("1 user", "had no account chosen: several directory accounts match"),
    )  # was "must accept before the switch", "needs a decision", after the switch

    told = left_behind_notes(done)
    assert len(told) == 10 and DANA not in told  # everyone with items open or no way in but who closed it
    assert told[ANN] == [
        f"The move of {ORG} to Fabrikam accounts is closed",
        f"Hi Ann, Dana ({DANA}) closed the migration of {ORG}: I send no more reminders, and nobody follows"
        " your list any more. These items of your list are still open, and they still apply to you:",
        "1. Sign in with your work account",
        "2. Clear your Git credential cache",
        f"`todo` shows the steps. Ask Dana ({DANA}) if you are stuck or unsure what still applies.",
    ]
    assert told[HANA][1] == (
        f"Hi Hana, Dana ({DANA}) closed the migration of {ORG}: I send no more reminders, and nobody follows"
        f" your list any more. You still have no way in: Dana ({DANA}) or another admin of {ORG} needs to"
        " decide which of the directory accounts that share your address is yours, and until then you cannot"
        f" sign in to {ORG} with a Fabrikam account. Your list as it stands:"
    )
    assert told[HANA][2:4] == [
        "1. Tell the admins which work account is yours",
        "2. Clear your Git credential cache",
    ]
    with chat.runtime.database.session() as session:
        queued = session.exec(select(OutboundMessage).where(OutboundMessage.kind == "left_behind")).all()
    assert len(queued) == len({message.payload["affected_user_id"] for message in queued}) == 10  # one each
    assert {message.status for message in queued} == {"sent"}

    ann = chat.say(ANN, "todo", in_dm=True)
    assert lines_of(ann)[:2] == [
        f"Your to-do list for {ORG}: closed, 2 still open",
        f"Dana ({DANA}) closed the migration of {ORG}: no more reminders come, and nobody follows this list"
        f" any more. The open items below still apply to you. Ask Dana ({DANA}) if you are stuck or unsure"
        " what still applies.",
    ]
    assert ann[0].message.buttons == ()
    hana = chat.say(HANA, "todo", in_dm=True)
    assert lines_of(hana)[1].startswith(
        f"Dana ({DANA}) closed the migration of {ORG}: no more reminders come, and nobody follows this list"
        f" any more. You still have no way in: Dana ({DANA}) or another admin of {ORG} needs to decide"
    )
    assert hana[0].message.buttons == ()  # no *Choose my account*, no Done: nobody would act on them


GUS, ERIN = "gus@fabrikam.com", "erin.eng@gmail.com"


def test_a_closed_list_sends_its_reader_to_someone_else_and_to_no_button(chat: Chat) -> None:
    """After `complete`, Dana's own closed list told her to ask Dana (herself), and items on everyone's closed
    list still said to press *I need help*, whose buttons had gone with the reminders."""
    billing_moved(chat)
    chat.say(DANA, f"complete {ORG} confirm")
    dana = lines_of(chat.say(DANA, "todo", in_dm=True))
    assert dana[:2] == [
        f"Your to-do list for {ORG}: closed, 2 still open",
        f"You closed the migration of {ORG}: no more reminders come, and nobody follows this list any more."
        " The open items below still apply to you. If you are stuck or unsure what still applies, ask another"
        f" admin of {ORG}: {LEE}.",
    ]
    hana, gus, erin = (lines_of(chat.say(who, "todo", in_dm=True)) for who in (HANA, GUS, ERIN))
    assert hana[3] == (
        "Several accounts in Fabrikam share your address hana@contoso.com"
        " (hana_contoso.com#EXT#@fabrikam.onmicrosoft.com, hana.hart@fabrikam.com), so the bot cannot"
        " tell which one you use. Tell the migration admins which one you sign in with every day: they map"
        " you to it."
    )
    assert gus[3] == (
        f"Your address matches the account {GUS} in Fabrikam, but that account is disabled, so you cannot"
        f" sign in to {ORG} after the change. If you still need access, ask the migration admins: they settle"
        " it with you (your directory administrator enabling that account, or another account they map you"
        " to). If you have left, there is nothing to do: your history is kept."
    )
    assert erin[3].endswith(
        "Without it you lose access (your history is kept). No email? Check your spam folder, then ask the"
        " migration admins to send it again."
    )
    assert [line for line in (*dana, *hana, *gus, *erin) if "I need help" in line] == []
