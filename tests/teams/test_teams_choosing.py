"""Hana in Teams, whose address two directory accounts carry, says which one is hers from her list, or in
her own words in her personal chat; the admins' channel card offers a button per account (walk31
finding 2)."""

from __future__ import annotations

from tests.teams.conftest import Teams, actions_of, latest_card, texts
from tests.teams.test_teams_help import DANA, _answered_below, _channel_since, _notified

HANA, HANA_MEMBER = "hana@contoso.com", "hana.hart@fabrikam.com"


def test_hana_chooses_her_account_from_her_list_and_an_admin_decides_from_the_channel(teams: Teams) -> None:
    _notified(teams)
    (todo,) = [e for e in teams.personal(HANA_MEMBER) if "to-do list" in texts(e).lower()]
    choices = _answered_below(teams, HANA_MEMBER, todo["id"], "Choose my account")
    assert [a["title"] for a in actions_of(choices)][-1] == f"This one is mine: {HANA_MEMBER}"
    (shown,) = [e for e in teams.personal(HANA_MEMBER) if "Which account is yours" in texts(e)]
    before = len(teams.activities())
    said = _answered_below(teams, HANA_MEMBER, shown["id"], f"This one is mine: {HANA_MEMBER}")
    assert " ".join(texts({"attachments": [said]}).split()).startswith(
        f"Thanks: I told the migration admins (dana@fabrikam.com, lee@fabrikam.com) that you sign in with"
        f" {HANA_MEMBER}."
    )
    teams.deliver_outbox()
    (notice,) = _channel_since(teams, before)
    assert f"({HANA}) says {HANA_MEMBER} is their account: several directory accounts share" in notice
    (card,) = [e for e in teams.activities()[before:] if e["conversation"]["conversationType"] == "channel"]
    titles = [a["title"] for a in actions_of(latest_card(teams.activities(), card["id"]))]
    assert f"{HANA_MEMBER} is theirs" in titles
    assert teams.click(DANA, card["id"], f"{HANA_MEMBER} is theirs").status_code == 200
    hana = next(u for u in teams.runtime.service.plan("fabrikam-fiber").users if u.principal_name == HANA)
    assert (hana.outcome, hana.match.user_principal_name if hana.match else "") == ("map", HANA_MEMBER)


def test_hana_names_her_account_in_her_personal_chat(teams: Teams) -> None:
    _notified(teams)
    before = len(teams.activities())
    answer = teams.said(HANA_MEMBER, f"the one I use every day is {HANA_MEMBER}", channel=False)
    assert "Thanks: I told the migration admins" in answer
    assert "I don't know" not in answer
    teams.deliver_outbox()
    (notice,) = _channel_since(teams, before)
    assert f"({HANA}) says {HANA_MEMBER} is their account" in notice
