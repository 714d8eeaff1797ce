"""One item of a person's to-do list, in words and buttons: its steps as each list shows them (open, done,
or on a completed migration's list nobody follows), its number, and its buttons (*Done*, *I need help*,
*Accept the invitation*, *Choose my account*).

The list around the items is `todo_views`'s, the messages that bring a list or its changes
`list_message_views`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation.messages import Actions, Block, Button, Text
from workflows.item_rewording import accepted, on_a_closed_list, without_help_button
from workflows.results import BOT
from workflows.results_todo_lists import TodoEntry
from workflows.todo import ACCEPT_INVITATION, CHOOSING_ITEM, INVITATION_IN_DOUBT, OPTIONAL_ITEMS

BY_ID = "#"
"""In front of the id a button carries (`done #57`), where a typed number is a place on the list."""
MY_ACCOUNT = "my-account"
"""How someone several directory accounts match says which one is theirs: `my-account [ORG] [ACCOUNT]`."""


def item_blocks(items: Sequence[TodoEntry], *, live: bool = True) -> list[Block]:
    """`live`: with each open item's buttons; not on a list nobody follows any more (`closed_list`)."""
    blocks: list[Block] = []
    # The number in front is the item's place on the person's list, the one they type (`done 2`); the
    # buttons carry the item's id (`#id`), which stays right whichever list or message they are on.
    for item in items:
        mark = "✅" if item.done_at else bullet(item)
        optional = " (optional: only if it applies to you)" if item.key in OPTIONAL_ITEMS else ""
        blocks.append(Text(f"{mark} *{item.title}*{optional}\n{_body(item, live=live)}\nMore: {item.link}"))
        if not item.done_at and live:
            blocks.append(item_buttons(item))
    return blocks


def _body(item: TodoEntry, *, live: bool) -> str:
    """An item's steps, pointing to its *I need help* button only where it has one (open, on a `live` list),
    and to no step of the admins once nobody follows the list; an invitation's item, done, as behind them
    (`accepted`)."""
    if item.done_at and item.key in (ACCEPT_INVITATION, INVITATION_IN_DOUBT):
        # seen by the sign-ins' watch (`verification`), whoever ticked it; a payload of before `verified`
        # knows it only by the watch's tick
        seen = item.verified or item.done_by == BOT.id
        said = accepted(item.body, item.organization, seen=seen)
        return said if live else on_a_closed_list(said)
    if not live:
        return on_a_closed_list(item.body)
    return without_help_button(item.body) if item.done_at else item.body


def bullet(item: TodoEntry) -> str:
    return f"{item.number}." if item.number else "•"


def open_items(items: Sequence[TodoEntry]) -> list[Block]:
    """Each open item by its title with its buttons, then where the full steps are: a message about the
    list that is not the list."""
    blocks: list[Block] = []
    for item in items:
        blocks += [Text(f"{bullet(item)} *{item.title}*"), item_buttons(item)]
    return [*blocks, Text("Say `todo` for the full steps of each.")]


def item_buttons(item: TodoEntry) -> Actions:
    accept = (
        (Button("Accept the invitation", "accept-invitation", url=item.accept_url),)
        if item.accept_url
        else ()
    )
    # the accounts to choose from are read when it is pressed: a list's message carries only its items
    choosing = item.key == CHOOSING_ITEM
    choose = (Button("Choose my account", MY_ACCOUNT, item.organization),) if choosing else ()
    return Actions(
        (
            *accept,
            *choose,
            Button("Done", "done", f"{BY_ID}{item.id}", "primary"),
            Button("I need help", "need-help", f"{BY_ID}{item.id}"),
        )
    )
