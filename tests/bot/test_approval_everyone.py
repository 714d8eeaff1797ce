"""The approval prompt names ten of each group; at 20,000 people (walk26 #9, "and 1492 more") the approver
is pointed to the plan's CSV, with a button, to see everyone who loses access before approving."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation.approval_views import approval_prompt
from bot.conversation.messages import Text
from tests.delivery.test_notice_codec import DANA, STATUS, WHEN
from workflows.results_approving import Affected, ApprovalRequest, People

TEN = tuple(f"p{n}@x" for n in range(10))
REQUEST = ApprovalRequest(
    4, "fabrikam-fiber", "t", "Fabrikam", "abc123", {"auto": 3}, (), DANA, 1, WHEN, STATUS,
    Affected(People(3, ("a@x", "b@x", "c@x")), People(0, ()), People(2, ("d@x", "e@x")), People(0, ())),
)  # fmt: skip


def test_a_prompt_that_names_everyone_losing_access_needs_no_csv() -> None:
    prompt = approval_prompt(REQUEST)
    assert not [button for button in prompt.buttons if button.action == "plan"]


def test_a_prompt_that_cuts_who_loses_access_points_to_the_plans_csv() -> None:
    for cut in (
        replace(REQUEST.affected, uninvited=People(1502, TEN)),
        replace(REQUEST.affected, undecided=People(11, TEN)),
        replace(REQUEST.affected, without_access=People(12, TEN)),
    ):
        prompt = approval_prompt(replace(REQUEST, affected=cut))
        said = " ".join(block.markdown for block in prompt.blocks if isinstance(block, Text))
        assert (
            "see everyone who loses access: `plan fabrikam-fiber` attaches each person's outcome as CSV"
            in said
        )
        (button,) = [button for button in prompt.buttons if button.action == "plan"]
        assert (button.label, button.value) == ("Plan with everyone (CSV)", "fabrikam-fiber")
    # many who keep access are no reason to send the approver elsewhere
    kept = approval_prompt(replace(REQUEST, affected=replace(REQUEST.affected, keep=People(5000, TEN))))
    assert not [button for button in kept.buttons if button.action == "plan"]
