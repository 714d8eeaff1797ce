"""Once an admin decides which account is Hana's, every admin's card offering a button per account says who
decided what, without its buttons, and a press on a copy from before the decision is refused, saying how to
change it on purpose (walk37 2: Lee's stale press overwrote Dana's decision, and nobody was told). Over the
console surface, with the bundled scenario in the sandbox and a real database."""

from __future__ import annotations

from bot.conversation.messages import DirectMessage, Outgoing, Reply
from tests.bot.conftest import LEE, ORG, Chat
from tests.bot.test_choosing_own_account import DANA, IN_HER_WORDS, hanas_list, to_each_admin
from tests.bot.test_decisions import HANA, HANA_GUEST, HANA_MEMBER, lines


def settled_to(outgoing: list[Outgoing], admin: str) -> Outgoing:
    (settled,) = [m for m in outgoing if isinstance(m.to, DirectMessage) and admin in m.to.addresses]
    return settled


def test_a_decision_updates_every_admins_card_and_a_press_on_a_stale_copy_is_refused(chat: Chat) -> None:
    hanas_list(chat)
    cards = to_each_admin(chat.say(HANA, IN_HER_WORDS, in_dm=True))
    assert cards[DANA].updates is not None and cards[LEE].updates is not None

    decided = chat.click(DANA, [cards[DANA]], f"{HANA_MEMBER} is theirs")
    settled = (
        f"Hana ({HANA}): Dana decided that {HANA_MEMBER} is their account. They said so themselves. To change"
        f" it, type `decide {ORG} {HANA} ACCOUNT` (or `no-access`)."
    )
    for admin in (DANA, LEE):
        update = settled_to(decided, admin)
        assert update.updates == cards[admin].updates  # the very card, brought up to date
        assert lines([update]) == [settled]
        assert update.message.buttons == ()

    stale = chat.click(LEE, [cards[LEE]], f"{HANA_GUEST} is theirs")
    assert [type(m.to) for m in stale] == [Reply]
    assert lines(stale) == [
        f"Dana already decided that {HANA_MEMBER} is {HANA}'s account. This button is from before that, so I"
        f" changed nothing. To change it, type `decide {ORG} {HANA} ACCOUNT` (or `no-access`)."
    ]
    hana = next(user for user in chat.runtime.service.plan(ORG).users if user.principal_name == HANA)
    assert hana.match is not None and hana.match.user_principal_name == HANA_MEMBER

    typed = chat.say(LEE, f"decide {ORG} {HANA} {HANA_GUEST}")  # on purpose: it changes
    assert lines(typed)[0].startswith(f"Recorded: {HANA}'s directory account is {HANA_GUEST}")
    assert lines([settled_to(typed, DANA)]) == [
        f"Hana ({HANA}): Lee decided that {HANA_GUEST} is their account. They had said {HANA_MEMBER} is"
        f" theirs. To change it, type `decide {ORG} {HANA} ACCOUNT` (or `no-access`)."
    ]
