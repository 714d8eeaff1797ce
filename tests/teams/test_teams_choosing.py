"""Hana in Teams, whose address two directory accounts carry, says which one is hers from her list, or in
her own words in her personal chat; each admin's personal chat gets a card with a button per account, and
the channel, where people other than admins post, only that someone said which is theirs (walk31 finding 2,
rev44 finding 3, walk39 b)."""

from __future__ import annotations

from typing import Any

from tests.bot.conftest import LEE
from tests.bot.test_choosing_own_account import SENT_PRIVATELY as SAID_IN_THE_CONSOLE
from tests.teams.conftest import Teams, actions_of, latest_card, texts
from tests.teams.test_teams_help import DANA, _answered_below, _channel_since, _notified

HANA, HANA_MEMBER = "hana@contoso.com", "hana.hart@fabrikam.com"
HANA_GUEST = "hana_contoso.com#EXT#@fabrikam.onmicrosoft.com"
SENT_PRIVATELY = SAID_IN_THE_CONSOLE.replace("`plan`", "**plan**")  # a command reads bold in Teams
SAID_WHICH = (
    f"Someone says which of the directory accounts that share their address is theirs. {SENT_PRIVATELY}"
)


def _told_privately(
    teams: Teams, before: int, told: str = f"says {HANA_MEMBER} is their account"
) -> dict[str, Any]:
    """The card Dana got in her personal chat since `before`, saying `told`: Hana's accounts, a button for
    each."""
    hers = teams.personal(DANA)
    (card,) = [e for e in teams.activities()[before:] if e in hers and HANA_GUEST in texts(e)]
    said = " ".join(texts(card).split())
    assert f"({HANA}) {told}" in said and f"{HANA_GUEST}, {HANA_MEMBER}" in said
    titles = [a["title"] for a in actions_of(teams.view(DANA, card["id"]))]  # a shared card's, as she sees it
    assert titles == [f"{HANA_GUEST} is theirs", f"{HANA_MEMBER} is theirs"]
    return card


def test_hana_chooses_her_account_from_her_list_and_an_admin_decides_from_her_personal_chat(
    teams: Teams,
) -> None:
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
    assert _channel_since(teams, before) == [SAID_WHICH]
    card = _told_privately(teams, before)
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
    assert _channel_since(teams, before) == [SAID_WHICH]
    _told_privately(teams, before)


def test_hanas_need_help_shows_her_accounts_to_each_admin_privately_not_in_the_channel(teams: Teams) -> None:
    _notified(teams)
    (todo,) = [e for e in teams.personal(HANA_MEMBER) if "to-do list" in texts(e).lower()]
    before = len(teams.activities())
    card = _answered_below(teams, HANA_MEMBER, todo["id"], "I need help")
    assert [a["title"] for a in actions_of(card)][-1] == f"This one is mine: {HANA_MEMBER}"
    teams.deliver_outbox()
    assert _channel_since(teams, before) == [
        f"Someone needs help with: Tell the admins which work account is yours. {SENT_PRIVATELY}"
    ]
    told = _told_privately(teams, before, "needs help with: Tell the admins which work account is yours.")
    (lees,) = [e for e in teams.activities()[before:] if e in teams.personal(LEE) and HANA_GUEST in texts(e)]
    assert teams.click(DANA, told["id"], f"{HANA_MEMBER} is theirs").status_code == 200
    hana = next(u for u in teams.runtime.service.plan("fabrikam-fiber").users if u.principal_name == HANA)
    assert (hana.outcome, hana.match.user_principal_name if hana.match else "") == ("map", HANA_MEMBER)
    teams.deliver_outbox()
    # Lee's copy says who decided what, and offers no press that would overwrite it (walk37 2)
    for admin, card in ((LEE, lees), (DANA, told)):
        seen = teams.view(admin, card["id"])
        assert actions_of(seen) == [], admin
        assert " ".join(texts({"attachments": [latest_card(teams.activities(), card["id"])]}).split()) == (
            f"Hana Hart (Fabrikam) ({HANA}): Dana Owner decided that {HANA_MEMBER} is their account. To"
            f" change it, type **decide fabrikam-fiber {HANA} ACCOUNT** (or **no-access**)."
        ), admin
