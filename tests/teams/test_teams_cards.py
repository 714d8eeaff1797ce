"""Messages as Adaptive Cards, and the client-side pacing that keeps Teams' limits."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.conversation import faq_views
from bot.conversation.messages import Actions, Attachment, Button, Facts, Heading, Message, Table, Text
from bot.conversation.next_actions import decision_buttons
from bot.teams import cards
from bot.teams.pacing import PER_CONVERSATION, Pacer
from faq import AskerContext
from faq.answerer import FaqAnswerer
from faq.feedback import FeedbackItem, Paging


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


def test_slack_markup_becomes_the_markdown_teams_renders() -> None:
    """Microsoft's subset (data/cards-format.md): bold, italic, lists, links; no code, and a line break
    outside a list takes `\\n\\n`."""
    assert cards.commonmark("*Keep access* (5): `dana`, _maybe_") == "**Keep access** (5): **dana**, _maybe_"
    assert cards.commonmark("2 * 3 = 6 and a*b") == "2 * 3 = 6 and a*b"  # no bold out of arithmetic
    assert cards.commonmark("*Run `plan` first*, then `invite`") == "**Run plan first**, then **invite**"
    assert cards.commonmark("403\nA 403 means...\n\nFix: ...") == "403\n\nA 403 means...\n\nFix: ..."
    assert cards.commonmark("Hi Kim:\n• *one*\n• two\nBye") == "Hi Kim:\n\n- **one**\n- two\n\nBye"
    assert cards.commonmark("1. Sign in\n2. Select") == "1. Sign in\n2. Select"
    assert cards.commonmark("Run:\n```sh\ngit fetch\ngit pull\n```") == "Run:\n\ngit fetch\n\ngit pull"
    assert cards.plain("*Plan* for `fabrikam`") == "Plan for fabrikam"


def test_code_with_a_star_or_underscore_shows_as_typed_in_bold_and_in_the_notification() -> None:
    """rev39 finding 1: the FAQ's TFVC command lost its `*` to italics. Code spans are left out of the
    bold conversion, and their `*`/`_` are CommonMark backslash escapes, which Teams' clients honour."""
    tfvc = FaqAnswerer().explain("tfvc-workspaces", AskerContext(outcome="map", organization="fabrikam"))
    texts = [block["text"] for block in cards.card(faq_views.answer(tfvc).message)["body"]]
    org = "/collection:https://dev.azure.com/fabrikam"
    assert texts[0].split("\n\n")[4] == (
        rf"  - After: list old workspaces with **tf workspaces /owner:\* {org}**, then either take one over"
        rf' with **tf workspace /newowner:NEW-UPN "WORKSPACE;OLD-OWNER" {org}** or delete it with'
        r' **tf workspace /delete "WORKSPACE;OLD-OWNER"** and create a new one.'
    )
    both = "`*.visualstudio.com` and `dev.azure.com/*`"
    assert cards.commonmark(both) == r"**\*.visualstudio.com** and **dev.azure.com/\***"
    assert cards.commonmark(f"*Allow {both}*") == r"**Allow \*.visualstudio.com and dev.azure.com/\***"
    assert cards.commonmark("`AZURE_*` and `C:\\x` or `\\*`") == r"**AZURE\_\*** and **C:\\x** or **\\\***"
    assert cards.plain(f"*Allow* {both}") == "Allow *.visualstudio.com and dev.azure.com/*"
    assert cards.plain("`tf workspaces /owner:* /x`") == "tf workspaces /owner:* /x"


def test_typed_text_in_code_is_no_link_entity_or_escape_and_prose_keeps_its_backslashes() -> None:
    """rev41 findings 2 and 3, as markdown-it (CommonMark) renders these: a typed word echoed as code showed
    a live link in bold, `&copy;` as ©, and `foo\\` as `*foo*` (its `\\` escaped the bold's closing `*`);
    prose (a quoted question) lost a `\\` before punctuation."""
    link = "[click](https://evil.example/login)"
    assert (
        cards.commonmark(f"I don't know `{link}`.")
        == r"I don't know **[click\](https://evil.example/login)**."
    )
    assert (
        cards.commonmark("`foo\\` `&copy;` `<b>` `![x](y)`") == r"**foo\\** **\&copy;** **\<b>** **![x\](y)**"
    )
    # a `]` ends a label only before `(` or `[`: a synopsis keeps no `\` that old mobile builds show
    assert cards.commonmark("`stale-users [ORG] [DAYS]`") == "**stale-users [ORG] [DAYS]**"
    assert cards.commonmark("*Run `[a]`(b)*") == r"**Run [a\](b)**"  # in bold, the prose after it counts
    assert cards.commonmark("> C:\\temp\\*.log for FABRIKAM\\_svc") == r"> C:\\temp\\*.log for FABRIKAM\\_svc"


def test_an_underscore_in_code_is_escaped_only_at_a_words_edge() -> None:
    """rev41 finding 4: inside a word CommonMark never emphasises, and old Teams mobile builds show the `\\`
    of every guest's UPN on the map card."""
    guest = "hana_contoso.com#EXT#@fabrikam.onmicrosoft.com"
    assert cards.commonmark(f"*Map* `{guest}`") == f"**Map** **{guest}**"
    assert (
        cards.commonmark("`_svc_deploy` `__init__` `a._b_.c`")
        == r"**\_svc_deploy** **\_\_init\_\_** **a.\_b\_.c**"
    )


def test_the_activity_carries_the_card_alone_and_its_summary_for_the_notification() -> None:
    """Text beside a card is split by Teams into two messages with no id (data/conversation-messages.md);
    the activity's `summary` is the notification's text."""
    activity = cards.activity(Message("*Plan* for `fabrikam`", (Heading("Plan"),)))
    assert activity == {
        "type": "message",
        "summary": "Plan for fabrikam",
        "attachments": [
            {"contentType": cards.CARD_CONTENT_TYPE, "content": cards.card(Message("", (Heading("Plan"),)))}
        ],
    }


def test_a_read_only_card_names_its_buttons_by_what_typing_does_the_same() -> None:
    """The live progress card is read-only in Teams: no *Full list (CSV)* to press, so its text says what
    to type; the full card, with the button, keeps the button's name."""
    message = Message(
        "Progress",
        (
            Text("Everyone else is in the CSV that *Full list (CSV)* sends you."),
            Actions((Button("Full list (CSV)", "progress", "fabrikam csv"), Button("Refresh", "progress"))),
        ),
    )
    (read_only,) = cards.card(message, actions=False)["body"]
    assert read_only["text"] == "Everyone else is in the CSV that **progress fabrikam csv** sends you."
    full, _actions = cards.card(message)["body"]
    assert full["text"] == "Everyone else is in the CSV that **Full list (CSV)** sends you."


def test_each_file_has_its_own_download_button_and_the_text_points_to_it() -> None:
    message = Message(
        "Progress",
        (
            Text("Reach them another way (the attached list has their addresses)."),
            Attachment("progress-f.csv", "a\n", "To-do progress"),
            Attachment("still-f.csv", "b\n", "Still on Microsoft accounts"),
        ),
    )
    links = {"progress-f.csv": "https://bot.example/files/1", "still-f.csv": "https://bot.example/files/2"}
    text, note, first, _note, second = cards.card(message, links=links)["body"]
    assert text["text"] == "Reach them another way (the CSV below has their addresses)."
    assert note["text"] == "📎 To-do progress: the download link works for an hour."
    assert [set_["actions"] for set_ in (first, second)] == [
        [{"type": "Action.OpenUrl", "title": "Download progress-f.csv", "url": links["progress-f.csv"]}],
        [{"type": "Action.OpenUrl", "title": "Download still-f.csv", "url": links["still-f.csv"]}],
    ]


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
    assert _utf16(card) <= cards.MAX_CARD_BYTES + 400
    assert "left out" in card["body"][-1]["text"] or "left out" in json.dumps(card)
    assert any(element["type"] == "ActionSet" for element in card["body"])  # actions are kept
    assert len(card["body"][0]["facts"]) == 40 and card["body"][1]["text"] == "…and 4960 more"


def _utf16(element: dict[str, Any]) -> int:
    """The size Microsoft's message limit counts: the JSON in UTF-16."""
    return len(json.dumps(element, ensure_ascii=False).encode("utf-16-le"))


def test_a_card_is_measured_as_teams_counts_it_in_utf_16() -> None:
    """Teams refuses a message whose JSON is over its limit in UTF-16 (413 MessageSizeTooBig). The card was
    measured by `json.dumps`'s length, every character outside ASCII written as `\\uXXXX`: English text got
    through at twice the budget in UTF-16, and a list of names in Japanese was cut at a sixth of it."""
    english = cards.card(Message("Plan", tuple(Text("word " * 900) for _ in range(5))))
    assert "left out" in json.dumps(english) and _utf16(english) <= cards.MAX_CARD_BYTES
    japanese = cards.card(Message("計画", tuple(Text("渡辺さくら、" * 300) for _ in range(5))))
    assert "left out" not in json.dumps(japanese, ensure_ascii=False)
    assert len(japanese["body"]) == 5 and _utf16(japanese) <= cards.MAX_CARD_BYTES


def test_a_review_page_of_200_waiting_fits_one_card_whole_with_its_next_button() -> None:
    """As the Slack message-size test builds it: the longest excerpts, the longest organization name."""
    organization = "fabrikam-fiber-" + "x" * 35
    question = FeedbackItem(
        7,
        organization,
        "why " * 400,
        "declined",
        None,
        ("git-credential-cache", "ssh-keys"),
        "open",
        datetime.now(UTC),
    )
    items = [replace(question, id=1000 + n) for n in range(faq_views.REVIEW_PAGE)]
    last = Paging(10**12 - 1, 0, 1009)  # the longest place word and mark the words take
    card = cards.card(faq_views.review(items, organization, total=200, later=190, last=last).message)
    sent = json.dumps(card)
    assert _utf16(card) <= cards.MAX_CARD_BYTES and "left out" not in sent
    next_page = [
        action for element in card["body"] if element["type"] == "ActionSet" for action in element["actions"]
    ]
    assert next_page[-1] == {
        "type": "Action.Execute",
        "title": "Next 10",
        "verb": "faq",
        "data": {"value": "review more 1009 not-helpful 999999999999"},
    }
    assert card["body"][0]["text"].startswith("200 questions waiting for review") and "Here 1 to 10" in sent


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


def test_a_shared_copy_is_sent_as_its_readers_see_it() -> None:
    """A personal chat's copy carries the actions as sent while its one reader may act, none once they may
    not, and no refresh; a channel's is read-only, refreshed into the full card for those who may act."""
    decide = Message("Approval #3", (Text("Connect?"), decision_buttons(3)))
    lee, ann = "8:orgid:lee", "8:orgid:ann"
    assert cards.shared_copy(decide, "approval:3", [lee, ann], lee) == {"actions": True}
    assert cards.shared_copy(decide, "approval:3", [ann], lee) == {"actions": False}  # he decided
    assert cards.shared_copy(decide, "approval:3", [ann], None) == {
        "actions": False,
        "refresh": ("approval:3", [ann]),
    }
    settled = Message("Approval #3: approved", (Text("Approved by Ann"),))
    assert cards.shared_copy(settled, "approval:3", [], None) == {"actions": False}
