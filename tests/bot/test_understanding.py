"""Conversations where people do not type a command exactly: typos, questions, asking for help."""

from __future__ import annotations

import re

import pytest

from bot.conversation.commands import parse
from bot.conversation.messages import DirectMessage, Outgoing, Reply
from tests.bot.conftest import ORG, Chat, notified, started, text_of
from workflows.directory import OrgUser

UNDONE_BY = (
    "They lose access at once; their history stays, and adding them back under Organization settings > Users"
    " (with their access level and groups) undoes it."
)

DANA, LEE, ANN = "dana@fabrikam.com", "lee@fabrikam.com", "ann@fabrikam.com"


def without_rating_ids(outgoing: list[Outgoing]) -> str:
    """The same reply twice differs only in the ids its Helpful / Not helpful buttons carry."""
    return re.sub(r"#\d+", "#N", text_of(outgoing))


def only_for_the_asker(outgoing: list[Outgoing]) -> bool:
    return all(isinstance(message.to, Reply) and message.message.private for message in outgoing)


def test_a_typo_gets_did_you_mean_and_its_button_runs_the_corrected_command(chat: Chat) -> None:
    notified(chat)
    typo = chat.say(DANA, f"/aad progres {ORG}")
    assert only_for_the_asker(typo)
    reply = " ".join(text_of(typo).split())
    assert f"I don't know `progres`. Did you mean `progress {ORG}`?" in reply
    assert "request-approval" not in reply  # no wall of help for a slip of the keyboard
    [suggested] = typo[0].message.buttons
    assert (suggested.action, suggested.value) == ("progress", ORG)

    ran = chat.click(DANA, typo, f"progress {ORG}")
    assert ran[0].message.summary.startswith(f"{ORG}: 0 of 11 people done")


def test_typos_of_many_kinds_point_to_the_command_meant(chat: Chat) -> None:
    started(chat)
    for typed, meant in (
        ("stat", "status"),
        ("aprove 1", "approve 1"),
        ("invte", "invite"),
        ("stauts fabrikam-fiber", "status fabrikam-fiber"),
        ("request approval", "request-approval"),
        ("Stale_Users 30", "stale-users 30"),
    ):
        reply = " ".join(text_of(chat.say(DANA, typed)).split())
        assert f"Did you mean `{meant}`" in reply, typed


def test_a_typo_followed_by_a_migration_and_more_words_is_a_slip_not_a_question(chat: Chat) -> None:
    started(chat)
    typo = chat.say(DANA, f"annouce {ORG} Friday 14:00 UTC")
    assert f"Did you mean `announce {ORG} Friday 14:00 UTC`?" in " ".join(text_of(typo).split())
    [suggested] = typo[0].message.buttons
    assert suggested.action == "announce" and suggested.value == f"{ORG} Friday 14:00 UTC"
    assert "Did you mean" in text_of(chat.say(DANA, f"invte {ORG.upper()} now please", in_dm=True))
    question = " ".join(text_of(chat.say(DANA, "annouce means what?")).split())
    assert "Did you mean" not in question  # a real question still reaches the FAQ
    assert without_rating_ids(chat.say(DANA, "annouce means what?")) == without_rating_ids(
        chat.say(DANA, "ask annouce means what?")
    )


def test_a_command_with_words_too_many_names_them_and_its_usage_not_the_input_as_a_guess(chat: Chat) -> None:
    started(chat)
    for typed, understood, extra in (
        (f"plan {ORG} extra args here", f"plan {ORG}", "extra args here"),
        (f"invite {ORG} now please", f"invite {ORG}", "now please"),
        (f"status {ORG} foo", f"status {ORG}", "foo"),
    ):
        reply = chat.say(DANA, typed)
        said = " ".join(text_of(reply).split())
        assert f"I understood `{understood}` but not `{extra}`" in said, said
        assert f"Usage: `{typed.split()[0]} [ORG]`" in said and "I don't know" not in said, said
        assert f"`{typed}`" not in said and only_for_the_asker(reply) and "INVITATIONS" not in said
    invited = chat.click(DANA, chat.say(DANA, f"invite {ORG} now please"), f"invite {ORG}")
    assert "INVITATIONS FOR FABRIKAM-FIBER" in text_of(invited)  # the button runs what was understood


def test_typed_words_shown_back_as_code_keep_their_backticks_from_ending_the_code(chat: Chat) -> None:
    """`a`b` shows `a` as code and the rest out of place: a typed backtick is shown as its look-alike, as
    `I don't know ...` already did, in each message that names what was typed."""
    started(chat)
    for typed, shown in (
        (f"status {ORG} `rm` -rf", f"I understood `status {ORG}` but not `\uff40rm\uff40 -rf`"),
        ("complete fab`rikam confirm", "I know no migration called `fab\uff40rikam`, so I completed nothing"),
        ("announce fabrikam-fibre` Friday", "I know no migration called `fabrikam-fibre\uff40`"),
    ):
        said = " ".join(text_of(chat.say(DANA, typed)).split())
        assert shown in said, said
        assert said.count("`") % 2 == 0, said


def test_unicode_spaces_pasted_from_a_web_page_separate_words(chat: Chat) -> None:
    assert "DANA STARTED MOVING" in text_of(chat.say(DANA, f"start\u00a0{ORG}\u2009fabrikam.com"))
    assert chat.state() == "planned"


def test_line_separators_are_spaces_and_zero_width_characters_are_dropped() -> None:
    pasted = parse(f"\ufeffstart\u2028{ORG}\u2029fabrikam\u200b.com\u2060")
    assert (pasted.word, pasted.args) == ("start", (ORG, "fabrikam.com"))
    assert parse("sta\u200brt").word == "start"


@pytest.mark.parametrize("days", ["-5", "abc", "+7"])
def test_stale_users_with_a_word_that_is_no_number_of_days_says_so(chat: Chat, days: str) -> None:
    started(chat)
    for typed in (f"stale-users {ORG} {days}", f"stale-users {days}"):
        said = " ".join(text_of(chat.say(DANA, typed)).split())
        alone = days == "abc" and typed == f"stale-users {days}"  # a lone word may be a migration's name
        refusal = "is neither a migration I know nor a number of days" if alone else "is not a number of days"
        assert f"`{days}` {refusal}" in said and "stale-users [ORG] [DAYS]" in said, said
        assert "no migration" not in said


def test_a_typo_in_a_direct_message_is_a_typo_not_a_question(chat: Chat) -> None:
    started(chat)
    typo = chat.say(ANN, "stat", in_dm=True)
    assert "Did you mean `status`" in text_of(typo)
    shown = chat.click(ANN, typo, "status")
    assert shown[0].message.summary == f"{ORG}: planned"


def test_an_unknown_word_that_is_no_typo_gets_a_short_pointer_not_the_whole_help(chat: Chat) -> None:
    reply = chat.say(ANN, "/aad frobnicate")
    assert only_for_the_asker(reply)
    text = text_of(reply)
    assert "I don't know `frobnicate`" in text and "`help`" in text
    assert "Did you mean" not in text and "request-approval" not in text


def test_an_unknown_word_with_a_backtick_is_echoed_as_one_code_span(chat: Chat) -> None:
    """rev41: `a`b` in backticks made code of `a`, and the rest of the message stood out of place."""
    reply = chat.say(ANN, "/aad a`b")
    assert reply[0].message.summary == "I don't know `a\uff40b`.", reply


def test_a_question_after_the_slash_command_is_answered_like_ask(chat: Chat) -> None:
    started(chat)
    question = "what happens to my pipelines?"
    answered = chat.say(ANN, f"/aad {question}")
    assert isinstance(answered[0].to, Reply)
    assert without_rating_ids(answered) == without_rating_ids(chat.say(ANN, f"ask {question}"))
    assert "I don't know `what`" not in text_of(answered)
    declined = chat.say(ANN, "/aad what's the best pizza topping?")
    asked = chat.say(ANN, "ask what's the best pizza topping?")
    assert without_rating_ids(declined) == without_rating_ids(asked)
    assert "don't know" in text_of(declined).lower() or "not sure" in text_of(declined).lower()


def test_a_command_word_with_punctuation_is_still_the_command(chat: Chat) -> None:
    started(chat)
    assert chat.say(ANN, "status?")[0].message.summary == f"{ORG}: planned"
    assert "Did you mean `status`" in text_of(chat.say(ANN, "stat?"))


def test_a_sentence_after_a_word_that_takes_only_an_organization_is_a_question(chat: Chat) -> None:
    started(chat)
    pasted = "invite guest -> 403 forbidden. what do i do"
    assert text_of(chat.say(DANA, pasted)) == text_of(chat.say(DANA, f"ask {pasted}"))
    assert "Guest Inviter" in text_of(chat.say(DANA, pasted))
    assert chat.runtime.service.audit_trail(ORG)[-1].action != "invite"
    reason = chat.say(DANA, f"cancel {ORG} the tenant is wrong, what now?")  # a reason is free text
    assert chat.state() == "cancelled" and not reason[0].message.private


def test_questions_that_start_like_a_command_word_are_still_questions(chat: Chat) -> None:
    started(chat)
    for question in ("can I keep my personal access tokens", "do I keep my Visual Studio subscription"):
        reply = text_of(chat.say(ANN, question))
        assert "Did you mean" not in reply, question
    assert chat.state() == "planned"  # `can` was never taken for `cancel`


def test_help_shows_an_admin_the_next_step_of_their_migration_first(chat: Chat) -> None:
    started(chat)
    shown = chat.say(DANA, "help")
    assert only_for_the_asker(shown)
    text = " ".join(text_of(shown).split())
    assert f"{ORG} (planned): next, `invite {ORG}`" in text
    assert "help all" in text and "help WORD" in text
    assert "retry-failed" not in text and "check-billing" not in text  # not the whole list
    [step, *_] = shown[0].message.buttons
    assert (step.action, step.value, step.style) == ("invite", ORG, "primary")
    invited = chat.click(DANA, shown, "Invite missing users")
    assert [m.message.summary for m in invited if isinstance(m.to, Reply)] == ["2 invited."]


def test_while_an_approval_waits_help_tells_the_other_admin_to_approve(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    chat.say(DANA, "request-approval")
    approval = chat.runtime.service.status(ORG).pending_approval_id
    shown = chat.say(LEE, "help")
    assert f"next, `approve {approval}`" in " ".join(text_of(shown).split())
    chat.click(LEE, shown, f"Approve #{approval}")
    assert chat.state() == "connecting"


def test_while_an_approval_waits_help_tells_its_requester_to_wait_and_offers_no_approve(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    chat.say(DANA, "request-approval")  # four eyes: not Dana's to decide
    shown = chat.say(DANA, "help")
    assert f"{ORG} (awaiting approval): waiting for another admin to decide approval #1." in " ".join(
        text_of(shown).split()
    )
    assert [button.action for button in shown[0].message.buttons] == []


def test_help_shows_a_user_their_own_list_and_nothing_of_the_admins(chat: Chat) -> None:
    notified(chat)
    text = " ".join(text_of(chat.say(ANN, "help", in_dm=True)).split())
    assert "Your to-do list (fabrikam-fiber):" in text and "items open" in text
    assert "next, `" not in text  # Ann administers nothing
    nobody = " ".join(text_of(chat.say("zed@elsewhere.example", "help")).split())
    assert "Nothing is waiting for you" in nobody


def test_help_all_lists_every_word_and_help_word_explains_one_with_an_example(chat: Chat) -> None:
    everything = text_of(chat.say(ANN, "help all"))
    for word in ("start ORG TENANT", "request-approval", "retry-failed", "ask QUESTION", "snooze"):
        assert word in everything
    one = " ".join(text_of(chat.say(ANN, "help invite")).split())
    assert "Example: `invite fabrikam-fiber`" in one and "nobody is invited twice" in one
    approve = text_of(chat.say(ANN, "help approve"))
    assert "APPROVE APPROVAL" not in approve and "HELP APPROVE" in approve  # the console's capitals
    assert "`approve NUMBER`: Approve a pending request by its number" in " ".join(approve.split())
    typo = chat.say(ANN, "help progres")
    assert "Did you mean `help progress`?" in text_of(typo)
    assert "completion per item" in text_of(chat.click(ANN, typo, "help progress")).lower()


def test_mistakes_and_personal_lists_are_private_and_results_are_not(chat: Chat) -> None:
    started(chat)
    assert only_for_the_asker(chat.say(ANN, "invite"))  # refused: Ann is no admin
    assert only_for_the_asker(chat.say(DANA, "done"))  # which item?
    assert only_for_the_asker(chat.say(DANA, "cancel contoso"))  # no such migration
    assert only_for_the_asker(chat.say(DANA, "done " + "9" * 200))  # unreadable words
    assert only_for_the_asker(chat.say(DANA, "status \x00"))
    status = chat.say(DANA, "status")
    assert not status[0].message.private
    outgoing = chat.say(DANA, "invite")
    assert not outgoing[0].message.private
    chat.say(DANA, "request-approval")


def test_an_item_or_reminder_number_too_long_to_read_is_refused_typed_or_clicked(chat: Chat) -> None:
    notified(chat)
    huge = "9" * 4400
    for typed in (f"done #{huge}", f"need-help #{huge}", f"snooze #{huge} 1d", f"done {huge}"):
        refused = chat.say(ANN, typed, in_dm=True)
        said = " ".join(text_of(refused).split())
        assert "4,400 digits: far too long" in said and only_for_the_asker(refused), typed
    for word, value in (("done", huge), ("need-help", "#" + huge), ("snooze", f"#{huge} 1d")):
        clicked = chat.runtime.conversation.action(chat.person(ANN), word, value, channel=None)
        assert "far too long" in text_of(clicked), word
    for typed, refusal in (  # a digit int() refuses, however many; past 2**63
        ("done ²", "Which item? Say `done N`"),
        ("done #" + "²" * 120, "Which item? Say `done N`"),
        ("snooze #² 1d", "Which reminder?"),
        (f"done #{'9' * 30}", f"{'9' * 30} is too large; give a number up to 9223372036854775807."),
    ):
        said = " ".join(text_of(chat.say(ANN, typed, in_dm=True)).split())
        assert said.startswith(refusal), typed


def test_to_do_lists_and_progress_asked_for_are_private(chat: Chat) -> None:
    lists = notified(chat)
    assert any(isinstance(message.to, DirectMessage) for message in lists)
    assert only_for_the_asker(chat.say(ANN, "todo"))
    assert only_for_the_asker(chat.say(DANA, "progress"))
    assert "(only you see this)" in chat.out.getvalue()


def test_stale_users_are_removed_with_the_confirmed_button_under_their_list(chat: Chat) -> None:
    started(chat)
    listed = chat.say(DANA, "stale-users")
    assert only_for_the_asker(listed)
    text = text_of(listed)
    assert "gus@fabrikam.com" in text and "dana@fabrikam.com" not in text  # admins are never listed
    [remove] = listed[0].message.buttons
    assert remove.style == "danger" and remove.confirm == f"Remove 1 user from {ORG}? {UNDONE_BY}"
    assert chat.say(ANN, f"remove-users {remove.value}")[0].message.private  # Ann is no admin
    assert "Remove these 1" not in text and "presses Remove this user" in " ".join(text.split())
    # a PAT that may only read users (doctor only warns): the portal removes them too
    assert f"remove them by hand: https://dev.azure.com/{ORG}/_settings/users" in " ".join(text.split())
    removed = text_of(chat.click(DANA, listed, "Remove this user"))
    assert "Removed 1 user: gus@fabrikam.com." in " ".join(removed.split())


def test_remove_users_of_the_owner_or_an_unknown_id_is_refused_before_asking_to_confirm(chat: Chat) -> None:
    started(chat)
    dana = next(user.id for user in chat.runtime.service.plan(ORG).users if user.principal_name == DANA)
    for ids, refusal in (
        (dana, "I do not remove the owner"),
        ("00000000-0000-4000-8000-00000000abcd", "Not users of fabrikam-fiber"),
    ):
        asked = chat.say(DANA, f"remove-users {ORG} {ids}")
        said = " ".join(text_of(asked).split())
        assert refusal in said and "Remove" not in said and only_for_the_asker(asked), said
        assert [button for message in asked for button in message.message.buttons] == []


def test_typed_remove_users_names_who_it_removes_and_removes_only_once_confirmed(chat: Chat) -> None:
    started(chat)
    gus = next(
        line for line in text_of(chat.say(DANA, "stale-users")).splitlines() if "gus@" in line
    ).split()[-1]
    asked = chat.say(DANA, f"remove-users {ORG} {gus}")
    text = " ".join(text_of(asked).split())
    assert "remove 1 user from fabrikam-fiber?" in text.casefold() and "gus@fabrikam.com" in text
    assert (
        f"{UNDONE_BY} Nothing is removed until you press Remove this user and confirm, or say `remove-users"
        f" {ORG} {gus} confirm`."
    ) in text
    assert not [entry for entry in chat.runtime.service.audit_trail(ORG) if entry.action == "remove_users"]
    [remove] = asked[0].message.buttons
    assert remove.style == "danger" and remove.confirm == f"Remove 1 user from {ORG}? {UNDONE_BY}"
    removed = text_of(chat.click(DANA, asked, "Remove this user"))
    assert "Removed 1 user: gus@fabrikam.com." in " ".join(removed.split())
    ann = next(line for line in text_of(chat.say(DANA, "stale-users 30")).splitlines() if "ann@" in line)
    typed = " ".join(text_of(chat.say(DANA, f"remove-users {ORG} {ann.split()[-1]} confirm")).split())
    assert "Removed 1 user: ann@fabrikam.com." in typed  # the words ending in `confirm` do not ask again


def test_a_stale_list_that_changed_since_it_was_shown_removes_nobody(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(chat)
    listed = chat.say(DANA, "stale-users 30")
    assert "ann@fabrikam.com" in text_of(listed)
    service = chat.runtime.service
    shown = service.stale_users

    def ann_signed_in_since(organization: str | None, days: int | None = None) -> list[OrgUser]:
        return [user for user in shown(organization, days) if user.principal_name != ANN]

    monkeypatch.setattr(service, "stale_users", ann_signed_in_since)
    again = chat.click(DANA, listed, "Remove these")
    assert "removed nobody" in text_of(again[:1])
    assert "ann@fabrikam.com" not in text_of(again[1:]) and "gus@fabrikam.com" in text_of(again[1:])
    assert chat.state() == "planned"
    assert not [entry for entry in service.audit_trail(ORG) if entry.action == "remove_users"]


def test_after_connecting_stale_users_offers_no_button_and_says_where_to_remove_them(chat: Chat) -> None:
    notified(chat)
    listed = chat.say(DANA, "stale-users 30")
    text = " ".join(text_of(listed).split())
    one_day = text_of(chat.say(DANA, f"stale-users {ORG} 1")).casefold()
    assert "no sign-in for 1 day\n" in one_day and "1 days" not in one_day
    gus = next(line for line in text_of(listed).splitlines() if "gus@fabrikam.com" in line).split()[-1]
    assert listed[0].message.buttons == ()
    assert "The migration is connected, with everyone's to-do list sent, so I no longer remove users" in text
    assert f"https://dev.azure.com/{ORG}/_settings/users" in text and "Remove from organization" in text
    typed = " ".join(text_of(chat.say(DANA, f"remove-users {ORG} {gus}")).split())
    assert "I no longer remove users" in typed and "Remove from organization" in typed
