"""What the admins hear from someone's list, and what a list lets them do, as walk37 found it wanting: Kim,
mapped by hand to kim@fabrikam.com, is written to there in the admins' direct messages, while the channel,
which others read, hears only that someone needs help (finding 20, walk39 b); Hana, whose address
two directory accounts share, cannot tick away the item that asks her which one is hers (finding 3).
Conversations over the console surface, with the bundled scenario in the sandbox and a real database."""

from __future__ import annotations

from bot.conversation.messages import Channel, DirectMessage, Outgoing, Reply
from tests.bot.conftest import Chat, notified
from tests.bot.test_decisions import HANA, HANA_GUEST, HANA_MEMBER, lines

KIM, KIM_MSA = "kim@fabrikam.com", "kim@fabrikam-old.com"


def list_of(chat: Chat, address: str) -> list[Outgoing]:
    return [m for m in notified(chat) if isinstance(m.to, DirectMessage) and address in m.to.addresses]


def test_the_channel_hears_that_someone_needs_help_and_each_admin_privately_where_chat_reaches_them(
    chat: Chat,
) -> None:
    """Who needs help, and the account they pressed from (Kim, mapped to kim@fabrikam.com since Azure
    DevOps listed her as kim@fabrikam-old.com), are for the admins' direct messages: other people read the
    channel, and the old address may no longer reach her (walk39 b, walk37 20)."""
    helped = chat.click(KIM, list_of(chat, KIM_MSA), "I need help")
    (notice,) = [m for m in helped if isinstance(m.to, Channel)]
    assert lines([notice]) == [
        "Someone needs help with: Sign in with your work account. Each migration admin gets who, and where to"
        " write to them, in a direct message."
    ]
    (to_dana,) = [m for m in helped if m.to == DirectMessage("dana@fabrikam.com")]
    assert lines([to_dana]) == [
        f"Kim ({KIM_MSA}) needs help with: Sign in with your work account. Write to them at {KIM} (where I"
        f" reach them now; Azure DevOps lists them as {KIM_MSA})."
    ]


def test_done_on_the_item_asking_which_account_is_hers_offers_the_accounts_and_ticks_nothing(
    chat: Chat,
) -> None:
    tried = chat.click(HANA, list_of(chat, HANA), "Done")
    assert [type(m.to) for m in tried] == [Reply]  # no admin hears of a choice never made
    assert lines(tried) == [
        "Not done yet: until the migration admins (dana@fabrikam.com, lee@fabrikam.com) record which account"
        " is yours, you cannot sign in. Once they have, this item becomes the one that has you sign in with"
        " it.",
        "Several accounts in the directory share your address hana@contoso.com. Which one do you sign in with"
        " every day? Press it and I tell the migration admins (dana@fabrikam.com, lee@fabrikam.com): only"
        " they can record it, and I tell you when they have.",
        f"• {HANA_GUEST} (a guest account: you sign in to it with your own address)",
        f"• {HANA_MEMBER}",
    ]
    (first, *_) = chat.runtime.service.todo_list(chat.person(HANA))
    assert (first.title, first.done_at) == ("Tell the admins which work account is yours", None)
    said = chat.click(HANA, tried, f"This one is mine: {HANA_MEMBER}")
    assert lines(said)[0].startswith("Thanks: I told the migration admins")
