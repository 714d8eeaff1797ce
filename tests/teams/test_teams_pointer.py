"""A command typed in a channel whose answer goes to the personal chat (walk 33, finding 13): the thread
says so once an hour per person and channel, not after every command; a one-line refusal stays in the
thread, where it was asked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from bot.conversation.messages import Heading, Message, Outgoing, Reply, Text
from bot.teams.store import ConversationRef
from tests.teams.conftest import ORGANIZATION, Teams, texts

ANN, DANA = "ann@fabrikam.com", "dana@fabrikam.com"
POINTER = "I answered you in our personal chat."
CHANNEL = ConversationRef("19:general@thread.tacv2", "https://teams.example", "tenant", "channel")
PERSONAL = ConversationRef("a:ann", "https://teams.example", "tenant", "personal", user_id="ann")
LIST = Outgoing(Message("Your list", (Heading("Your list"), Text("1. Sign in")), private=True), Reply())


class Posts:
    """Teams' connector, chats and files as delivery uses them: what was posted where."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, str]] = []

    async def send(self, service_url: str, address: str, activity: dict[str, Any]) -> str:
        self.posted.append((address, str(activity.get("summary") or activity.get("text"))))
        return f"activity-{len(self.posted)}"

    async def personal(self, user_id: str, *, fresh: bool = False) -> ConversationRef:
        return PERSONAL

    async def links(self, message: Message, ref: ConversationRef) -> dict[str, str]:
        return {}


def test_the_pointer_comes_once_an_hour_per_person_and_channel() -> None:
    from bot.teams.delivery import Delivery, Origin  # the Teams SDK's cards: not at collection

    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    posts = Posts()
    fakes = cast(Any, posts)
    delivery = Delivery(fakes, cast(Any, None), cast(Any, None), fakes, fakes, clock=lambda: now)

    def pointers_after(origin: Origin) -> list[str]:
        before = len(posts.posted)
        asyncio.run(delivery.deliver([LIST], origin))
        return [address for address, text in posts.posted[before:] if text == POINTER]

    ann_in_thread = Origin(CHANNEL.in_thread(f"{CHANNEL.conversation_id};messageid=1"), "ann")
    assert pointers_after(ann_in_thread) == [f"{CHANNEL.conversation_id};messageid=1"]
    assert pointers_after(Origin(CHANNEL.in_thread(f"{CHANNEL.conversation_id};messageid=2"), "ann")) == []
    assert pointers_after(Origin(CHANNEL, "lee")) == [CHANNEL.conversation_id]  # someone else: told
    now += timedelta(minutes=59)
    assert pointers_after(ann_in_thread) == []
    now += timedelta(minutes=1)
    assert pointers_after(ann_in_thread) == [f"{CHANNEL.conversation_id};messageid=1"]
    answers = [text for address, text in posts.posted if address == PERSONAL.conversation_id]
    assert answers == ["Your list"] * 5


def _channel(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in entries if entry["conversation"]["conversationType"] == "channel"]


def test_commands_typed_in_the_channel_point_to_the_personal_chat_only_the_first_time(teams: Teams) -> None:
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    threads = []
    for words in ("stale-users", "stale-users", "stale-users"):
        before = len(teams.activities())
        threads.append((teams.say(DANA, words)["activityId"], teams.activities()[before:]))
    (first, first_new), *later = threads
    pointed = [(entry["thread"], texts(entry).strip()) for entry in _channel(first_new)]
    assert pointed == [(first, f"{POINTER}\n{POINTER}")]
    for _, new in later:
        assert _channel(new) == []
        assert [entry["conversation"]["user"] for entry in new] == [DANA]  # the answer, in her chat


def test_a_one_line_answer_to_a_command_typed_in_the_channel_stays_in_its_thread(teams: Teams) -> None:
    before = len(teams.activities())
    asked = teams.say(ANN, "status")  # refused: a private answer, of one line
    new = teams.activities()[before:]
    assert [(entry["thread"], texts(entry).strip()) for entry in new] == [
        (
            asked["activityId"],
            "No migration is in progress; start one with start ORG TENANT.\n"
            "No migration is in progress; start one with **start ORG TENANT**.",  # notification, card
        )
    ]
