"""Messages rendered as Block Kit within Slack's limits."""

from __future__ import annotations

from bot.conversation.messages import Actions, Attachment, Button, Facts, Heading, Message, Table, Text
from bot.slack.blocks import MAX_BLOCKS, MAX_SECTION_TEXT, fallback_text, render, word_of


def test_each_kind_of_block_has_its_block_kit_shape() -> None:
    message = Message(
        "Status of fabrikam",
        (
            Heading("Fabrikam"),
            Text("Stage *planned*"),
            Facts((("Users", "12"), ("Tenant", "fabrikam.com"))),
            Table(("user", "outcome"), (("ada@fabrikam.com", "auto"),)),
            Actions(
                (Button("Approve", "approve", "a-1", "primary"), Button("Reject", "reject", "a-1", "danger"))
            ),
            Attachment("plan.csv", "a,b\n", "Per-user plan"),
        ),
    )
    header, text, facts, table, actions, note = render(message)

    assert header["type"] == "header" and header["text"]["text"] == "Fabrikam"
    assert text == {"type": "section", "text": {"type": "mrkdwn", "text": "Stage *planned*"}}
    assert [field["text"] for field in facts["fields"]] == ["*Users*\n12", "*Tenant*\nfabrikam.com"]
    assert table["text"]["text"].startswith("```\nuser") and "ada@fabrikam.com  auto" in table["text"]["text"]
    assert [(b["text"]["text"], b["action_id"], b["value"], b["style"]) for b in actions["elements"]] == [
        ("Approve", "approve", "a-1", "primary"),
        ("Reject", "reject", "a-1", "danger"),
    ]
    assert note["type"] == "context" and "plan.csv" in note["elements"][0]["text"]
    assert fallback_text(message) == "Status of fabrikam"


def test_repeated_command_words_get_unique_action_ids_that_map_back_to_the_word() -> None:
    buttons = tuple(Button(f"Done {n}", "done", f"item-{n}") for n in range(3))
    (actions,) = render(Message("todo", (Actions(buttons),)))
    ids = [element["action_id"] for element in actions["elements"]]
    assert len(set(ids)) == 3
    assert [word_of(action_id) for action_id in ids] == ["done", "done", "done"]
    assert "style" not in actions["elements"][0]


def test_foreign_action_ids_are_not_command_words() -> None:
    assert word_of("request-approval") == "request-approval"
    assert word_of("Bad Id!") is None


def test_long_text_is_split_into_sections_that_slack_accepts() -> None:
    lines = [f"line {n} " + "x" * 90 for n in range(100)]
    blocks = render(Message("long", (Text("\n".join(lines)),)))
    assert len(blocks) > 1
    assert all(len(block["text"]["text"]) <= MAX_SECTION_TEXT for block in blocks)
    assert "\n".join(block["text"]["text"] for block in blocks) == "\n".join(lines)


def test_a_message_past_fifty_blocks_is_cut_and_says_so() -> None:
    blocks = render(Message("many", tuple(Text(f"item {n}") for n in range(80))))
    assert len(blocks) == MAX_BLOCKS
    assert "31 more blocks" in blocks[-1]["elements"][0]["text"]


def test_more_than_ten_facts_and_twenty_five_buttons_are_spread_over_blocks() -> None:
    facts = Facts(tuple((f"k{n}", "v") for n in range(12)))
    buttons = Actions(tuple(Button(f"b{n}", "done", str(n)) for n in range(30)))
    rendered = render(Message("big", (facts, buttons)))
    assert [len(block.get("fields", block.get("elements", []))) for block in rendered] == [10, 2, 25, 5]
