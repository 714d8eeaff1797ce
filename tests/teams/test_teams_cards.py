"""Messages as Adaptive Cards, and the client-side pacing that keeps Teams' limits."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.conversation.messages import Actions, Button, Facts, Heading, Message, Table, Text
from bot.teams import cards
from bot.teams.pacing import PER_CONVERSATION, Pacer


def test_each_element_is_written_as_the_teams_sdks_card_model_writes_it() -> None:
    """The builders write what the SDK's models would, key for key and in the same order. The SDK is imported
    here only: its 112 pydantic models cost 0.4 s of CPU to import."""
    from microsoft_teams import cards as sdk

    def written(model: Any) -> str:
        return json.dumps(model.model_dump(by_alias=True, exclude_none=True))

    approve = sdk.ExecuteAction(title="Approve", verb="approve", data={"value": "3"}, style="positive")
    sure = sdk.AdaptiveCard(body=[sdk.TextBlock(text="Sure?", wrap=True), sdk.ActionSet(actions=[approve])])
    refresh = sdk.RefreshDefinition(
        action=sdk.ExecuteAction(title="Refresh", verb="refresh", data={"value": "approval:3"}),
        user_ids=["8:orgid:abc", "8:orgid:def"],
    )
    ours_approve = cards.execute_action("Approve", "approve", "3", style="positive")
    ours_sure = cards.adaptive_card([cards.text_block("Sure?"), cards.action_set([ours_approve])])
    ours_refresh = cards.refresh_definition(
        cards.execute_action("Refresh", "refresh", "approval:3"), ["8:orgid:abc", "8:orgid:def"]
    )
    pairs = [
        (cards.text_block("*x*"), sdk.TextBlock(text="*x*", wrap=True)),
        (
            cards.text_block("Plan", size="Large", weight="Bolder"),
            sdk.TextBlock(text="Plan", weight="Bolder", size="Large", wrap=True),
        ),
        (cards.text_block("note", is_subtle=True), sdk.TextBlock(text="note", wrap=True, is_subtle=True)),
        (
            cards.fact_set([("Plan", "11 users"), ("Expires", "soon")]),
            sdk.FactSet(
                facts=[sdk.Fact(title="Plan", value="11 users"), sdk.Fact(title="Expires", value="soon")]
            ),
        ),
        (ours_approve, approve),
        (
            cards.execute_action("Reject", "reject", "3", style="destructive"),
            sdk.ExecuteAction(title="Reject", verb="reject", data={"value": "3"}, style="destructive"),
        ),
        (cards.execute_action("Go", "go", ""), sdk.ExecuteAction(title="Go", verb="go", data={"value": ""})),
        (
            cards.open_url_action("Download", "https://bot.example/files/t"),
            sdk.OpenUrlAction(title="Download", url="https://bot.example/files/t"),
        ),
        (cards.action_set([ours_approve]), sdk.ActionSet(actions=[approve])),
        (ours_sure, sure),
        (cards.show_card_action("Approve", ours_sure), sdk.ShowCardAction(title="Approve", card=sure)),
        (ours_refresh, refresh),
        (
            cards.adaptive_card([cards.text_block("*x*")], refresh=ours_refresh),
            sdk.AdaptiveCard(
                version=cards.CARD_VERSION, body=[sdk.TextBlock(text="*x*", wrap=True)], refresh=refresh
            ),
        ),
    ]
    for ours, theirs in pairs:
        assert json.dumps(ours) == written(theirs)


def test_slack_markup_becomes_commonmark_and_code_and_lists_stay() -> None:
    assert cards.commonmark("*Keep access* (5): `dana`, _maybe_") == "**Keep access** (5): `dana`, _maybe_"
    assert cards.commonmark("2 * 3 = 6 and a*b") == "2 * 3 = 6 and a*b"  # no bold out of arithmetic
    assert cards.commonmark("• *one*\n• two") == "• **one**\n• two"


def test_buttons_become_execute_actions_with_their_word_and_value() -> None:
    message = Message(
        "Approval #3",
        (
            Heading("Approval #3"),
            Facts((("Plan", "*11* users"),)),
            Actions(
                (Button("Approve", "approve", "3", "primary"), Button("Reject", "reject", "3", "danger"))
            ),
        ),
    )
    card = cards.card(message)
    assert card["$schema"] == cards.CARD_SCHEMA and card["version"] == "1.5" and "schema" not in card
    (action_set,) = [element for element in card["body"] if element["type"] == "ActionSet"]
    assert [(a["title"], a["verb"], a["data"], a["style"]) for a in action_set["actions"]] == [
        ("Approve", "approve", {"value": "3"}, "positive"),
        ("Reject", "reject", {"value": "3"}, "destructive"),
    ]
    assert card["body"][1]["facts"] == [{"title": "Plan", "value": "**11** users"}]
    read_only = cards.card(message, actions=False, refresh=("approval:3", ["8:orgid:abc"]))
    assert all(element["type"] != "ActionSet" for element in read_only["body"])
    assert read_only["refresh"]["userIds"] == ["8:orgid:abc"]
    assert read_only["refresh"]["action"] == {
        "type": "Action.Execute",
        "title": "Refresh",
        "verb": "refresh",
        "data": {"value": "approval:3"},
    }


def test_a_button_that_asks_first_opens_the_question_with_the_real_action_inside() -> None:
    button = Button("Remove these 3 people", "remove-users", "org --stale 90", "danger", "Remove 3? No undo.")
    (action_set,) = cards.card(Message("Stale", (Actions((button,)),)))["body"]
    (shown,) = action_set["actions"]
    assert shown["type"] == "Action.ShowCard" and shown["title"] == "Remove these 3 people"
    question, actions = shown["card"]["body"]
    assert question["text"] == "Remove 3? No undo."
    assert actions["actions"] == [
        {
            "type": "Action.Execute",
            "title": "Yes, remove these 3 people",
            "style": "destructive",
            "verb": "remove-users",
            "data": {"value": "org --stale 90"},
        }
    ]


def test_a_link_button_becomes_an_open_url_action() -> None:
    link = "https://login.microsoftonline.com/redeem?rd=abc"
    accept = Button("Accept the invitation", "accept-invitation", url=link)
    (action_set,) = cards.card(Message("List", (Actions((accept, Button("Done", "done", "#7"))),)))["body"]
    opened, done = action_set["actions"]
    assert opened == {"type": "Action.OpenUrl", "title": "Accept the invitation", "url": link}
    assert done["type"] == "Action.Execute" and done["verb"] == "done"


def test_a_huge_message_is_cut_to_fit_teams_and_says_so() -> None:
    rows = tuple((f"user{n:05d}@fabrikam.com", "auto", f"user{n:05d}@fabrikam.com") for n in range(5000))
    blocks: tuple[Table | Text, ...] = (
        Table(("user", "outcome", "account"), rows),
        *(Text("x" * 5000) for _ in range(10)),
    )
    card = cards.card(Message("Plan", (*blocks, Actions((Button("Invite", "invite"),)))))
    assert len(json.dumps(card)) <= cards.MAX_CARD_BYTES + 200
    assert "left out" in card["body"][-1]["text"] or "left out" in json.dumps(card)
    assert any(element["type"] == "ActionSet" for element in card["body"])  # actions are kept
    assert len(card["body"][0]["facts"]) == 40 and card["body"][1]["text"] == "…and 4960 more"


def test_the_pacer_keeps_seven_a_second_and_eight_in_two_seconds_per_conversation() -> None:
    now = [0.0]
    starts: list[float] = []

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(PER_CONVERSATION, margin=0.0, clock=lambda: now[0], sleep=sleep)

    async def run() -> None:
        for _ in range(16):
            async with pacer.slot("conversation"):
                starts.append(now[0])
        async with pacer.slot("another"):  # other conversations do not wait
            starts.append(now[0])

    asyncio.run(run())
    assert starts[:7] == [0.0] * 7
    for index, start in enumerate(starts[:16]):
        assert sum(1 for other in starts[:16] if start - 1 < other <= start) <= 7, index
        assert sum(1 for other in starts[:16] if start - 2 < other <= start) <= 8, index
    assert starts[7] == 1.0 and starts[8] == 2.0
    assert starts[16] == starts[15]


def test_the_pacer_counts_a_request_from_its_answer_and_in_flight_ones_as_now() -> None:
    """A request Microsoft saw late must not let the next one in early."""
    now = [0.0]
    order: list[str] = []

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(((1.0, 1),), margin=0.0, clock=lambda: now[0], sleep=sleep)

    async def slow() -> None:
        async with pacer.slot():
            order.append(f"slow starts {now[0]:.2f}")
            now[0] += 0.5  # the answer comes half a second later
        order.append(f"slow answered {now[0]:.2f}")

    async def run() -> None:
        await slow()
        async with pacer.slot():
            order.append(f"next starts {now[0]:.2f}")

    asyncio.run(run())
    assert order == ["slow starts 0.00", "slow answered 0.50", "next starts 1.50"]
