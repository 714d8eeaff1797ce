"""People asking in plain words for their own to-do list or about its reminders, in a direct message or in
the migration's channel: their open items, the snooze, or how reminders end; never an FAQ page (walk 31,
finding 1). Questions about the migration that use the same words stay questions for the FAQ."""

from __future__ import annotations

from bot.conversation.messages import Outgoing, Reply
from bot.conversation.understanding import own_list_intent
from faq.evaluate import load_questions
from tests.bot.conftest import Chat, notified, started, text_of
from tests.bot.test_understanding import without_rating_ids

CAROL, DANA, LEE = "carol@fabrikam.com", "dana@fabrikam.com", "lee@fabrikam.com"
STALE_USERS = "Removing users who left before the switch"


def flat(outgoing: list[Outgoing]) -> str:
    return " ".join(text_of(outgoing).split())


def privately(outgoing: list[Outgoing]) -> bool:
    """Only the person who spoke sees it: in a channel, never the list for everyone there."""
    return bool(outgoing) and all(isinstance(each.to, Reply) and each.message.private for each in outgoing)


def test_whats_left_is_the_askers_open_items_in_a_dm_and_privately_in_the_channel(chat: Chat) -> None:
    notified(chat)
    chat.say(CAROL, "done 1", in_dm=True)
    for said, in_dm in (
        ("what's left", True),
        ("What’s left?", True),  # a phone's apostrophe
        ("what is left on my list?", True),
        ("what do I still have to do?", True),
        ("ok, show me my to-do list please", True),
        ("what's left for me?", False),  # an @mention in the channel
        ("what else do I need to do?", False),
    ):
        reply = chat.say(CAROL, said, in_dm=in_dm)
        assert privately(reply), said
        text = flat(reply)
        assert text.startswith("YOUR TO-DO LIST FOR FABRIKAM-FIBER: 2 OF 3 OPEN, 1 OPTIONAL"), (said, text)
        assert STALE_USERS not in text and "This sounds like" not in text, said


def test_questions_about_the_migration_in_the_same_words_stay_with_the_faq(chat: Chat) -> None:
    """Someone else's list ("which users are left"), the admins' steps, people who left the company, and
    "what do I have to do?" (the checklist fitted to their case) are answered as `ask` answers them."""
    notified(chat)
    for who in (CAROL, DANA):
        for question in (
            "which users are left out?",
            "what is left to do for admins before connecting?",
            "what happens to users who left the company?",
            "what's left to do after connecting?",
            "what do I have to do?",
        ):
            said = chat.say(who, question, in_dm=True)
            asked = chat.say(who, f"ask {question}", in_dm=True)
            assert without_rating_ids(said) == without_rating_ids(asked), (who, question)
            assert "YOUR TO-DO LIST" not in flat(said), (who, question)


def test_no_question_of_the_faq_evaluation_reads_as_a_request_about_the_askers_list() -> None:
    """Real and model-written questions (faq/eval, tests/faq) keep their FAQ answer: none is taken for
    `todo`, `snooze` or a request to stop the reminders."""
    taken = [question.text[:80] for question in load_questions() if own_list_intent(question.text)]
    assert taken == []


def test_remind_me_next_week_snoozes_as_the_snooze_button_does_with_its_limits(chat: Chat) -> None:
    notified(chat)
    week = chat.say(CAROL, "remind me next week", in_dm=True)
    assert privately(week)
    assert flat(week).startswith("😴 Snoozed: your next reminder comes on "), flat(week)
    tomorrow = flat(chat.say(CAROL, "can you remind me tomorrow?"))  # the channel: still only for her
    assert tomorrow.startswith("Your next reminder comes on ") and "anyway" in tomorrow, tomorrow
    assert flat(week).removeprefix("😴 Snoozed: your next reminder comes on ")[:30] in tomorrow


def test_remind_me_later_offers_a_day_or_a_week_and_the_button_snoozes(chat: Chat) -> None:
    notified(chat)
    later = chat.say(CAROL, "remind me later")  # in the channel
    assert privately(later)
    assert flat(later).startswith("Your next reminder comes on ")
    assert [(b.label, b.action, b.value) for b in later[0].message.buttons] == [
        ("Snooze 1 day", "snooze", "1d"),
        ("Snooze 1 week", "snooze", "1w"),
    ]
    assert flat(chat.click(CAROL, later, "Snooze 1 week")).startswith("😴 Snoozed: your next reminder comes")
    assert flat(chat.say(CAROL, "snooze", in_dm=True)).startswith("Your next reminder comes on ")


def test_stop_reminding_me_says_they_cannot_be_turned_off_how_they_end_and_who_helps(chat: Chat) -> None:
    notified(chat)
    for said, in_dm in (("stop reminding me", True), ("how do I turn off the reminders?", False)):
        reply = chat.say(CAROL, said, in_dm=in_dm)
        assert privately(reply), said
        text = flat(reply)
        assert text.startswith(
            "I can't turn the reminders off: they come while items on your fabrikam-fiber list are open, and"
            " stop by themselves once each one is done"
        ), text
        assert "Your next reminder comes on" in text and "Is there downtime" not in text
        assert "the migration admins (dana@fabrikam.com, lee@fabrikam.com) hear it" in text
        assert [b.label for b in reply[0].message.buttons] == ["Snooze 1 day", "Snooze 1 week"]
    for item in (1, 2, 4):  # everything asked of her (3 is optional)
        chat.say(CAROL, f"done {item}", in_dm=True)
    done = flat(chat.say(CAROL, "stop reminding me", in_dm=True))
    assert done == "Nothing to snooze: your to-do list is done, so no more reminders will come. 🎉", done


def test_before_the_lists_an_admin_hears_what_they_can_do_and_anyone_else_that_nothing_is_theirs(
    chat: Chat,
) -> None:
    started(chat)
    dana = chat.say(DANA, "what's left?", in_dm=True)
    assert privately(dana)
    assert flat(dana).startswith(
        "WHAT YOU CAN DO NOW You have no to-do list of your own. As a migration admin, this is what you can"
        " do next: • fabrikam-fiber (planned): next, `invite fabrikam-fiber`"
    ), flat(dana)
    assert flat(chat.say(CAROL, "what's left for me?")) == (  # what comes and when (walk34 finding 3)
        "YOUR TO-DO LIST FOR FABRIKAM-FIBER IS NOT OUT YET An admin maps your identity to carol@fabrikam.com"
        " by hand after the change, so your history stays yours. Nothing is asked of you before then. Your"
        " own to-do list comes by direct message once fabrikam-fiber moves to Fabrikam accounts (no date is"
        " announced yet). Until then, keep signing in as you do today."
    )
    assert flat(chat.say(CAROL, "stop reminding me", in_dm=True)) == (
        "Nothing to stop: you have no to-do list, so no reminders come to you."
    )


def test_words_no_command_starts_with_are_a_question_in_the_channel_as_in_a_dm(chat: Chat) -> None:
    """ "[Enter feedback here]" in a channel was "I don't know `[enter`" (walk 31, finding 10): a bracket
    starts no command word, so it is read as it is in a direct message; a mistyped word still is not."""
    notified(chat)
    channel = chat.say(CAROL, "[Enter feedback here]")
    dm = chat.say(CAROL, "[Enter feedback here]", in_dm=True)
    # the same answer, but that the channel is not shown the admins' addresses (walk39 d)
    in_a_dm = "or write to them: dana@fabrikam.com, lee@fabrikam.com."
    in_channel = "or ask me in a direct message for their addresses to write to."
    assert without_rating_ids(channel) == without_rating_ids(dm).replace(in_a_dm, in_channel)
    assert flat(channel).startswith("Sorry, I don't know the answer to that one."), flat(channel)
    assert "I don't know `" not in flat(channel)
    assert flat(chat.say(CAROL, "frobnicate now")).startswith("I don't know `frobnicate`.")
