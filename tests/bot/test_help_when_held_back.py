"""`help` for a migration held back (fix74 finding 4): what moves it on is its block's own fix and the
command that follows it, not `announce` or `stale-users`, which come earlier in the procedure but unblock
nothing. Blocked, failed, interrupted and waiting for the invitation settings alike."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.conversation import help_views, status_views
from bot.conversation.messages import Actions, Outgoing
from sandbox import Sandbox
from tests.bot.conftest import DANA, ORG, Chat, failed_recheck, started, text_of
from tests.bot.test_guest_starter_taken_over import START, dana_a_guest, flat
from tests.delivery.test_notice_codec import STATUS


def _line(helped: list[Outgoing]) -> str:
    (line,) = [line for line in flat(text_of(helped)).split("• ") if line.startswith(f"{ORG} (")]
    return line.split(" Also:")[0].split(" Everything else")[0].strip()


def _buttons(helped: list[Outgoing]) -> list[tuple[str, str, str]]:
    (message,) = helped
    return [
        (button.label, button.action, button.value)
        for block in message.message.blocks
        if isinstance(block, Actions)
        for button in block.buttons
    ]


def test_blocked_help_gives_the_blocks_fix_then_recheck(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    dana_a_guest(box, fabrikam)
    chat.say(DANA, START)
    assert chat.state() == "blocked"
    fix = chat.runtime.service.status(ORG).blocked_fix
    assert fix is not None and fix.endswith(f"they type `connect-as-me {ORG}`.")
    helped = chat.say(DANA, "help")
    assert _line(helped) == f"{ORG} (blocked): to move on: {flat(fix)} Then `recheck {ORG}`."
    assert _buttons(helped) == [(f"Re-check ({ORG})", "recheck", ORG)]


def test_failed_help_gives_its_fix_and_resume(
    chat: Chat, box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed_recheck(chat, box, monkeypatch)
    helped = chat.say(DANA, "help")
    assert _line(helped) == (
        f"{ORG} (failed): to move on: If it names something you typed (the organization or the tenant),"
        " `cancel` and `start` again with the right one; otherwise `resume` once the service answers."
    )
    assert _buttons(helped) == [(f"Resume ({ORG})", "resume", ORG)]


@pytest.mark.parametrize(
    ("state", "fix", "then", "button"),
    [
        (
            "waiting_for_invite_settings",
            "In the Microsoft Entra admin center let members invite guests. Then run `invite` again.",
            "",
            ("Invite missing users", "invite"),
        ),
        ("interrupted", "`resume` carries on from there.", "", ("Resume", "resume")),
        (
            "blocked",
            None,
            f" `plan {ORG}` shows what holds it back. Then `recheck {ORG}`.",
            ("Re-check", "recheck"),
        ),
    ],
)
def test_every_held_back_state_is_moved_on_by_its_own_fix(
    chat: Chat, state: str, fix: str | None, then: str, button: tuple[str, str]
) -> None:
    started(chat)
    status = replace(chat.runtime.service.status(ORG), state=state, blocked_fix=fix, blocked_reason="held")
    helped = [help_views.help_now([status], ())]
    expected = f"{ORG} ({state.replace('_', ' ')}): to move on:" + (f" {fix}" if fix else "") + then
    assert _line(helped) == expected
    assert _buttons(helped) == [(f"{button[0]} ({ORG})", button[1], ORG)]


def test_the_wait_for_invite_settings_names_no_role_the_app_does_not_need() -> None:
    """The app may invite with its own permission, where no Guest Inviter role applies: the stage says what
    takes time to apply either way (rev72 8)."""
    waiting = replace(STATUS, state="waiting_for_invite_settings")
    assert status_views.stage_line(waiting) == (
        "The directory refused invitations. Changed invitation settings and newly granted permissions take"
        " 15-60 minutes to apply; then `invite` again."
    )
