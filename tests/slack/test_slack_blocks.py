"""Messages rendered as Block Kit within Slack's limits."""

from __future__ import annotations

from bot.conversation.messages import Actions, Attachment, Button, Facts, Heading, Message, Table, Text
from bot.slack.blocks import (
    ACTION_ID,
    LINK_ACTION_ID,
    MAX_BLOCKS,
    MAX_FALLBACK_TEXT,
    MAX_SECTION_TEXT,
    MAX_VIEW_BLOCKS,
    fallback_text,
    message_payload,
    note,
    render,
    typed,
    view_payload,
    word_of,
)


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


def test_an_over_budget_message_gives_up_the_end_of_its_longest_list_and_keeps_what_follows() -> None:
    rows = tuple((f"user{n}@fabrikam.com", "x" * 200) for n in range(2_000))
    closing = Text("Press *Retry failed* to send them again.")
    buttons = Actions(
        (Button("Refresh", "progress", "fabrikam"), Button("Retry failed", "retry-failed", "f"))
    )
    message = Message("progress", (Heading("Progress"), Table(("user", "reason"), rows), closing, buttons))
    blocks = render(message)
    assert len(blocks) == MAX_BLOCKS
    assert blocks[0]["type"] == "header"
    assert blocks[-2] == {"type": "section", "text": {"type": "mrkdwn", "text": closing.markdown}}
    assert [element["action_id"] for element in blocks[-1]["elements"]] == ["progress", "retry-failed"]
    assert "more blocks left out here" in blocks[-3]["elements"][0]["text"]


def test_blocks_added_where_a_message_is_sent_count_within_its_budget() -> None:
    message = Message("many", tuple(Text(f"item {n}") for n in range(80)))
    payload = message_payload(message, footer=[note("The file is in your direct messages with me.")])
    assert len(payload["blocks"]) == MAX_BLOCKS
    assert payload["blocks"][-1]["elements"][0]["text"] == "The file is in your direct messages with me."
    assert payload["text"] == "many"


def test_the_app_home_gets_a_views_budget_of_a_hundred_blocks() -> None:
    message = Message("home", tuple(Text(f"item {n}") for n in range(150)))
    view = view_payload(message)
    assert view["type"] == "home" and len(view["blocks"]) == MAX_VIEW_BLOCKS
    assert len(render(Message("home", message.blocks[:99]), limit=MAX_VIEW_BLOCKS)) == 99


def test_a_button_whose_value_does_not_fit_is_left_out_rather_than_cut() -> None:
    too_long = Button("Remove", "remove-users", "fabrikam " + "id " * 1_000)
    (actions,) = render(Message("x", (Actions((too_long, Button("Status", "status", "fabrikam"))),)))
    assert [element["action_id"] for element in actions["elements"]] == ["status"]


def test_a_dangerous_button_asks_for_confirmation_and_an_empty_value_is_left_out() -> None:
    (actions,) = render(
        Message("x", (Actions((Button("Remove 3", "remove-users", "", "danger", "Sure?"),)),))
    )
    (button,) = actions["elements"]
    assert "value" not in button
    assert button["confirm"]["text"]["text"] == "Sure?" and button["confirm"]["style"] == "danger"


def test_a_link_button_opens_its_url_and_its_click_is_no_command() -> None:
    link = "https://login.microsoftonline.com/redeem?rd=abc"
    accept = Button("Accept the invitation", "accept-invitation", url=link)
    (actions,) = render(Message("x", (Actions((accept, Button("Done", "done", "#7"))),)))
    opened, done = actions["elements"]
    assert (opened["text"]["text"], opened["url"]) == ("Accept the invitation", link)
    assert LINK_ACTION_ID.match(opened["action_id"]) and not ACTION_ID.match(opened["action_id"])
    assert "url" not in done and word_of(done["action_id"]) == "done"
    too_long = Button("Open", "open", url="https://example.com/" + "a" * 3_000)
    (kept,) = render(Message("x", (Actions((too_long, accept)),)))
    assert [element["url"] for element in kept["elements"]] == [link]


def test_an_empty_summary_still_gives_slack_a_fallback_text() -> None:
    assert fallback_text(Message("  ", (Text("hello"),))) == "aadbot"


def test_a_cut_to_slacks_limits_never_splits_an_escaped_character() -> None:
    """rev39 finding 5: `&` is escaped before a text is cut, so a cut could leave `&am` + `p;`."""
    line = "x" * (MAX_SECTION_TEXT - 2) + "R&D" * 3
    blocks = render(Message("long", (Text(line),)))
    assert [block["text"]["text"] for block in blocks] == [
        "x" * (MAX_SECTION_TEXT - 2) + "R",
        "&amp;DR&amp;DR&amp;D",
    ]
    summary = "y" * (MAX_FALLBACK_TEXT - 3) + "<b>"
    assert fallback_text(Message(summary, (Text("hello"),))) == "y" * (MAX_FALLBACK_TEXT - 3) + "…"


def test_what_slack_delivers_is_read_as_typed_once() -> None:
    """Slack escapes `&`, `<` and `>` in what a person typed; its own tokens are real brackets."""
    assert (
        typed("deploy R&amp;D &lt;TF400813&gt; &amp;lt; <@U1|carol>")
        == "deploy R&D <TF400813> &lt; <@U1|carol>"
    )
