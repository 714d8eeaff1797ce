"""Kim's second identity kim@fabrikam-old.com would share the directory account kim@fabrikam.com with her
MSA kim@fabrikam.com, and an admin decided the old one loses access before connecting (walk39): nobody is
told to map it by hand, and the news that it lost access never goes to the keeper of the account."""

from __future__ import annotations

from typing import Any

from bot.conversation.messages import Channel, DirectMessage, Outgoing
from sandbox import Sandbox
from tests.bot.conftest import DANA, LEE, ORG, Chat, started
from tests.bot.test_connected_outside_approval import said
from tests.bot.test_two_identities_one_account import NEW, OLD, second_kim
from tests.bot.test_unreached_given_an_account import fail, notices_to
from workflows.stages.list_messages import LOST_ACCESS_MESSAGE


def kim_left(chat: Chat, box: Sandbox, fabrikam: dict[str, Any]) -> None:
    """Started with both Kims, and the old one decided out of the account they would share."""
    second_kim(box, fabrikam)
    started(chat)
    chat.say(DANA, f"decide {ORG} {OLD} no-access")


def kim_left_then_connected(chat: Chat, box: Sandbox, fabrikam: dict[str, Any]) -> list[Outgoing]:
    """The old Kim decided out, everyone invited, approved and connected: what the watch announced."""
    kim_left(chat, box, fabrikam)
    chat.say(DANA, "recheck")
    chat.say(DANA, "invite")
    chat.click(LEE, chat.say(DANA, "request-approval"), "Approve")
    chat.portal_connect()
    return chat.runtime.conversation.watch()


def test_someone_left_without_the_shared_account_is_not_to_map_by_hand(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    told = [m for m in kim_left_then_connected(chat, box, fabrikam) if m.message.summary.startswith("🎉")]
    assert chat.state() == "connected"
    (in_channel,) = [m for m in told if isinstance(m.to, Channel)]
    assert "🔗 Map by hand now (1)" in said([in_channel])
    for private in (m for m in told if isinstance(m.to, DirectMessage)):
        assert "🔗 Map by hand now (1)" in said([private])
        assert "carol.w@outlook.com → carol@fabrikam.com" in said([private])
        assert OLD not in said([private])
    status = said(chat.say(DANA, "status"))  # as the notice counts them
    assert (
        "1 user keeps access, mapped by hand" in status
        and "1 user loses access, as an admin decided" in status
    )


def test_the_news_of_lost_access_never_goes_to_the_keeper_nor_counts_as_a_list(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    kim_left_then_connected(chat, box, fabrikam)
    sent = chat.say(DANA, "notify")
    to_keeper = [m.message.summary for m in sent if m.to == DirectMessage(NEW)]
    assert to_keeper == [f"Your to-do list for {ORG}"]
    (lost,) = notices_to(chat, OLD, LOST_ACCESS_MESSAGE)
    assert NEW not in (lost.recipient, *lost.payload["also"]) and lost.payload["directory_id"] is None
    assert "lose access" not in said(chat.say(NEW, "todo", in_dm=True))

    # no chat identity of her own: the admins hear she is out of reach, and her notice is no to-do list
    fail(chat, [lost], f"no Slack account with the email {OLD}")
    report = said(chat.say(DANA, "progress"))
    assert "To-do lists: 11 sent." in report  # not 12: hers is no list
    assert f"{OLD} lose access (decided by Dana) not yet not in chat" in report  # not "kim@fabrikam.com (was"
    assert "1 person cannot be reached in chat (the reason says why); reach them another way" in report


def test_before_the_lists_she_is_not_told_to_wait_for_a_mapping_to_the_keepers_account(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    kim_left(chat, box, fabrikam)
    for question in (
        "which account do I sign in with after the move?",
        "do my personal access tokens keep working?",
    ):
        answer = said(chat.say(OLD, question, in_dm=True))
        assert f"You no longer have access to {ORG}" in answer
        assert NEW not in answer and "mapped by hand" not in answer
