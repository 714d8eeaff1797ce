"""Removing thousands of users: the reply names the first ones, and a CSV keeps who was removed and who
could not be, to add back anyone removed by mistake (walk26 #10)."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation import removal_views
from bot.conversation.messages import Attachment
from tests.delivery.test_notice_codec import STATUS
from workflows.results_preparing import RemovalResult

PLANNED = replace(STATUS, state="planned", next_commands=())


def test_removing_more_than_the_reply_names_attaches_everyone_as_csv() -> None:
    removed = tuple(f"left{n}@fabrikam.com" for n in range(30))
    result = RemovalResult(removed, (("kept@fabrikam.com", "Azure DevOps said no"),), PLANNED)
    message = removal_views.removed(result).message
    text = message.summary
    assert text.startswith("Removed 30 users: left0@fabrikam.com,") and text.endswith(" and 5 more.")
    (csv,) = [block for block in message.blocks if isinstance(block, Attachment)]
    assert csv.filename == "removed-fabrikam-fiber.csv"
    rows = csv.content.splitlines()
    assert rows[0] == "principal_name,result,reason" and len(rows) == 1 + 30 + 1
    assert (
        rows[30] == "left29@fabrikam.com,removed,"
        and rows[31] == "kept@fabrikam.com,not removed,Azure DevOps said no"
    )


def test_a_few_removed_are_all_named_and_no_file_comes() -> None:
    result = RemovalResult(("left@fabrikam.com",), (), PLANNED)
    message = removal_views.removed(result).message
    assert not [block for block in message.blocks if isinstance(block, Attachment)]
