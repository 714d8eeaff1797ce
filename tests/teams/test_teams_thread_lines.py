"""What a channel's thread may show of an answer for the asker alone, where everyone in the channel reads
it: one about nobody's case (a refusal, a suggestion, help) that names no address. Anything else private
(their own case, people's names) goes to their personal chat however short, and so does a note of what
went wrong that names someone."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

from bot.conversation import decision_views, help_views
from bot.conversation.messages import Actions, Button, DirectMessage, Outgoing, Text, say, tell_privately
from tests.delivery.test_notice_codec import STATUS
from tests.teams.test_teams_pointer import CHANNEL, PERSONAL, POINTER, Posts
from workflows.plan import Match, PlannedUser
from workflows.results_preparing import AccountDecision
from workflows.results_todo_lists import TodoEntry

THREAD = f"{CHANNEL.conversation_id};messageid=1"


class Nobody:
    """The directory as delivery asks it: nobody is reachable in Teams."""

    async def reachable(self, keys: tuple[str, ...]) -> tuple[None, str]:
        return None, "has not installed the app"


def posted(outgoing: Outgoing) -> list[tuple[str, str]]:
    """Where a command typed in a channel's thread has its answer posted, and what each post says."""
    from bot.teams.delivery import Delivery, Origin  # the Teams SDK's cards: not at collection

    posts = Posts()
    fakes = cast(Any, posts)
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    delivery = Delivery(fakes, cast(Any, None), cast(Any, Nobody()), fakes, fakes, clock=lambda: now)
    asyncio.run(delivery.deliver([outgoing], Origin(CHANNEL.in_thread(THREAD), "dana")))
    return posts.posted


def test_a_refusal_of_one_line_naming_nobody_stays_in_the_thread() -> None:
    refusal = "123 is not a user id: give the id that stale-users lists."
    assert posted(tell_privately(refusal)) == [(THREAD, refusal)]


def test_a_refusal_naming_someone_goes_to_the_personal_chat() -> None:
    refusal = "none is not one of gus@fabrikam.com's accounts."
    assert posted(tell_privately(refusal)) == [(PERSONAL.conversation_id, refusal), (THREAD, POINTER)]


def test_a_suggestion_whose_button_names_someone_goes_to_the_personal_chat() -> None:
    """A "Did you mean" stays in the thread only when nothing of it names anyone: its buttons' values
    (the arguments as typed) included, which the read-only card shows as the command to type."""
    meant = "Did you mean `invite`?"
    typo = tell_privately(meant, Text(meant), Actions((Button("invite", "invite", "gus@fabrikam.com"),)))
    assert [address for address, _ in posted(typo)] == [PERSONAL.conversation_id, THREAD]  # and the pointer


def test_help_naming_the_askers_own_list_goes_to_the_personal_chat() -> None:
    """Help is the channel's to read but for their own list's count, which is their case."""
    item = TodoEntry(1, 5, 1, "fabrikam-fiber", "sign-in", "Sign in", "", "", None, None, number=1)
    assert [address for address, _ in posted(help_views.help_now((), [item]))] == [
        PERSONAL.conversation_id,
        THREAD,
    ]
    assert posted(help_views.help_now((), [])) == [(THREAD, "What you can do now")]


def test_a_private_line_on_the_askers_own_case_goes_to_the_personal_chat() -> None:
    snoozed = "😴 Snoozed: your next reminder comes on Friday 4 December at 09:00 (UTC)."
    assert posted(say(snoozed, private=True)) == [(PERSONAL.conversation_id, snoozed), (THREAD, POINTER)]


def test_whom_a_message_could_not_reach_goes_to_the_personal_chat() -> None:
    prompt = say("Approval #1 needed", to=DirectMessage("gus@fabrikam.com"))
    assert posted(prompt) == [
        (
            PERSONAL.conversation_id,
            "**gus@fabrikam.com** has not installed the app, so they did not get “Approval #1 needed” in"
            " Teams. Please reach them another way.",
        ),
        (THREAD, POINTER),
    ]


class Refused(Posts):
    """Teams refuses every post (a 500): a click's answer beside its card is all the clicker gets."""

    async def send(self, service_url: str, address: str, activity: dict[str, Any]) -> str:
        from bot.teams.connector import TeamsApiError

        raise TeamsApiError(500, "ServiceError", f"POST {address}")

    def is_copy(self, activity_id: str) -> bool:
        return False


def test_a_clicks_answer_naming_someone_that_could_not_be_posted_is_not_shown_beside_the_card() -> None:
    assert _clicks_answer_through(Refused()) == (
        "I could not deliver my answer to you (Teams said 500 ServiceError). Try again; if it persists, check"
        " my log."
    )


class TooLarge(Refused):
    """Teams refuses the post as over its size limit (413 MessageSizeTooBig)."""

    async def send(self, service_url: str, address: str, activity: dict[str, Any]) -> str:
        from bot.teams.connector import TeamsApiError

        raise TeamsApiError(413, "MessageSizeTooBig", f"POST {address}")


def test_an_answer_teams_refuses_as_too_large_is_not_asked_for_again() -> None:
    """Trying again gets the same 413: the clicker is told so, and whom to tell (fix106's note)."""
    assert _clicks_answer_through(TooLarge()) == (
        "I could not deliver my answer to you: Teams refused it as too large (413 MessageSizeTooBig), so"
        " asking again will not help. Please tell the bot's operators; my log has the details."
    )


def _clicks_answer_through(posts: Refused) -> str | None:
    """What the clicker of a channel card is told when their answer, naming someone, cannot be posted."""
    from bot.teams.delivery import Delivery, Origin

    fakes = cast(Any, posts)
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    delivery = Delivery(fakes, fakes, cast(Any, Nobody()), fakes, fakes, clock=lambda: now)
    click = Origin(CHANNEL.in_thread(THREAD), "dana", invoke=True, card="card-1")
    named = say("Already listed, so they get none again: gus@fabrikam.com.", private=True)
    return asyncio.run(delivery.deliver([named], click))


class NoPersonalChat(Posts):
    """Teams posts in the channel, but refuses every post to the asker's personal chat (a 403)."""

    async def send(self, service_url: str, address: str, activity: dict[str, Any]) -> str:
        from bot.teams.connector import TeamsApiError

        if address == PERSONAL.conversation_id:
            raise TeamsApiError(403, "Forbidden", f"POST {address}")
        return await super().send(service_url, address, activity)


def test_a_channel_answer_does_not_claim_what_the_personal_chat_never_got() -> None:
    """An admin decides in a channel's thread; the channel reads the decision counted, what it means going
    to the admin alone, and Teams refuses the personal chat: the thread says it could not deliver that
    answer, and nothing in it says the answer went to them (rev72 4)."""
    from bot.teams.delivery import Delivery, Origin

    hana = Match("g-hart", "hana.hart@fabrikam.com", "decided")
    person = PlannedUser("hana@contoso.com", "hana@contoso.com", "map", hana, decided_by="Lee")
    decided = AccountDecision(person, replace(STATUS, state="users_notified"), None, True)
    posts = NoPersonalChat()
    fakes = cast(Any, posts)
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    delivery = Delivery(fakes, cast(Any, None), cast(Any, Nobody()), fakes, fakes, clock=lambda: now)
    answers = decision_views.account_decided_answers(decided, None, shared=True)
    asyncio.run(delivery.deliver(answers, Origin(CHANNEL.in_thread(THREAD), "dana")))
    assert posts.posted == [
        (
            THREAD,
            f"Recorded your decision for 1 person of {STATUS.organization}. 📬 Who, and what it means, I send"
            " to you alone, in a message only you see.",
        ),
        (
            THREAD,
            "I could not deliver my answer to you (Teams said 403 Forbidden). Try again; if it persists,"
            " check my log.",
        ),
    ]
