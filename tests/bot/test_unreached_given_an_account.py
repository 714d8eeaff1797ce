"""Someone the advance notice never reached, then given a reachable account by an admin's `decide` (walk 33,
finding 9): the notice goes to that account then, once, and she stays on the admins' "could not reach" list
until something reached her."""

from __future__ import annotations

import re

from sqlmodel import col, select

from bot.conversation.messages import DirectMessage
from storage import OutboundMessage
from storage.outbox import NOT_IN_CHAT
from tests.bot.announced_days import A_FRIDAY
from tests.bot.conftest import ORG, Chat, started
from tests.bot.test_telling_users_first import bullets, said

DANA, LEE = "dana@fabrikam.com", "lee@fabrikam.com"
HANA, HANA_MEMBER, HANA_GUEST = (
    "hana@contoso.com",
    "hana.hart@fabrikam.com",
    "hana_contoso.com#EXT#@fabrikam.onmicrosoft.com",
)


def notices_to(chat: Chat, address: str, kind: str = "advance_notice") -> list[OutboundMessage]:
    """The messages of `kind` queued for `address`, oldest first."""
    with chat.runtime.database.session() as session:
        return list(
            session.exec(
                select(OutboundMessage)
                .where(OutboundMessage.kind == kind, OutboundMessage.recipient == address)
                .order_by(col(OutboundMessage.id))
            ).all()
        )


def fail(chat: Chat, notices: list[OutboundMessage], why: str) -> None:
    with chat.runtime.database.session() as session:
        for each in notices:
            notice = session.get(OutboundMessage, each.id)
            assert notice is not None
            notice.status, notice.error_code, notice.last_error = "failed", NOT_IN_CHAT, why
            session.add(notice)
        session.commit()


def unreached_in_prompt(chat: Chat) -> list[str]:
    requested = chat.say(DANA, "request-approval anyway")
    prompt = [m for m in requested if isinstance(m.to, DirectMessage) and m.to.email == LEE]
    return [line.split(" ")[1] for line in bullets(prompt)]


def missed_then_given_her_member_account(chat: Chat, *, tried_her_accounts: bool = False) -> None:
    """Announced; the notice to Hana's own address reached no chat account; then decided for her. Unless
    `tried_her_accounts`, the notice is one queued before notices were looked for at each of her candidate
    accounts too (walk37 finding 9): her own addresses only."""
    started(chat)
    chat.say(DANA, "invite")
    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    notices = notices_to(chat, HANA)
    if not tried_her_accounts:
        with chat.runtime.database.session() as session:
            for each in notices:
                notice = session.get(OutboundMessage, each.id)
                assert notice is not None and HANA_MEMBER in notice.payload["also"]
                notice.payload = {**notice.payload, "also": []}
            session.commit()
    fail(chat, notices, f"no Slack account with the email {HANA}")
    chat.say(DANA, f"decide {ORG} {HANA} {HANA_MEMBER}")


def test_a_decision_giving_an_unreached_person_an_account_sends_her_the_notice_there_once(chat: Chat) -> None:
    missed_then_given_her_member_account(chat)
    caught_up = notices_to(chat, HANA_MEMBER)
    assert len(caught_up) == 1, caught_up
    assert re.fullmatch(f"{A_FRIDAY} 14:00 UTC", caught_up[0].payload["when"]), caught_up[0].payload["when"]
    assert any(HANA_MEMBER in line for line in caught_up[0].payload["lines"]), caught_up[0].payload["lines"]
    chat.say(DANA, f"decide {ORG} {HANA} {HANA_GUEST}")
    chat.say(DANA, f"decide {ORG} {HANA} {HANA_MEMBER}")
    assert len(notices_to(chat, HANA_MEMBER)) == 1  # exactly once
    assert [notice.status for notice in notices_to(chat, HANA_MEMBER)] == ["sent"]
    assert "10 of 10 people reached" in said(chat.say(DANA, "status"))  # not Gus, who left
    assert HANA not in unreached_in_prompt(chat)


def test_a_decision_naming_an_account_the_notice_already_tried_sends_it_no_second_time(chat: Chat) -> None:
    missed_then_given_her_member_account(chat, tried_her_accounts=True)
    assert notices_to(chat, HANA_MEMBER) == []
    assert HANA in unreached_in_prompt(chat)


def test_she_stays_on_the_could_not_reach_list_until_something_reached_her(chat: Chat) -> None:
    missed_then_given_her_member_account(chat)
    fail(chat, notices_to(chat, HANA_MEMBER), "the app is not installed for them")
    assert HANA in unreached_in_prompt(chat)
