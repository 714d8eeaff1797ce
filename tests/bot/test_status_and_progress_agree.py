"""`status` and `progress` count the people done the same way (walk38): `status` said "1 of 10 people
done" while `progress` said "1 of 8 (2 more are not in chat)". Over the console surface, with the bundled
scenario in the sandbox and a real database."""

from __future__ import annotations

from sqlmodel import select

from storage import OutboundMessage
from storage.outbox import NOT_IN_CHAT
from tests.bot.conftest import DANA, Chat, notified
from tests.bot.test_decisions import lines

ANN = "ann@fabrikam.com"


def test_status_counts_the_people_done_as_progress_does(chat: Chat) -> None:
    notified(chat)
    with chat.runtime.database.session() as session:  # Ann's list found no chat account to reach her
        (ann_list,) = session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.kind == "todo_list")
            .where(OutboundMessage.recipient == ANN)
        ).all()
        ann_list.status, ann_list.error_code = "failed", NOT_IN_CHAT
        ann_list.last_error = f"Slack: no Slack account with the email {ANN}"
        session.commit()
    done = "0 of 10 people done (1 more is not in chat and cannot tick items)"
    (counted,) = [line for line in lines(chat.say(DANA, "status", in_dm=True)) if "To-do lists" in line]
    assert counted.startswith(f"To-do lists: {done}, 0 of ")
    assert done in " ".join(lines(chat.say(DANA, "progress", in_dm=True)))
