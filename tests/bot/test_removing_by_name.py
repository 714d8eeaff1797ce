"""`remove-users` names people as admins know them: the address or the display name `stale-users` shows,
not only the id; a list id that no `stale-users` ever gave is a typo, not a changed list (walk33 finding
11)."""

from __future__ import annotations

from tests.bot.conftest import ORG, Chat, started, text_of
from tests.bot.test_decisions import DANA, GUS


def said(chat: Chat, words: str) -> str:
    return " ".join(text_of(chat.say(DANA, words)).split())


def test_an_address_or_a_display_name_names_the_user_to_remove(chat: Chat) -> None:
    started(chat)
    gus = next(user for user in chat.runtime.service.plan(ORG).users if user.principal_name == GUS)
    for named in (GUS, GUS.upper(), gus.display_name):
        asked = said(chat, f"remove-users {ORG} {named}")
        assert "REMOVE 1 USER FROM FABRIKAM-FIBER?" in asked and GUS in asked, asked
        assert f"`remove-users {ORG} {gus.id} confirm`" in asked
    assert not [entry for entry in chat.runtime.service.audit_trail(ORG) if entry.action == "remove_users"]
    removed = chat.say(DANA, f"remove-users {ORG} {GUS} confirm")
    assert "Removed 1 user: gus@fabrikam.com." in text_of(removed)
    assert [outgoing.message.private for outgoing in removed] == [True]  # in the channel: for Dana alone


def test_a_name_that_is_nobodys_or_a_path_is_refused_and_nothing_is_asked(chat: Chat) -> None:
    started(chat)
    refused = said(chat, f"remove-users {ORG} ../x")
    assert refused.startswith("`../x` names no user: give the id `stale-users` lists"), refused
    for named in ("nobody@fabrikam.com", "Nobody"):
        refused = said(chat, f"remove-users {ORG} {named}")
        assert refused.startswith(
            f"Not users of {ORG}: `{named}`. Name them by their id, address or display"
        ), refused
        assert "Remove this user" not in refused


def test_a_mistyped_list_id_is_unknown_not_changed(chat: Chat) -> None:
    started(chat)
    refused = said(chat, f"remove-users {ORG} --stale 90 --list XXXX")
    assert refused.startswith("I know no list `XXXX`, so I removed nobody."), refused
    assert "changed" not in refused
