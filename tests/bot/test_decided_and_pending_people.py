"""Two kinds of people the plan places by more than their outcome: Gus, whom an admin decided loses access
(his only directory account is disabled), and Erin and Frank, guests whose invitation is still pending.
Their counts, and their lists after the connection (the weeks after it: `test_rehearsal_clock`)."""

from __future__ import annotations

from bot.conversation.messages import DirectMessage, Facts, Outgoing, Table, Text
from bot.conversation.plan_views import OUTCOME_WORDS
from tests.bot.conftest import ORG, Chat, connected, notified, started, text_of
from tests.bot.test_closing import billing_moved

DANA, LEE, GUS, ERIN = "dana@fabrikam.com", "lee@fabrikam.com", "gus@fabrikam.com", "erin.eng@gmail.com"


def test_the_counts_keep_whoever_is_still_to_accept_their_invitation_apart_everywhere(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    chat.say(DANA, f"decide {ORG} {GUS} no-access")
    plan = chat.say(DANA, "plan")
    (counts,) = [block for out in plan for block in out.message.blocks if isinstance(block, Facts)]
    assert counts.pairs == (
        ("5 users", "keep access (same identity)"),
        ("2 users", "invited, still to accept: no access from the switch until they accept"),
        ("2 users", "keep access, mapped by hand after connecting"),
        ("1 user", "needs a decision: several directory accounts match"),
        ("1 user", "loses access, as an admin decided"),
    )
    said = [block.markdown for out in plan for block in out.message.blocks if isinstance(block, Text)]
    assert any(text.startswith("*Keep access* (5): ") for text in said)
    rows = {
        row[0]: row[1]
        for out in plan
        for block in out.message.blocks
        if isinstance(block, Table)
        for row in block.rows
    }
    assert (rows[ERIN], rows["frank.f@outlook.com"], rows[GUS]) == (  # what happens, in plain words
        OUTCOME_WORDS["to-accept"][1],
        OUTCOME_WORDS["to-accept"][1],
        OUTCOME_WORDS["no-access"][1],
    )
    status = [b for out in chat.say(DANA, "status") for b in out.message.blocks if isinstance(b, Facts)]
    assert counts in status


def test_once_connected_the_status_no_longer_asks_them_to_accept_before_the_switch(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    chat.click(LEE, chat.say(DANA, "request-approval"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    facts = [b for out in chat.say(DANA, "status") for b in out.message.blocks if isinstance(b, Facts)]
    (counts,) = [block for block in facts if ("5 users", "keep access (same identity)") in block.pairs]
    assert {what: count for count, what in counts.pairs} == {
        "keep access (same identity)": "5 users",
        "invited, still to accept when the plan was made: no access until they accept": "2 users",
        "keep access, mapped by hand after connecting": "2 users",
        "loses access: their directory account is disabled": "1 user",
        "needs a decision: several directory accounts match": "1 user",
    }


def test_a_second_migration_after_a_cancel_still_asks_pending_guests_to_accept(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    chat.say(DANA, f"cancel {ORG}")
    started(chat)

    status = text_of(chat.say(DANA, "status"))
    assert "Nobody needs an invitation" not in status
    assert "2 people are invited and still to accept their invitation" in " ".join(status.split())
    chat.click(LEE, chat.say(DANA, "request-approval"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    chat.say(DANA, "notify")
    for guest in (ERIN, "frank.f@outlook.com"):
        titles = [entry.title for entry in chat.runtime.service.todo_list(guest)]
        assert titles[0] == "Accept the invitation to the directory"
        assert "Sign in with your guest account" not in titles
    # still on their Microsoft account until they accept: nothing for an admin to invite or map
    progress = text_of(chat.say(DANA, "check-sign-ins") + chat.say(DANA, "progress"))
    cases = {
        line.split()[0]: line.split()[1]
        for line in progress.splitlines()
        if "  map  " in line or "  invite  " in line
    }
    assert cases == {"carol.w@outlook.com": "map", "kim@fabrikam-old.com": "map"}


def test_deciding_someone_out_after_the_lists_went_out_withdraws_their_list_and_tells_them(
    chat: Chat,
) -> None:
    notified(chat)
    assert chat.runtime.service.todo_list(GUS)[0].title == "Tell the admins if you still need access"

    sent = chat.say(LEE, f"decide {ORG} {GUS} no-access")
    withdrawn = "Their to-do list is withdrawn; my message telling them they lose access is on its way."
    assert withdrawn in " ".join(text_of(sent).split())
    told = [m.message.summary for m in sent if isinstance(m.to, DirectMessage) and GUS in m.to.addresses]
    assert told == [f"You no longer have access to {ORG}"]
    assert chat.runtime.service.todo_list(GUS) == []
    assert chat.runtime.service.status(ORG).counts["no-access"] == 1


def test_someone_decided_out_after_the_lists_went_out_is_no_open_work_in_any_count(chat: Chat) -> None:
    billing_moved(chat)  # the lists are out and `complete` may run
    chat.say(LEE, f"decide {ORG} {GUS} no-access")

    (progress,) = chat.say(DANA, f"progress {ORG}")
    assert progress.message.summary.startswith(
        f"{ORG}: 0 of 10 people done; 1 more loses access (decided by Lee); 0 of "
    )
    status = " ".join(text_of(chat.say(DANA, "status")).split())
    assert "To-do lists: 0 of 10 people done (1 more loses access (decided by Lee)), 0 of " in status
    (confirm,) = [
        button.confirm
        for out in chat.say(DANA, f"complete {ORG}")
        for button in out.message.buttons
        if button.label == "Complete anyway"
    ]
    assert confirm == (
        f"Complete {ORG}, leaving 10 of 10 people not able to get in or not seen signing in? Reminders stop"
        " for everyone."
    )


HANA, HANA_AT_WORK = "hana@contoso.com", "hana.hart@fabrikam.com"
"""Two directory accounts carry her address: an admin decides which is hers."""


def test_someone_decided_out_and_then_given_an_account_gets_their_list_and_hears_they_keep_access(
    chat: Chat,
) -> None:
    notified(chat)
    chat.say(LEE, f"decide {ORG} {HANA} no-access")
    assert chat.runtime.service.todo_list(HANA) == []

    sent = chat.say(LEE, f"decide {ORG} {HANA} {HANA_AT_WORK}")
    (told,) = [m for m in sent if isinstance(m.to, DirectMessage) and HANA_AT_WORK in m.to.addresses]
    assert told.message.summary == f"You keep access to {ORG} after all"
    assert (
        f"Their access to {ORG} is restored: their whole to-do list is back, saying to sign in with it; my"
        " message telling them so is on its way."
        in " ".join(text_of([m for m in sent if m is not told]).split())
    )
    words = " ".join(text_of([told]).split())
    assert f"I told you that you lose access to {ORG}. That no longer holds: the migration admins" in words
    assert f"recorded {HANA_AT_WORK} as your work account" in words
    titles = [entry.title for entry in chat.runtime.service.todo_list(HANA_AT_WORK)]
    assert titles[0] == "Sign in with your work account"
    assert all(title in words for title in titles) and words.count("[Done: ") == len(titles)  # all of it
    (progress,) = chat.say(DANA, f"progress {ORG}")
    assert progress.message.summary.startswith(f"{ORG}: 0 of 11 people done; 0 of ")


def test_someone_decided_out_before_the_lists_went_out_and_then_given_an_account_has_their_first_list(
    chat: Chat,
) -> None:
    connected(chat)
    chat.say(LEE, f"decide {ORG} {HANA} no-access")
    chat.say(DANA, "notify")  # she gets no list: "you lose access"

    sent = chat.say(LEE, f"decide {ORG} {HANA} {HANA_AT_WORK}")
    to_admin = " ".join(text_of([m for m in sent if not isinstance(m.to, DirectMessage)]).split())
    assert (
        f"Their access to {ORG} is restored: they have their to-do list now, saying to sign in with it; my"
        " message telling them so is on its way." in to_admin
    )
    assert "back" not in to_admin
    assert chat.runtime.service.todo_list(HANA_AT_WORK)[0].title == "Sign in with your work account"


def test_a_lost_access_notice_not_sent_yet_is_stopped_when_an_account_is_decided(chat: Chat) -> None:
    notified(chat)
    # decided without the chat delivering what it queued: the notice still waits in the outbox
    chat.runtime.service.decide_account(ORG, HANA, "no-access", chat.person(LEE))

    sent = chat.say(LEE, f"decide {ORG} {HANA} {HANA_AT_WORK}")
    to_her = [m.message.summary for m in sent if isinstance(m.to, DirectMessage) and HANA in m.to.also]
    assert to_her == [f"Your work account for {ORG} is {HANA_AT_WORK}"]  # never "you no longer have access"
    assert "lose access" not in text_of(sent)


def _to_hana(sent: list[Outgoing]) -> list[Outgoing]:
    return [m for m in sent if isinstance(m.to, DirectMessage) and {HANA, HANA_AT_WORK} & {*m.to.addresses}]


def test_a_keep_access_message_not_sent_yet_is_stopped_when_she_is_decided_back_out(chat: Chat) -> None:
    notified(chat)
    chat.say(LEE, f"decide {ORG} {HANA} no-access")
    # decided without the chat delivering what it queued: "you keep access" still waits in the outbox
    chat.runtime.service.decide_account(ORG, HANA, HANA_AT_WORK, chat.person(LEE))

    sent = _to_hana(chat.say(LEE, f"decide {ORG} {HANA} no-access"))
    assert [m.message.summary for m in sent] == [f"You no longer have access to {ORG}"]  # never "you keep"
    assert "The to-do list I sent you no longer holds" in " ".join(text_of(sent).split())
    assert chat.runtime.service.todo_list(HANA_AT_WORK) == []
    assert _to_hana(chat.say(LEE, "status")) == []  # nothing else waits for her


def test_after_hearing_she_keeps_access_she_hears_she_no_longer_does_once_decided_back_out(
    chat: Chat,
) -> None:
    notified(chat)
    chat.say(LEE, f"decide {ORG} {HANA} no-access")
    chat.say(LEE, f"decide {ORG} {HANA} {HANA_AT_WORK}")  # delivered: "You keep access after all"

    sent = _to_hana(chat.say(LEE, f"decide {ORG} {HANA} no-access"))
    assert [m.message.summary for m in sent] == [f"You no longer have access to {ORG}"]
    words = " ".join(text_of(sent).split())
    assert "The to-do list I sent you no longer holds: nothing for you to do" in words
