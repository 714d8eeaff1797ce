"""A reply for the asker alone that is about nobody's case (a typo's "Did you mean…?", help) stays in the
channel's thread where it was asked, as Slack's ephemeral reply stays in its thread: everyone reads its
words, its buttons are the asker's alone, and a click on them acts for the channel (walk38)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.runtime import utc_now
from bot.teams.store import REPLY_MEMORY, TeamsStore
from storage import Migration, TeamsSharedCard
from tests.teams.conftest import ORGANIZATION, Teams, actions_of, texts
from workflows.notices import approval_thread

DANA, LEE = "dana@fabrikam.com", "lee@fabrikam.com"


def _said(teams: Teams, upn: str, words: str) -> tuple[str, list[dict[str, Any]]]:
    """`upn` @mentions the bot in the channel: the new post's id, and everything the bot sent after it."""
    before = len(teams.activities())
    asked = teams.say(upn, words)
    assert asked["status"] == 200, asked
    return str(asked["activityId"]), teams.activities()[before:]


def test_a_typo_in_the_channel_is_answered_in_its_thread_and_its_button_starts_there(teams: Teams) -> None:
    asked, new = _said(teams, DANA, f"strat {ORGANIZATION} fabrikam.com")
    assert [(entry["conversation"]["conversationType"], entry["thread"]) for entry in new] == [
        ("channel", asked)
    ]
    (typo,) = new
    meant = f"start {ORGANIZATION} fabrikam.com"
    assert f"Did you mean **{meant}**?" in texts(typo)
    assert actions_of(teams.view(LEE, typo["id"])) == []  # another reader: the words, no button of Dana's
    assert [action["title"] for action in actions_of(teams.view(DANA, typo["id"]))] == [meant]

    clicked = teams.click(DANA, typo["id"], "start")
    assert clicked.json()["status"] == 200, clicked.text
    with teams.runtime.database.session() as session:
        (migration,) = session.exec(select(Migration)).all()
    assert migration.channel_id == f"teams:{typo['conversation']['id']}"  # the channel's, not a DM's


def test_help_in_the_channel_is_answered_in_its_thread(teams: Teams) -> None:
    for words in ("help", "help all", "help invite"):
        asked, new = _said(teams, LEE, words)
        where = [(entry["conversation"]["conversationType"], entry["thread"]) for entry in new]
        assert where == [("channel", asked)], words


def test_a_reply_s_buttons_are_forgotten_a_day_later_with_its_kept_card(teams: Teams) -> None:
    """Each typo or help in a channel keeps a card for its asker's refresh: kept a day, not for ever."""
    _, (typo,) = _said(teams, DANA, f"strat {ORGANIZATION} fabrikam.com")
    now = [utc_now()]
    store = TeamsStore(teams.runtime.database, clock=lambda: now[0])  # the watch's, a day on
    # an approval prompt is kept as long as its approval waits, days if need be: not a reply's card
    store.share(approval_thread(7), {"type": "AdaptiveCard"}, ["admin-id"])
    now[0] += REPLY_MEMORY - timedelta(minutes=1)
    store.forget_old_activities()
    assert actions_of(teams.view(DANA, typo["id"]))  # still hers to press

    now[0] += timedelta(minutes=2)
    store.forget_old_activities()
    assert actions_of(teams.view(DANA, typo["id"])) == []  # read-only, as everyone else reads it
    with teams.runtime.database.session() as session:
        assert [card.key for card in session.exec(select(TeamsSharedCard))] == [approval_thread(7)]


def test_help_in_a_channel_lists_only_the_migrations_run_from_it() -> None:
    """Its thread shows the answer to everyone in the channel: an admin's migrations run from other
    channels are counted, not named (view level: the sandbox holds one organization to migrate)."""
    from dataclasses import replace

    from bot.conversation.help_views import help_now
    from bot.conversation.messages import Text
    from tests.delivery.test_notice_codec import STATUS

    here = replace(STATUS, channel_id="teams:19:here", pending_approval_id=None)
    elsewhere = replace(here, id=8, organization="contoso-secret", channel_id="teams:19:other")
    asked_here = help_now([here, elsewhere], (), channel="teams:19:here")
    shown = "\n".join(block.markdown for block in asked_here.message.blocks if isinstance(block, Text))
    assert "fabrikam-fiber" in shown and "contoso-secret" not in shown
    assert "1 more migration(s) you administer run from other channels" in shown
    assert asked_here.message.impersonal  # so it stays in the thread

    in_a_direct_message = help_now([here, elsewhere], ())
    assert "contoso-secret" in str(in_a_direct_message.message.blocks)
