"""Every message the bot can send fits Slack, for 10 users and for 20,000 users with long names.

Each message of tests/message_catalog.py is rendered as it is sent and checked by slack_sdk's models and
Slack's documented limits.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import re

import pytest

from bot.conversation import status_views
from bot.conversation.messages import Attachment, Message, Table, Text
from bot.delivery import render as rendering
from bot.slack.blocks import message_payload, note, render, view_payload
from tests.fakes.slack_limits import problems
from tests.message_catalog import SIZES, catalog, catalog_of, entries, outbox_rows, status, world
from workflows import notices
from workflows.machine import STATES


@pytest.mark.parametrize("size", SIZES)
def test_every_message_fits_slack_with_its_buttons_and_closing_text(size: int) -> None:
    messages = catalog(size)
    assert len(messages) > 70
    private_reply_footer = [note("The file is in your direct messages with me.")]
    for name, message in messages.items():
        for payload in (message_payload(message), message_payload(message, footer=private_reply_footer)):
            assert problems(payload) == [], name
        blocks = render(message)
        sent = json.dumps(blocks)
        assert "left out here" not in sent, f"{name}: the views should have cut their lists themselves"
        rendered_buttons = {
            (element["action_id"].split("#")[0], element.get("value", ""))
            for block in blocks
            if block["type"] == "actions"
            for element in block["elements"]
        }
        assert {(button.action, button.value) for button in message.buttons} == rendered_buttons, name
        last = message.blocks[-1]
        if not isinstance(last, Attachment):  # what closes a message (the next step, a note) is kept
            closing = json.dumps(render(Message("last", (last,)))[-1])
            assert _without_repeat_marks(closing) in _without_repeat_marks(sent), name


def _without_repeat_marks(text: str) -> str:
    """A button's action_id is numbered when its word repeats in a message (`done#3`)."""
    return re.sub(r'#\d+"', '"', text)


@pytest.mark.parametrize("size", SIZES)
def test_the_app_home_fits_a_view(size: int) -> None:
    w = world(size)
    statuses = [status(w, state) for state in STATES]
    assert problems(view_payload(status_views.home(statuses, entries(w))), view=True) == []


def test_the_catalog_holds_every_kind_of_message_the_outbox_delivers() -> None:
    """Read from `envelope_of` itself: a kind added there and not here fails this test."""
    source = ast.parse(inspect.getsource(rendering.envelope_of))
    (match,) = [node for node in ast.walk(source) if isinstance(node, ast.Match)]
    known: set[str] = set()
    for case in match.cases:
        pattern = case.pattern
        if isinstance(pattern, ast.MatchValue):
            known.add(eval(ast.unparse(pattern.value), vars(rendering)))
        elif isinstance(case.guard, ast.Compare):  # `kind if kind == X` or `kind if kind in KINDS`
            value = eval(ast.unparse(case.guard.comparators[0]), vars(rendering))
            known |= set(value) if isinstance(case.guard.ops[0], ast.In) else {value}
    through_notice = {
        eval(ast.unparse(call.args[0]), vars(notices) | {"notices": notices})
        for call in ast.walk(ast.parse(inspect.getsource(catalog_of)))
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "notice"
    }
    assert known - {row.kind for row in outbox_rows(world(10)).values()} - through_notice == set()
    assert len(known) >= 20


def test_long_lists_show_twenty_five_rows_and_attach_everyone() -> None:
    w = world(20_000)
    messages = catalog(20_000)
    for name, rows in (
        ("progress", len(w.plan.users)),
        ("invited", len(w.plan.users_with("invite"))),
        ("digest", len(w.plan.users)),
        ("stale users", len(w.snapshot.users)),
        ("plan", len(w.plan.users)),
    ):
        message = messages[name]
        tables = [block for block in message.blocks if isinstance(block, Table)]
        assert max(len(table.rows) for table in tables) == 25, name
        # the first file holds the first list (the digest's stragglers; its other lists have files too)
        attached = next(block for block in message.blocks if isinstance(block, Attachment))
        assert len(attached.content.splitlines()) == rows + 1, name  # a header, then everyone
    live = messages["live report"]
    assert not any(isinstance(block, Attachment) for block in live.blocks)  # re-sent on every update
    assert "Refresh" in {button.label for button in live.buttons}


def test_each_list_cut_for_the_attached_csv_has_its_rows_in_an_attachment() -> None:
    """fix111: the digest's tables of who wait said "…and N more in the attached CSV" beside no file of
    them. Each such line follows a table of 25 rows, and some file of the message holds those and the N."""
    for name, message in catalog(20_000).items():
        attached = {
            len(block.content.splitlines()) - 1
            for block in message.blocks
            if isinstance(block, Attachment)  # less its header
        }
        for before, block in itertools.pairwise(message.blocks):
            said = re.fullmatch(r"…and ([\d,]+) more in the attached CSV\.", getattr(block, "markdown", ""))
            if said:
                assert isinstance(before, Table), name
                rows = len(before.rows) + int(said[1].replace(",", ""))
                assert rows in attached, f"{name}: {rows} rows, in no file of {sorted(attached)}"


def test_the_digests_names_of_stragglers_to_retry_past_the_first_25_are_in_a_file_of_their_own() -> None:
    """fix114: the digest named 25 people whose list may have arrived (or failed) then "and N more", in no
    file. Each line now says the N are in the attached CSV, which holds all 25 + N of them."""
    digest = catalog(20_000)["digest"]
    users = [u.principal_name for u in world(20_000).plan.users]
    attached = {
        block.filename: block.content.splitlines() for block in digest.blocks if isinstance(block, Attachment)
    }
    for filename, named, opening in (
        ("may-have-arrived", users[::3], "to-do lists may have reached"),
        ("failed", users[1::3], "to-do lists failed to reach"),
    ):
        (line,) = [
            block.markdown for block in digest.blocks if isinstance(block, Text) and opening in block.markdown
        ]
        assert f" and {len(named) - 25:,} more in the attached CSV. " in line
        assert attached[f"{filename}-{world(20_000).plan.organization}.csv"] == ["user", *named]


def test_stale_users_are_removed_by_a_confirmed_button_not_by_pasting_ids() -> None:
    message = catalog(20_000)["stale users"]
    (remove,) = message.buttons
    assert remove.action == "remove-users" and remove.style == "danger" and remove.confirm
    assert remove.value.endswith("--stale 90 --list 0123456789abcdef")
    w = world(20_000)
    sent = json.dumps(render(message))
    first = w.snapshot.users[0]
    assert f"remove-users {w.plan.organization} {first.id}" not in sent  # no command of ids to copy
    assert len(sent) < 40_000


def test_counts_of_thousands_are_grouped_as_people_read_them() -> None:
    """walk30 read "Queued 20000 to-do lists", "17317 users" and "0 of 40994 items" at 20,000 people."""
    messages = catalog(20_000)
    queued = " ".join(block.markdown for block in messages["queued"].blocks if isinstance(block, Text))
    assert "Queued 20,000 to-do lists for" in queued
    assert messages["retried"].summary.startswith(
        "Queued again 20,000 to-do lists and 20,000 messages of people's access of"
    )
    assert not re.search(r"\d{5}", messages["queued"].summary + messages["retried"].summary)
