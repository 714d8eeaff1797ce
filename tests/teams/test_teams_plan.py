"""Dana asks for the plan in the migration's Teams channel: the channel reads the counts and the checks; who
matches which directory account, Hana's two accounts to choose between and the CSV go to Dana's personal
chat, not to everyone in the channel (walk finding: `plan` showed other people's addresses to all)."""

from __future__ import annotations

from tests.teams.conftest import ORGANIZATION, Teams, actions_of, texts
from tests.teams.test_teams_choosing import HANA, HANA_GUEST, HANA_MEMBER
from tests.teams.test_teams_help import DANA, _channel_since

GUS = "gus@fabrikam.com"


def test_the_plan_in_the_channel_says_the_counts_and_sends_the_accounts_to_dana_privately(
    teams: Teams,
) -> None:
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    teams.deliver_outbox()
    before = len(teams.activities())
    teams.say(DANA, f"plan {ORGANIZATION}")
    teams.deliver_outbox()

    (channel,) = [" ".join(text.split()) for text in _channel_since(teams, before) if "Plan for" in text]
    assert [account for account in (HANA_GUEST, HANA_MEMBER, HANA) if account in channel] == []
    assert "the CSV go to Dana Owner in a direct message" in channel
    (details,) = [e for e in teams.personal(DANA)[-3:] if "Each person in the plan" in texts(e)]
    said = texts(details)
    assert HANA_GUEST in said and HANA_MEMBER in said
    titles = [action["title"] for action in actions_of(details)]
    assert f"{HANA_GUEST} is theirs" in titles and f"{HANA_MEMBER} is theirs" in titles


def test_the_plan_in_the_personal_chat_is_all_there(teams: Teams) -> None:
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    teams.deliver_outbox()
    said = teams.said(DANA, f"plan {ORGANIZATION}", channel=False)
    assert HANA_GUEST in said and HANA_MEMBER in said and "Plan for fabrikam-fiber" in said
    assert "go to Dana" not in said


def test_announce_in_the_channel_counts_who_it_did_not_tell_and_names_them_to_dana_privately(
    teams: Teams,
) -> None:
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    teams.deliver_outbox()
    before = len(teams.activities())
    teams.say(DANA, f"announce {ORGANIZATION} 2026-12-10")
    channel = " ".join(" ".join(_channel_since(teams, before)).split())
    assert "Not told: 1 user whose only directory account is disabled." in channel
    assert GUS not in channel
    (named,) = [e for e in teams.personal(DANA) if "Not told about" in texts(e)]
    assert f"Not told: {GUS}, whose only directory account is disabled" in " ".join(texts(named).split())
