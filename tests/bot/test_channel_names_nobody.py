"""What the migration's channel, which everyone reads, shows of people, as walk39 found it on a Teams serve:
the start summary's ❌ `shared-directory-account` named the people who share an account (c), and the
FAQ's "Sorry, I don't know" named the admins' addresses (d). People's names are their addresses: the
channel counts them, and the admin who asked has the names privately. Over the console surface, with the
bundled scenario in the sandbox and a real database."""

from __future__ import annotations

from typing import Any

from bot.conversation.messages import ADDRESS, Channel, Outgoing, Reply
from sandbox import Sandbox
from tests.bot.conftest import DANA, LEE, ORG, Chat
from tests.bot.test_decisions import lines
from tests.bot.test_two_identities_one_account import NEW, OLD, second_kim


def _shared_check(outgoing: list[Outgoing]) -> str:
    (line,) = [line for line in lines(outgoing) if "*shared-directory-account*" in line]
    return line


def test_the_start_summary_counts_who_shares_an_account_and_the_starter_alone_has_their_names(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    second_kim(box, fabrikam)
    said = chat.say(DANA, f"/aad start {ORG} fabrikam.com")
    (summary,) = [m for m in said if isinstance(m.to, Channel) and "*Prerequisites*" in lines([m])]
    assert _shared_check([summary]) == (
        "❌ *shared-directory-account*: 2 users would get one directory account, which only one can: Connect"
        " carries over one at most, and mapping another to it fails, stranding their history. Decide which"
        " one keeps it. Someone keeps it at Connect (the same sign-in name) unless removed from the"
        " organization first (`remove-users`). If one of them is someone else, give them an account of their"
        " own in the directory (no address of theirs on this one), then `recheck`."
    )
    # the connector's checks say who connects by the name chat shows, never by an address
    assert ADDRESS.findall("\n".join(lines([summary]))) == []
    assert "✅ *connector-member*: Dana is an enabled Member of Fabrikam." in lines([summary])
    assert (
        "📬 Whom the checks name I send to Dana alone, in a message only they see. People's names are"
        f" their addresses, which are not for the whole channel: admins may ask me `plan {ORG}` in a direct"
        " message for the checks in full." in lines([summary])
    )
    (named,) = [m for m in said if m.message.private]
    assert isinstance(named.to, Reply)
    assert f"{OLD} and {NEW} → {NEW}" in _shared_check([named])


def test_a_recheck_in_the_channel_leaves_the_names_to_the_admin_who_asked(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    second_kim(box, fabrikam)
    chat.say(DANA, f"/aad start {ORG} fabrikam.com")
    said = chat.say(LEE, "recheck")
    shown, named = [m for m in said if not m.message.private], [m for m in said if m.message.private]
    assert OLD not in _shared_check(shown) and NEW not in _shared_check(shown)
    assert (
        "📬 Whom the checks name I send to you alone, in a message only you see. People's names are their"
        f" addresses, which are not for the whole channel: admins may ask me `plan {ORG}` in a direct message"
        " for the checks in full." in lines(shown)
    )
    assert f"{OLD} and {NEW} → {NEW}" in _shared_check(named)


def test_the_faq_s_decline_in_the_channel_names_no_admin_s_address(chat: Chat) -> None:
    chat.say(DANA, f"/aad start {ORG} fabrikam.com")
    declined = chat.say(LEE, "what's the best pizza topping?")
    assert [m.message.private for m in declined] == [False]  # anyone's answer, for everyone there
    assert lines(declined)[0] == "Sorry, I don't know the answer to that one."
    assert ADDRESS.findall("\n".join(lines(declined))) == []
    assert lines(declined)[-2] == (
        f"To reach a person, press *Ask an admin* and I pass your question to the admins of the {ORG}"
        " migration, or ask me in a direct message for their addresses to write to."
    )
    in_a_dm = chat.say(LEE, "what's the best pizza topping?", in_dm=True)
    assert lines(in_a_dm)[-2].endswith(f"or write to them: {DANA}.")
