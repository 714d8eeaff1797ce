"""Admins decide for the people the plan cannot place (rvops finding 4): Hana, whose address two directory
accounts carry, and Gus, whose only account is disabled. Conversations over the console surface, with
the bundled scenario in the sandbox and a real database."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

from bot.conversation import decision_views, list_message_views
from bot.conversation.messages import Attachment, DirectMessage, Heading, Outgoing, Reply, Table, Text
from bot.conversation.plan_views import OUTCOME_WORDS
from sandbox import Sandbox, parse_scenario
from storage import Database
from tests.bot.conftest import ORG, Chat, notified, started, text_of
from tests.delivery.test_notice_codec import STATUS
from tests.fakes.runtimes import runtime_on
from workflows.mapping import map_by_hand
from workflows.plan import Match, PlannedUser
from workflows.results import Actor
from workflows.results_preparing import AccountDecision

DANA, LEE, ANN = "dana@fabrikam.com", "lee@fabrikam.com", "ann@fabrikam.com"
HANA, HANA_MEMBER = "hana@contoso.com", "hana.hart@fabrikam.com"
HANA_GUEST = "hana_contoso.com#EXT#@fabrikam.onmicrosoft.com"
GUS, BOB = "gus@fabrikam.com", "bob.builder@outlook.com"
_SAID = {group: one for group, (_, one) in OUTCOME_WORDS.items()}
"""What the plan's table says happens to one person of each group (walk38: not its code, `map`)."""


def lines(outgoing: list[Outgoing]) -> list[str]:
    """Every line of text the messages say, as written (before a surface wraps or styles it)."""
    return [
        line
        for message in outgoing
        for block in message.message.blocks
        if isinstance(block, Text)
        for line in block.markdown.splitlines()
    ]


def rows(outgoing: list[Outgoing]) -> list[tuple[str, ...]]:
    return [
        row
        for message in outgoing
        for block in message.message.blocks
        if isinstance(block, Table)
        for row in block.rows
    ]


def connect(chat: Chat) -> None:
    """Invited, approved by Lee, connected in the portal, and seen connected."""
    chat.say(DANA, "invite")
    chat.click(LEE, chat.say(DANA, "request-approval"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()


def guest_account(chat: Chat) -> Actor:
    """Whoever writes from Hana's guest account, as Teams knows them: by its object id."""
    hana = next(user for user in chat.runtime.service.plan(ORG).users if user.principal_name == HANA)
    ids = dict(zip(hana.candidate_names, hana.candidates, strict=True))
    return Actor(id=ids[HANA_GUEST], email="", name="Hana")


def plan_rows(outgoing: list[Outgoing]) -> dict[str, dict[str, str]]:
    attachment = next(
        block for message in outgoing for block in message.message.blocks if isinstance(block, Attachment)
    )
    return {row["principal_name"]: row for row in csv.DictReader(io.StringIO(attachment.content))}


def test_the_plan_offers_each_undecided_person_their_choices_and_the_csv_names_the_accounts(
    chat: Chat,
) -> None:
    started(chat)
    channel, plan = chat.say(DANA, "plan")
    assert (channel.to, plan.to) == (Reply(), DirectMessage(DANA))
    everyone_sees = text_of([channel]) + " ".join(button.value for button in channel.message.buttons)
    assert [account for account in (HANA_GUEST, HANA_MEMBER, GUS) if account in everyone_sees] == []
    assert (
        "📬 Who is affected, each person's directory account, the accounts to choose between for the 2 users"
        " waiting for a decision and the CSV go to Dana in a direct message: they name people's addresses,"
        " which are not for the whole channel. If it does not arrive, ask me `plan` in a direct message."
    ) in lines([channel])
    assert not [block for block in channel.message.blocks if isinstance(block, (Table, Attachment))]
    plan = [plan]
    shown = lines(plan)
    assert (
        f"• *{HANA}*: several accounts match; choose the one that is theirs: `{HANA_GUEST}` or"
        f" `{HANA_MEMBER}`; or `no-access` to let them lose access knowingly (their history is kept)."
    ) in shown
    assert (
        f"• *{GUS}*: their only account, {GUS}, is disabled: enable it (Microsoft Entra admin center >"
        " Users), then `recheck`; or remove them from the organization (`remove-users`); or `no-access` to"
        " let them lose access knowingly (their history is kept)."
    ) in shown
    labels = [button.label for message in plan for button in message.message.buttons]
    assert labels[:5] == [
        "Let them lose access",
        "Remove from the organization",
        f"{HANA_GUEST} is theirs",
        f"{HANA_MEMBER} is theirs",
        "Let them lose access",
    ]
    hana = plan_rows(plan)[HANA]
    assert hana["outcome"] == "ambiguous"
    assert hana["candidate_upns"] == f"{HANA_GUEST} {HANA_MEMBER}"
    assert hana["decided_by"] == ""


def test_the_plan_asked_in_a_direct_message_is_all_there(chat: Chat) -> None:
    started(chat)
    (plan,) = chat.say(DANA, "plan", in_dm=True)
    assert plan.to == Reply()
    shown = lines([plan])
    assert any(line.startswith(f"• *{HANA}*: several accounts match") for line in shown)
    assert (HANA, _SAID["ambiguous"], f"{HANA_GUEST} or {HANA_MEMBER}") in rows([plan])
    assert plan_rows([plan])[HANA]["candidate_upns"] == f"{HANA_GUEST} {HANA_MEMBER}"
    assert not [line for line in shown if line.startswith("📬")]


def test_choosing_hanas_account_maps_her_to_it_in_the_plan_the_csv_and_the_approval(chat: Chat) -> None:
    started(chat)
    reply = chat.click(DANA, chat.say(DANA, "plan"), f"{HANA_MEMBER} is theirs")
    assert lines(reply)[0] == (
        f"Recorded: {HANA}'s directory account is {HANA_MEMBER}; the plan maps them to it. Connecting does"
        f" not map them by itself: once it is connected, in https://dev.azure.com/{ORG},"
        f" {map_by_hand(HANA, HANA_MEMBER)}. Their to-do list will say to sign in with it."
    )

    plan = chat.say(DANA, "plan")
    assert (HANA, _SAID["map"], f"{HANA_MEMBER} (chosen by Dana)") in rows(plan)
    row = plan_rows(plan)[HANA]
    assert (row["outcome"], row["match_upn"], row["matched_by"], row["decided_by"]) == (
        "map",
        HANA_MEMBER,
        "admin",
        "Dana",
    )
    prompt = lines(chat.say(DANA, f"request-approval {ORG} anyway"))
    assert (
        f"*Mapped by hand after connecting* (3): carol.w@outlook.com, kim@fabrikam-old.com, {HANA}" in prompt
    )
    assert f"*Lose access until an admin decides* (disabled or ambiguous account, 1): {GUS}" in prompt

    entry = chat.runtime.service.audit_trail(ORG)[-2]  # the request's own entry comes after
    assert (entry.action, entry.actor_email, entry.details["user"], entry.details["account_name"]) == (
        "decide_account",
        DANA,
        HANA,
        HANA_MEMBER,
    )


def test_letting_gus_lose_access_is_named_apart_from_the_undecided_on_the_approval_card(chat: Chat) -> None:
    started(chat)
    reply = lines(chat.say(DANA, f"decide {GUS} no-access"))
    assert reply[0] == (
        f"Recorded: {GUS} loses access to {ORG}, as you decided; their history is kept. Changed your mind?"
        " `plan` shows their choices again."
    )
    prompt = lines(chat.say(DANA, f"request-approval {ORG} anyway"))
    assert f"*Lose access until an admin decides* (disabled or ambiguous account, 1): {HANA}" in prompt
    assert f"*Lose access, as an admin decided* (1): {GUS}" in prompt


def test_a_decision_voids_the_pending_approval_and_the_approver_is_told(chat: Chat) -> None:
    started(chat)
    prompt = chat.say(DANA, f"request-approval {ORG} anyway")
    sent = chat.say(DANA, f"decide {ORG} {HANA} {HANA_MEMBER}")
    assert lines(sent)[0].endswith(
        "The plan changed, so approval request #1 no longer holds: run `request-approval` again."
    )
    assert chat.state() == "planned"
    copies = {message.updates for message in prompt if message.updates}
    updated = [message for message in sent if message.updates in copies]
    assert updated and all(not message.message.buttons for message in updated)
    assert f"This request no longer holds: an admin decided for {HANA}, so the plan changed." in text_of(
        updated
    )
    refused = lines(chat.click(LEE, prompt, "Approve"))
    assert refused == [
        "Dana just decided for someone the plan could not place; the migration is now planned. Next:"
        " `announce`, `recheck`, `invite`, `request-approval`, `remove-users`, `cancel`."
    ]
    assert chat.state() == "planned"


def test_decisions_survive_a_recheck_and_a_restart(
    chat: Chat, box: Sandbox, sqlite_database: Database
) -> None:
    started(chat)
    chat.say(DANA, f"decide {HANA} {HANA_GUEST}")
    chat.say(DANA, f"decide {GUS} no-access")
    chat.say(DANA, "recheck")
    restarted = Chat(runtime_on(box, sqlite_database.url))  # a process of its own, on the same database
    try:
        plan = rows(restarted.say(DANA, "plan"))
    finally:
        restarted.runtime.close()
    assert (HANA, _SAID["auto"], f"{HANA_GUEST} (chosen by Dana)") in plan
    assert (GUS, _SAID["no-access"], "none: Dana decided they lose access") in plan


def test_hanas_list_messages_and_recognition_use_the_chosen_account(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, f"decide {HANA} {HANA_MEMBER}")
    connect(chat)
    sent = chat.say(DANA, "notify")
    to_hana = [m.to.addresses for m in sent if isinstance(m.to, DirectMessage) and HANA in m.to.addresses]
    assert to_hana == [(HANA_MEMBER, HANA)]  # the chosen account first
    titles = [entry.title for entry in chat.runtime.service.todo_list(HANA_MEMBER)]
    assert titles[0] == "Sign in with your work account"
    assert "Recreate your personal access tokens" in titles
    assert "Tell the admins which work account is yours" not in titles
    assert f"sign in as {HANA_MEMBER}" in chat.runtime.service.todo_list(HANA_MEMBER)[0].body
    assert chat.runtime.service.todo_list(guest_account(chat)) == []  # the other candidate is not her


def test_a_decision_after_the_lists_went_out_changes_hanas_list_and_tells_her(chat: Chat) -> None:
    notified(chat)
    assert chat.runtime.service.todo_list(HANA)[0].title == "Tell the admins which work account is yours"
    assert (
        "⚠️ 2 users still without a way in: their account is disabled, or several match. Decide for them"
        f" (`plan` shows their choices), then {map_by_hand()}."
    ) in lines(chat.say(DANA, "status"))

    sent = chat.say(LEE, f"decide {HANA} {HANA_MEMBER}")
    assert lines(sent)[0] == (
        f"Recorded: {HANA}'s directory account is {HANA_MEMBER}; the plan maps them to it. Map them now:"
        f" in https://dev.azure.com/{ORG}, {map_by_hand(HANA, HANA_MEMBER)}. Their to-do list now says to"
        " sign in with it; my message telling them so is on its way."
    )
    told = [(m.to.addresses, m.message.summary) for m in sent if isinstance(m.to, DirectMessage)]
    assert told == [((HANA_MEMBER, HANA), f"Your work account for {ORG} is {HANA_MEMBER}")]
    titles = [entry.title for entry in chat.runtime.service.todo_list(HANA_MEMBER)]
    assert titles[0] == "Sign in with your work account"
    assert titles[-1] == "Recreate your personal access tokens"
    assert chat.runtime.service.todo_list(guest_account(chat)) == []  # the other candidate is not her now


def test_hana_told_one_account_and_then_another_hears_that_the_first_no_longer_holds(chat: Chat) -> None:
    notified(chat)
    chat.say(LEE, f"decide {HANA} {HANA_MEMBER}")

    sent = chat.say(LEE, f"decide {HANA} {HANA_GUEST}")
    to_hana = [m for m in sent if isinstance(m.to, DirectMessage) and HANA in m.to.addresses]
    assert [(m.to.addresses, m.message.summary) for m in to_hana] == [
        # her guest account by the address she signs in to it with, not its #EXT# name; a guest has no mailbox
        (
            (HANA,),
            f"Your work account for {ORG} is the guest account you sign in to with {HANA}, not {HANA_MEMBER}",
        )
    ]
    assert lines(to_hana)[0] == (
        f"Hi Hana, I told you that {HANA_MEMBER} is your work account. That no longer holds: the"
        f" migration admins recorded the guest account you sign in to with {HANA} as your account and your"
        " identity carries over to it by itself, so your history stays yours. These items of your to-do list"
        " are new, changed or open again:"
    )
    # a guest signs in with her own address
    assert [entry.body for entry in chat.runtime.service.todo_list(HANA) if HANA_MEMBER in entry.body] == []


def test_choosing_hanas_guest_account_with_her_own_address_places_her_as_bob_is_placed(chat: Chat) -> None:
    """Bob's only account is a guest whose mail is his Microsoft account's address: `auto`, his identity
    carries over ("as long as their emails match", the procedure says). Hana's chosen guest is the same."""
    started(chat)
    reply = lines(chat.say(DANA, f"decide {HANA} {HANA_GUEST}"))
    assert reply[0] == (
        f"Recorded: {HANA}'s directory account is {HANA_GUEST}, a guest with their own address: their"
        " identity carries over by itself."
    )
    plan = chat.say(DANA, "plan")
    assert (HANA, _SAID["auto"], f"{HANA_GUEST} (chosen by Dana)") in rows(plan)
    assert plan_rows(plan)[HANA]["outcome"] == plan_rows(plan)[BOB]["outcome"] == "auto"
    connect(chat)
    chat.say(DANA, "notify")
    hers, his = (chat.runtime.service.todo_list(person) for person in (HANA, BOB))
    assert [entry.title for entry in hers] == [entry.title for entry in his]
    assert hers[0].title == "Sign in with your guest account"
    assert "Recreate your personal access tokens" not in [entry.title for entry in hers]


def test_wrong_choices_are_refused_with_what_to_say(chat: Chat) -> None:
    started(chat)
    assert lines(chat.say(DANA, f"decide {HANA} {ANN}"))[0] == (
        f"`{ANN}` is not one of {HANA}'s accounts: several accounts match; choose the one that is theirs:"
        f" `{HANA_GUEST}` or `{HANA_MEMBER}`; or `no-access` to let them lose access knowingly (their"
        " history is kept)."
    )
    assert lines(chat.say(DANA, f"decide {ANN} {ANN}"))[0] == (
        f"{ANN} needs no decision: the plan matches them to {ANN} (auto)."
    )
    assert lines(chat.say(DANA, f"decide nobody@fabrikam.com {ANN}"))[0] == (
        f"I find nobody called `nobody@fabrikam.com` in the plan of {ORG}. Use their Azure DevOps address,"
        f" as `plan` shows it; waiting for a decision: {GUS}, {HANA}."
    )
    assert lines(chat.say(DANA, f"decide {HANA}")) == [
        "Say `decide [ORG] PERSON ACCOUNT`: their Azure DevOps address and the sign-in name of the account"
        " that is theirs (or `no-access`), e.g. `decide hana@contoso.com hana.hart@fabrikam.com`; `plan`"
        " lists them."
    ]
    assert lines(chat.say(DANA, f"decide {ORG} {HANA}")) == [  # the organization named, the account left out
        "Whose account, and which one? Say `decide [ORG] PERSON ACCOUNT`: their Azure DevOps address and the"
        " sign-in name of the account that is theirs (or `no-access`), e.g. `decide hana@contoso.com"
        " hana.hart@fabrikam.com`; `plan` lists them."
    ]
    refused = text_of(chat.say(ANN, f"decide {HANA} {HANA_MEMBER}"))
    assert "is for the organization's admins" in refused and "Nothing was changed" in refused
    assert [e.action for e in chat.runtime.service.audit_trail(ORG)].count("decide_account") == 0


def test_status_points_to_the_people_waiting_for_a_decision_until_there_are_none(chat: Chat) -> None:
    started(chat)
    # in the words of the next steps' "1 person has only a disabled directory account" (walk38)
    waiting = (
        "⚠️ 2 users wait for an admin's decision (1 has only a disabled directory account, 1 has several"
        " matching directory accounts): `plan` shows their choices, with buttons."
    )
    said = lines(chat.say(DANA, "status"))
    assert waiting in said
    assert [line for line in said if "1 person has only a disabled directory account" in line]
    chat.say(DANA, f"decide {HANA} {HANA_MEMBER}")
    assert (
        "⚠️ 1 user waits for an admin's decision (1 has only a disabled directory account): `plan` shows"
        " their choices, with buttons."
    ) in lines(chat.say(DANA, "status"))
    chat.say(DANA, f"decide {GUS} no-access")
    assert not [line for line in lines(chat.say(DANA, "status")) if "decision" in line]


def test_help_tells_an_admin_who_waits_for_their_decision_and_how(chat: Chat) -> None:
    started(chat)
    also = (
        f"  Also: 2 waiting for your decision (disabled or ambiguous account): `plan {ORG}` shows their"
        " choices, `help decide` how."
    )
    assert also in lines(chat.say(DANA, "help"))
    explained = chat.say(DANA, "help decide")[0].message
    assert explained.summary == "help decide" and explained.blocks[0] == Heading("help decide")
    assert "`decide [ORG] PERSON ACCOUNT`: " in text_of([chat.say(DANA, "help decide")[0]])
    chat.say(DANA, f"decide {HANA} {HANA_MEMBER}")
    chat.say(DANA, f"decide {GUS} no-access")
    assert not [line for line in lines(chat.say(DANA, "help")) if "Also:" in line]


def her_guest_still_invited(box: Sandbox, fabrikam: dict[str, Any]) -> None:
    """Hana's guest account was invited by hand and the invitation is not accepted yet."""
    guest = next(user for user in fabrikam["tenant"]["users"] if user["userPrincipalName"] == HANA_GUEST)
    guest["externalUserState"] = "PendingAcceptance"
    box.reset(parse_scenario(fabrikam))


def test_hana_whose_chosen_guest_is_still_to_accept_its_invitation_is_asked_to_accept_it(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    """Her guest was invited by hand and not accepted yet: chosen for her, she is `to-accept` (as Erin is),
    and her list starts with accepting it, not with signing in to it."""
    her_guest_still_invited(box, fabrikam)
    started(chat)
    chat.say(DANA, f"decide {HANA} {HANA_GUEST}")
    assert (HANA, _SAID["to-accept"], f"{HANA_GUEST} (chosen by Dana)") in rows(chat.say(DANA, "plan"))
    connect(chat)
    chat.say(DANA, "notify")
    titles = [entry.title for entry in chat.runtime.service.todo_list(HANA)]
    assert titles[0] == "Accept the invitation to the directory"
    assert "Sign in with your guest account" not in titles


def test_choosing_hanas_pending_guest_after_the_lists_went_out_tells_her_to_accept_it_first(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    her_guest_still_invited(box, fabrikam)
    notified(chat)
    sent = chat.say(LEE, f"decide {HANA} {HANA_GUEST}")
    assert lines(sent)[0].endswith(
        "Their to-do list now says to accept its invitation, then to sign in with it; my message telling"
        " them so is on its way."
    )
    to_hana = [m for m in sent if isinstance(m.to, DirectMessage) and HANA in m.to.addresses]
    assert lines(to_hana)[1] == "1. *Accept the invitation to the directory*"
    titles = [entry.title for entry in chat.runtime.service.todo_list(HANA)]
    assert titles[0] == "Accept the invitation to the directory"
    assert "Sign in with your guest account" not in titles


def test_hana_decided_from_her_member_account_to_her_guest_loses_the_new_tokens_item_and_hears_it(
    chat: Chat,
) -> None:
    """Mapped by hand, her tokens stop working; her guest with her own address carries her identity over,
    so they keep working: the item she was given goes, and the message says so. Clearing the Git credential
    cache is asked of everyone, in the words of the account she now signs in with."""
    notified(chat)
    chat.say(LEE, f"decide {HANA} {HANA_MEMBER}")
    mapped = {entry.title: entry for entry in chat.runtime.service.todo_list(HANA_MEMBER)}
    recreate = mapped["Recreate your personal access tokens"]
    assert "sign in with your work account" in mapped["Clear your Git credential cache"].body

    sent = chat.say(LEE, f"decide {HANA} {HANA_GUEST}")
    now = {entry.title: entry for entry in chat.runtime.service.todo_list(HANA)}
    assert "Recreate your personal access tokens" not in now
    assert "sign in with your guest account" in now["Clear your Git credential cache"].body
    said = lines([m for m in sent if isinstance(m.to, DirectMessage) and HANA in m.to.addresses])
    assert said[-1] == (
        f"No longer on your list, as it does not apply to {HANA}: *{recreate.number}. Recreate your"
        " personal access tokens*. Nothing to do for it."
    )
    assert "*Clear your Git credential cache*" in " ".join(said)  # reworded, so among the changed items


def test_hana_decided_from_her_guest_to_her_member_account_is_given_the_new_tokens_item(chat: Chat) -> None:
    notified(chat)
    chat.say(LEE, f"decide {HANA} {HANA_GUEST}")
    guest = {entry.title: entry for entry in chat.runtime.service.todo_list(HANA)}
    assert "Recreate your personal access tokens" not in guest
    assert "sign in with your guest account" in guest["Clear your Git credential cache"].body

    sent = chat.say(LEE, f"decide {HANA} {HANA_MEMBER}")
    now = {entry.title: entry for entry in chat.runtime.service.todo_list(HANA_MEMBER)}
    assert "Recreate your personal access tokens" in now
    assert "sign in with your work account" in now["Clear your Git credential cache"].body
    said = " ".join(lines([m for m in sent if isinstance(m.to, DirectMessage) and HANA in m.to.addresses]))
    assert "*Recreate your personal access tokens*" in said
    assert "No longer on your list" not in said


def test_hana_decided_from_her_pending_guest_to_her_member_account_is_asked_to_sign_in_with_it_and_told(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    her_guest_still_invited(box, fabrikam)
    notified(chat)
    chat.say(LEE, f"decide {HANA} {HANA_GUEST}")

    sent = chat.say(LEE, f"decide {HANA} {HANA_MEMBER}")

    keys = [entry.key for entry in chat.runtime.service.todo_list(HANA_MEMBER)]
    assert keys[0] == "sign-in-work-account" and "accept-invitation" not in keys
    assert "recreate-pats" in keys
    assert lines(sent)[0].endswith(
        "Their to-do list now says to sign in with it; my message telling them so is on its way."
    )
    to_hana = lines([m for m in sent if isinstance(m.to, DirectMessage) and HANA in m.to.addresses])
    assert to_hana[1] == "1. *Sign in with your work account*"


def test_the_requester_of_the_pending_approval_still_hears_who_waits_for_her_decision(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    chat.say(DANA, "request-approval")
    help_lines = lines(chat.say(DANA, "help"))
    assert any("waiting for another admin to decide approval" in line for line in help_lines)
    assert (
        f"  Also: 2 waiting for your decision (disabled or ambiguous account): `plan {ORG}` shows their"
        " choices, `help decide` how."
    ) in help_lines


def test_deciding_her_back_to_the_account_her_list_already_names_tells_the_admin_she_heard_nothing_new() -> (
    None
):
    """The decision in between never reached her (`workflows` tests the list and the outbox): her list is
    again the one she read, so nobody tells her anything."""
    hana = PlannedUser(HANA, HANA, "map", Match("g-hart", HANA_MEMBER, "decided"), decided_by="Lee")
    decided = AccountDecision(hana, replace(STATUS, state="users_notified"), None, True, as_told=True)
    said = " ".join(text_of([decision_views.account_decided(decided)]).split())
    assert (
        "Their to-do list says to sign in with it again, as the one that may have reached them did: nothing"
        " new to tell them."
    ) in said
    assert "telling them" not in said


def dms_to(outgoing: list[Outgoing], email: str) -> list[str]:
    """Each direct message to `email` among `outgoing`: its summary, then its text, on one line."""
    return [
        " ".join([message.message.summary, *lines([message])])
        for message in outgoing
        if isinstance(message.to, DirectMessage) and message.to.email == email
    ]


def test_hana_told_to_get_ready_hears_at_once_that_she_loses_access_and_notify_says_nothing_more(
    chat: Chat,
) -> None:
    """The advance notice asked her which account is hers and promised a list (walk 27, finding 9):
    Dana's decision is told her then, once; `notify` sends her nothing more and `todo` agrees. (Gus, whose
    only account is disabled, left: the notice is not for him, walk33 finding 6.)"""
    started(chat)
    announced = chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    assert dms_to(announced, GUS) == []
    (notice,) = dms_to(announced, HANA)
    assert "which one you use" in notice
    decided = chat.say(DANA, f"decide {HANA} no-access")
    assert (
        "The advance notice told them to get ready, so my message telling them now that they lose access is"
        " on its way; `notify` sends them nothing more."
    ) in lines(decided)[0]
    (told,) = dms_to(decided, HANA)
    assert told.startswith(f"You lose access to {ORG} when it moves"), told
    assert (
        f"Hi Hana, as I told you, {ORG} on Azure DevOps will sign in with Fabrikam accounts, and none of the"
        " accounts in Fabrikam that carry your address is yours. Dana, a migration admin, decided that you"
        f" lose access to {ORG}. Your work items, commits and history stay in the organization under your old"
        " name. What I asked you to get ready for it no longer holds, and no to-do list follows: nothing for"
        " you to do; if you still need access, ask Dana."
    ) in told
    connect(chat)
    assert dms_to(chat.say(DANA, "notify"), HANA) == []
    todo = " ".join(text_of(chat.say(HANA, "todo", in_dm=True)).split())
    assert "Dana, a migration admin, decided that you lose access" in todo


def test_gus_decided_out_before_his_advance_notice_went_hears_only_the_decision_and_the_admin_why() -> None:
    """A notice still waiting is stopped (`workflows` tests the outbox): nothing he read is taken back."""
    gus = PlannedUser(GUS, "Gus", "disabled", None, decided_by="Dana")
    decided = AccountDecision(gus, replace(STATUS, state="announced"), None, False, told_early="stopped")
    said = " ".join(text_of([decision_views.account_decided(decided)]).split())
    assert (
        "Their advance notice had not gone out yet, so it never will; my message telling them now that they"
        " lose access is on its way, and `notify` sends them nothing more."
    ) in said
    told = list_message_views.access_lost_dm(
        organization=ORG,
        tenant="Fabrikam",
        name="Gus",
        decided_by="Dana",
        case="disabled",
        told_early=True,
        takes_back=False,
        connected=False,
    )
    assert " ".join(text_of([Outgoing(told)]).split()) == (
        f"YOU LOSE ACCESS TO {ORG.upper()} WHEN IT MOVES Hi Gus, {ORG} on Azure DevOps will sign in"
        " with Fabrikam accounts, and your only account in Fabrikam is disabled. Dana, a migration admin,"
        f" decided that you lose access to {ORG}. Your work items, commits and history stay in the"
        " organization under your old name. No to-do list follows: nothing for you to do; if you still"
        " need access, ask Dana."
    )


def test_hana_told_she_loses_access_then_given_her_account_before_notify_hears_it_once_then_her_list(
    chat: Chat,
) -> None:
    started(chat)
    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    (lost,) = dms_to(chat.say(DANA, f"decide {HANA} no-access"), HANA)
    assert lost.startswith(f"You lose access to {ORG} when it moves")
    # where the notices reached her
    decided = chat.say(DANA, f"decide {HANA} {HANA_MEMBER}")
    assert (
        'My message telling them that "you lose access" no longer holds is on its way; they get their'
        " list at `notify`." in (lines(decided)[0])
    )
    (back,) = dms_to(decided, HANA)
    assert back == (
        f"You keep access to {ORG} after all Hi Hana, I told you that you lose access to {ORG}. That no"
        f" longer holds: the migration admins recorded {HANA_MEMBER} as your work account, so you keep"
        " access and your history stays yours. When the organization moves, I send you your own short"
        " to-do list."
    )
    connect(chat)
    (her_list,) = dms_to(chat.say(DANA, "notify"), HANA_MEMBER)
    assert her_list.startswith(f"Your to-do list for {ORG}")


def test_hana_decided_out_then_given_her_guest_account_is_told_the_address_she_signs_in_to_it_with(
    chat: Chat,
) -> None:
    """Its `#EXT#` sign-in name is no address anyone types: she signs in to her guest account with hers, as
    a re-decision's message already says (`account_decided_dm`)."""
    notified(chat)
    chat.say(LEE, f"decide {HANA} no-access")

    (kept,) = dms_to(chat.say(LEE, f"decide {HANA} {HANA_GUEST}"), HANA)

    assert kept.startswith(
        f"You keep access to {ORG} after all Hi Hana, I told you that you lose access to {ORG}. That no"
        f" longer holds: the migration admins recorded the guest account you sign in to with {HANA} as your"
        " work account and your identity carries over to it by itself, so you keep access and your history"
        " stays yours."
    ), kept
    assert "#EXT#" not in kept


def test_hana_told_early_she_loses_access_then_given_her_guest_account_is_told_the_address_too(
    chat: Chat,
) -> None:
    started(chat)
    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    chat.say(DANA, f"decide {HANA} no-access")

    (back,) = dms_to(chat.say(DANA, f"decide {HANA} {HANA_GUEST}"), HANA)

    assert (
        f"the migration admins recorded the guest account you sign in to with {HANA} as your work account,"
        in back
    )
    assert "#EXT#" not in back
