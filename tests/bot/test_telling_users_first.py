"""Microsoft's first prerequisite, "Inform users of the upcoming change ... before you begin", comes first:
the start summary's next steps follow the tutorial's order with *Tell users what is coming* first, an
approval asked before anyone was told says so (without blocking), and the button asks before it messages
everyone (reviewer's findings). Once told, `status` says when and whom the notice reached, a bare `announce`
sends nothing vaguer, and the approval warns of those it missed who must act (walk25 findings 1, 3, 7)."""

from __future__ import annotations

import re

from sqlmodel import col, select

from bot.conversation.messages import Button, DirectMessage, Outgoing, Reply
from storage import OutboundMessage
from storage.outbox import NOT_IN_CHAT
from tests.bot.announced_days import A_FRIDAY
from tests.bot.conftest import ORG, Chat, started, text_of
from tests.bot.test_decisions import lines

DANA, LEE = "dana@fabrikam.com", "lee@fabrikam.com"
NOBODY_TOLD = f"Nobody in {ORG} has been told yet what is coming"


def buttons(outgoing: list[Outgoing]) -> list[Button]:
    return [button for message in outgoing for button in message.message.buttons]


def test_the_start_summary_puts_telling_users_first_in_the_tutorials_order(chat: Chat) -> None:
    started = chat.say(DANA, f"/aad start {ORG} fabrikam.com")
    said = " ".join(text_of(started).split())
    assert (
        "Next, as Microsoft orders it: remove the people who left (1 person has only a disabled directory"
        " account: `stale-users`, then `remove-users`), tell users what is coming (`announce`, with the"
        " date), invite the missing users, then request approval."
    ) in said  # Gus left: prerequisite 4 comes before the notice, which is for the people who stay
    labels = [button.label for button in buttons(started)]
    assert labels[:2] == ["Users who may have left", "Tell users what is coming"]
    assert labels.index("Tell users what is coming") < labels.index("Invite missing users")
    assert labels.index("Invite missing users") < labels.index("Request approval")


def test_the_announce_button_asks_for_the_date_before_messaging_everyone(chat: Chat) -> None:
    announce = next(
        b for b in buttons(chat.say(DANA, f"/aad start {ORG} fabrikam.com")) if b.action == "announce"
    )
    assert announce.value == ORG
    assert "without a date?" in announce.confirm
    assert f"type `announce {ORG} WHEN` instead" in announce.confirm
    typed = chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")  # the typed command stays direct
    assert any(isinstance(message.to, DirectMessage) for message in typed)


def test_an_approval_asked_before_anyone_was_told_says_so_and_offers_the_notice(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    requested = chat.say(DANA, "request-approval")
    reply = [message for message in requested if isinstance(message.to, Reply)]
    prompts = [message for message in requested if isinstance(message.to, DirectMessage)]
    assert reply and prompts
    for said in (reply, prompts):
        assert NOBODY_TOLD in " ".join(text_of(said).split())
        assert any(button.action == "announce" and button.confirm for button in buttons(said))
    assert "Approve" in [button.label for button in buttons(prompts)]  # it does not block

    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    again = chat.say(DANA, "request-approval")
    assert NOBODY_TOLD not in " ".join(text_of(again).split())
    assert "announce" not in [button.action for button in buttons(again)]


def said(outgoing: list[Outgoing]) -> str:
    return " ".join(text_of(outgoing).split())


def bullets(outgoing: list[Outgoing]) -> list[str]:
    """The bulleted lines of the messages' text, as written (before a surface wraps them)."""
    return [line for line in lines(outgoing) if line.startswith("• ")]


def direct(outgoing: list[Outgoing]) -> list[str]:
    return [message.to.email for message in outgoing if isinstance(message.to, DirectMessage)]


def test_a_bare_announce_after_a_dated_one_messages_nobody_and_says_what_went_out_when(chat: Chat) -> None:
    """Also what *Tell users what is coming* sends: a second, dateless notice would read as withdrawn."""
    started(chat)
    assert len(direct(chat.say(DANA, f"announce {ORG} next Friday"))) == 10  # not Gus, who left
    bare = chat.say(DANA, "announce")
    assert direct(bare) == [] and "announce" not in [button.action for button in buttons(bare)]
    assert re.match(f"Everyone has already been told for {A_FRIDAY}, on 20", said(bare)), said(bare)
    assert len(direct(chat.say(DANA, f"announce {ORG} Monday 09:00 UTC"))) == 10  # a new date: everyone


def test_status_and_recheck_say_when_users_were_told_and_next_moves_on(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    first = chat.say(DANA, "status")
    before = said(first)
    assert "Next, as Microsoft orders it: remove the people who left" in before
    assert "), tell users what is coming (`announce`" in before
    assert "Users told" not in before and "announce" in [button.action for button in buttons(first)]
    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    for command in ("status", "recheck"):
        reply = chat.say(DANA, command)
        assert "announce" not in [button.action for button in buttons(reply)]  # nobody is left to tell
        after = said(reply)
        assert re.search(f"Users told what is coming for {A_FRIDAY} 14:00 UTC on 20", after), after
        assert "UTC: 10 of 10 people reached." in after
        assert (
            "Next, as Microsoft orders it: remove the people who left (1 person has only a disabled directory"
            " account: `stale-users`, then `remove-users`), then request approval." in after
        )
        assert "tell users what is coming (`announce`" not in after


def test_once_everyone_was_told_no_reply_offers_to_tell_them_again(chat: Chat) -> None:
    """`plan`, `invite`, `decide` and removals show the next steps' buttons too: *Tell users what is
    coming* fits only while someone in the plan is still to be told (and never after connecting)."""
    started(chat)
    assert "announce" in [button.action for button in buttons(chat.say(DANA, "plan"))]
    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    for command in ("plan", "invite", "decide hana@contoso.com hana.hart@fabrikam.com", "plan"):
        reply = chat.say(DANA, command)
        assert "announce" not in [button.action for button in buttons(reply)], command
        assert buttons(reply), command  # the other next steps are still there


def test_people_the_notice_could_not_reach_are_named_with_why_and_the_approval_warns_of_them_all(
    chat: Chat,
) -> None:
    """Teams reaches nobody who has not installed the app, Slack nobody outside the workspace: both record
    the same outcome, `not_in_chat`, and that record is what status and the approval read."""
    started(chat)
    chat.say(DANA, "invite")  # Erin and Frank: invited, still to accept
    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    unreachable = {"erin.eng@gmail.com", "hana@contoso.com", "ann@fabrikam.com"}
    with chat.runtime.database.session() as session:
        for notice in session.exec(
            select(OutboundMessage).where(
                OutboundMessage.kind == "advance_notice", col(OutboundMessage.recipient).in_(unreachable)
            )
        ):
            notice.status, notice.error_code = "failed", NOT_IN_CHAT
            notice.last_error = "the app is not installed for them"
            session.add(notice)
        session.commit()
    in_channel = chat.say(DANA, "status")  # counted there: people's names are their addresses
    assert "7 of 10 people reached, 3 could not be reached." in said(in_channel)
    assert bullets(in_channel) == []
    status = chat.say(DANA, f"status {ORG}", in_dm=True)
    assert "7 of 10 people reached, 3 could not be reached." in said(status)
    assert bullets(status) == [  # those who must act, or lose access, first
        "• erin.eng@gmail.com (invited, still to accept: no access from the switch until they accept) —"
        " when the notice went out: the app is not installed for them",
        "• hana@contoso.com (needs a decision: several directory accounts match) — when the notice went out:"
        " the app is not installed for them",
        "• ann@fabrikam.com (keeps access (same identity)) — when the notice went out: the app is not"
        " installed for them",
    ]
    assert "tell them another way, by email at these addresses" in said(status)
    # `plan` is for admins: so is whom the notice missed and what the plan does with them
    theirs = said(chat.say("ann@fabrikam.com", f"status {ORG}"))
    assert (
        "7 of 10 people reached, 3 could not be reached. An admin's `status` in a direct message with me"
        " names them."
    ) in theirs
    assert not any(address in theirs for address in unreachable)

    # Ann keeps access, yet she too does not know what is coming: the request counts and names whom
    # `status` does, those who must act first (walk39: 33 missed, request-approval said 30)
    with chat.runtime.database.session() as session:
        ann = session.exec(
            select(OutboundMessage).where(
                OutboundMessage.kind == "advance_notice", OutboundMessage.recipient == "ann@fabrikam.com"
            )
        ).one()
        ann.last_error = "they blocked the bot"
        session.add(ann)
        session.commit()
    requested = chat.say(DANA, "request-approval")
    prompt = [m for m in requested if isinstance(m.to, DirectMessage) and m.to.email == LEE]
    everyone = ["erin.eng@gmail.com", "hana@contoso.com", "ann@fabrikam.com"]
    assert [line.split(" ")[1] for line in bullets(prompt)] == everyone
    assert NOBODY_TOLD not in said(prompt) and "This does not block approval." in said(prompt)
    # asked in the channel: the answer counts them, every reason; who they are goes to Dana alone
    answer, named = [m for m in requested if isinstance(m.to, Reply)]
    assert not answer.message.private and said([answer]).endswith(
        "⚠️ The advance notice could not reach 3 users in chat (2 — the app is not installed for them; 1 —"
        " they blocked the bot), so they do not know what is coming. This does not block approval."
    )
    assert named.message.private
    assert named.message.summary == f"Not reached by the advance notice of {ORG}, by name"
    assert [line.split(" ")[1] for line in bullets([named])] == everyone


def test_the_notice_to_whom_several_accounts_match_names_the_admins_and_privately_the_accounts(
    chat: Chat,
) -> None:
    started(chat)
    told = chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    (to_hana,) = [m for m in told if isinstance(m.to, DirectMessage) and "hana@contoso.com" in m.to.addresses]
    accounts = "(hana_contoso.com#EXT#@fabrikam.onmicrosoft.com, hana.hart@fabrikam.com)"
    assert (
        f"Several accounts in Fabrikam match your address {accounts}. Tell the migration admins"
        " (dana@fabrikam.com, lee@fabrikam.com) which one you use, so they can map you to it."
    ) in " ".join(text_of([to_hana]).split())
    # the accounts are hers alone to read: nobody else's notice names them
    others = [m for m in told if m is not to_hana]
    assert "hana.hart@fabrikam.com" not in " ".join(text_of(others).split())
