"""Each person's own list before and after the lists go out, true to their case (walk34, findings 1, 3 and 6):
someone mapped by hand waits for the admins' mapping before signing in, `todo` before the lists says what the
advance notice asked of them, and someone whose only account is disabled is asked nothing done for an account.
The reminder of someone mapped by hand: tests/bot/test_rehearsal_clock.py."""

from __future__ import annotations

from bot.conversation.messages import DirectMessage, Outgoing
from tests.bot.conftest import DANA, ORG, Chat, notified, started, text_of

CAROL, GUS, HANA, ERIN = "carol@fabrikam.com", "gus@fabrikam.com", "hana@contoso.com", "erin.eng@gmail.com"
ADMINS = "the migration admins (dana@fabrikam.com, lee@fabrikam.com)"


def flat(outgoing: list[Outgoing]) -> str:
    return " ".join(text_of(outgoing).split())


def list_to(sent: list[Outgoing], email: str) -> str:
    (own,) = [m for m in sent if isinstance(m.to, DirectMessage) and m.to.email == email]
    return flat([own])


def test_someone_mapped_by_hand_waits_for_the_mapping_before_signing_in_and_hears_so_when_refused(
    chat: Chat,
) -> None:
    """Carol's identity is mapped by hand after connecting: her list says the mapping comes first and what
    she can do meanwhile; ticking the sign-in before Azure DevOps shows it mapped is noted, not done-and-fine;
    "not authorized" is her case, not the Git credential cache."""
    carols = list_to(notified(chat), CAROL)
    assert (
        f"Hi Carol, {ORG} on Azure DevOps now uses Fabrikam accounts. Before you can sign in, {ADMINS} need"
        " to map your old identity to your work account, which keeps your history yours: until they have,"
        " Azure DevOps refuses your work account. Meanwhile, do what needs no sign-in (clearing your Git"
        " credential cache, say); once they have, sign in and do the rest. Press Done as you go."
    ) in carols
    assert (
        "1. Sign in with your work account First the migration admins map your old identity to"
        " carol@fabrikam.com (Organization settings > Microsoft Entra ID > Resolve)"
    ) in carols
    ticked = flat(chat.say(CAROL, "done 1", in_dm=True))
    assert ticked.startswith(
        "✅ Sign in with your work account done. 2 to go. But Azure DevOps still shows you on your Microsoft"
        " account: the migration admins have yet to map your old identity to your work account"
    ), ticked
    refused = flat(chat.say(CAROL, "I can't sign in, it says I'm not authorized", in_dm=True))
    assert refused.startswith(
        f"Your old identity is not mapped to your work account yet {ORG} now signs in with directory"
        " accounts, and Azure DevOps still shows you on your Microsoft account: your identity is one that is"
        f" mapped by hand after connecting, and {ADMINS} have not mapped it to your work account yet."
    ), refused
    assert "Microsoft Support maps it, which can take some days" in refused
    assert "git-credential-manager" not in refused


def test_todo_before_the_lists_says_what_the_advance_notice_asked_of_each_case(chat: Chat) -> None:
    """Before the lists, `todo` is not "nothing for you to do": Hana (several accounts match) is asked which
    one she uses, as her notice asked, with *Choose my account*; Gus (his only account disabled, told
    nothing by the notice) hears his case; Carol, mapped by hand, hears that nothing is asked before the
    move; and each of them when their list comes."""
    started(chat)
    chat.say(DANA, f"announce {ORG} 2030-12-04")
    comes = (
        f"Your own to-do list comes by direct message once {ORG} moves to Fabrikam accounts (announced for"
        " 2030-12-04). Until then, keep signing in as you do today."
    )
    heading = f"YOUR TO-DO LIST FOR {ORG.upper()} IS NOT OUT YET"
    hanas = chat.say(HANA, "todo", in_dm=True)
    assert flat(hanas) == (
        f"{heading} Several accounts in Fabrikam match your address"
        " (hana_contoso.com#EXT#@fabrikam.onmicrosoft.com, hana.hart@fabrikam.com). Tell"
        f" {ADMINS} which one you use, so they can map you to it. {comes} [Choose my account: `my-account"
        f" {ORG}`]"
    )
    assert flat(chat.say(GUS, "todo", in_dm=True)) == (
        f"{heading} Your address matches the account gus@fabrikam.com in Fabrikam, but that account is"
        f" disabled, so you cannot sign in after the change. If you still need access, tell {ADMINS}: they"
        " have it enabled, or map you to another account. If you have left, there is nothing to do: your"
        f" history is kept. {comes}"
    )
    assert flat(chat.say(CAROL, "todo", in_dm=True)) == (
        f"{heading} An admin maps your identity to carol@fabrikam.com by hand after the change, so your"
        f" history stays yours. Nothing is asked of you before then. {comes}"
    )
    assert flat(chat.say(ERIN, "todo", in_dm=True)).startswith(
        f"{heading} You have no account in Fabrikam yet: you will get an invitation email from"
    )


def test_someone_whose_only_account_is_disabled_is_asked_only_what_is_theirs(chat: Chat) -> None:
    """Gus's only directory account is disabled: he cannot sign in, so clearing a Git cache or renaming his
    Microsoft account is nothing of his to do; his list holds the one item that says how to get access back,
    or that someone who left has nothing to do."""
    guss = list_to(notified(chat), GUS)
    assert "Clear your Git credential cache" not in guss and "Rename your personal" not in guss
    assert (
        f"Before you can sign in, {ADMINS} need to have your disabled directory account enabled, or to choose"
        " another one: the first item says how to help them. It is all your list holds, and I send no"
        " reminders until they have."
    ) in guss
    todo = flat(chat.say(GUS, "todo", in_dm=True))
    assert todo.startswith(
        f"YOUR TO-DO LIST FOR {ORG.upper()}: 1 OF 1 OPEN 1. Tell the admins if you still need access Your"
        " address matches the account gus@fabrikam.com in Fabrikam, but that account is disabled"
    ), todo
    assert todo.count("[Done: ") == 1
