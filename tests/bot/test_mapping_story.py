"""One story about mapping someone by hand after connecting, as Microsoft's tutorial tells it: the portal
steps, `progress` and the plan's warnings all say Organization settings > Microsoft Entra ID, *Resolve* on
the notice of disconnected users, and Microsoft Support only if Resolve fails (reviewer's finding)."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation import approval_views, plan_views, sign_in_views
from bot.conversation.messages import Table, Text
from tests.delivery.test_notice_codec import DANA, STATUS
from workflows.mapping import map_by_hand
from workflows.stages.verification import StillPersonal


def test_the_portal_steps_map_the_warned_members_with_resolve_first() -> None:
    steps = " ".join(
        block.markdown
        for block in approval_views.portal_steps(STATUS, DANA, watch_seconds=60).blocks
        if isinstance(block, Text)
    )
    assert f"Afterwards, {map_by_hand()}." in steps
    assert "Users (*Resolve*)" not in steps


def test_progress_sends_someone_mapped_by_hand_to_resolve_before_support() -> None:
    kim = StillPersonal("e-1", "kim@fabrikam-old.com", "map", "map")
    blocks = sign_in_views.still_personal_blocks([kim], STATUS.organization)
    assert next(block for block in blocks if isinstance(block, Table)).rows[0][2] == "map by hand"
    [step] = [b.markdown for b in blocks if isinstance(b, Text) and "*map by hand*" in b.markdown]
    assert step == f"• *map by hand*: {map_by_hand()}."
    assert step.index("*Resolve*") < step.index("Microsoft Support")


def test_the_status_line_after_connecting_tells_the_same_story() -> None:
    connected = replace(STATUS, state="connected", undecided=2)
    assert plan_views.undecided_line(connected).markdown.endswith(f"then {map_by_hand()}.")


def test_the_one_definition_follows_the_tutorial() -> None:
    said = map_by_hand("kim@fabrikam-old.com", "kim@fabrikam.com")
    assert said.startswith("map kim@fabrikam-old.com to kim@fabrikam.com under Organization settings >")
    assert "Microsoft Entra ID: on the notice of disconnected users select *Resolve*" in said
    assert (
        "keeps their history; if Resolve fails, or the organization has more than 100 users, Microsoft"
        in said
    )


def test_progress_counts_one_person_left_on_a_microsoft_account_in_the_singular() -> None:
    kim = StillPersonal("e-1", "kim@fabrikam-old.com", "map", "map")
    lee = StillPersonal("e-2", "lee@fabrikam-old.com", "map", "map")
    [one] = [b.markdown for b in sign_in_views.still_personal_blocks([kim], STATUS.organization)[:1]]
    [two] = [b.markdown for b in sign_in_views.still_personal_blocks([kim, lee], STATUS.organization)[:1]]
    assert one == (
        "1 person is still on their Microsoft account after the connection and needs you: until you act, they"
        " cannot sign in or their earlier history stays behind."
    )
    assert two == (
        "2 people are still on their Microsoft account after the connection and need you: until you act, they"
        " cannot sign in or their earlier history stays behind."
    )
