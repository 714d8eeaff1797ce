"""Kim with two Azure DevOps identities, kim@fabrikam-old.com and an MSA kim@fabrikam.com, which the plan
would both give the directory account kim@fabrikam.com (walk33 finding 2): the plan says so, blocks the
request, and an admin's `decide` settles which one keeps it."""

from __future__ import annotations

import copy
from typing import Any

from bot.conversation.messages import DirectMessage, Outgoing
from bot.conversation.plan_views import OUTCOME_WORDS
from sandbox import Sandbox, parse_scenario
from tests.bot.conftest import DANA, LEE, ORG, Chat, started, text_of
from tests.bot.test_closing import in_a_week
from tests.bot.test_decisions import lines, rows

OLD, NEW = "kim@fabrikam-old.com", "kim@fabrikam.com"


def second_kim(box: Sandbox, fabrikam: dict[str, Any]) -> None:
    """Kim also signed up to the organization with an MSA on her work address."""
    old = next(each for each in fabrikam["user_entitlements"] if each["user"]["principalName"] == OLD)
    new = copy.deepcopy(old)
    new["id"] = "11111111-2222-4333-8444-555555555555"
    new["user"] |= {"principalName": NEW, "mailAddress": NEW, "originId": "abcde", "descriptor": "msa.abcde"}
    fabrikam["user_entitlements"].append(new)
    box.reset(parse_scenario(fabrikam))


def test_two_identities_onto_one_account_fail_the_plan_until_an_admin_decides(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    second_kim(box, fabrikam)
    started(chat)
    said = chat.say(DANA, "plan")
    shown = lines(said)
    # the channel's check counts them; Dana's direct message names them (walk39 c)
    in_channel, to_dana = ([line for line in lines([m]) if "shared-directory-account" in line] for m in said)
    assert said[1].to == DirectMessage(DANA)
    assert in_channel[0].startswith("❌ *shared-directory-account*: 2 users would get one directory account")
    assert OLD not in in_channel[0] and NEW not in in_channel[0]
    assert to_dana[0].startswith("❌"), shown
    assert f"{OLD} and {NEW} → {NEW}" in to_dana[0]
    assert f"`decide {ORG} {OLD} no-access`" in to_dana[0]
    assert "Every principal name is distinct." in "\n".join(shown)  # the other check is no help here

    refused = lines(chat.say(DANA, f"decide {ORG} {NEW} no-access"))
    assert refused[0].startswith(f"{NEW} signs in as {NEW}: Connect gives it to them whatever is decided.")
    wrong = lines(chat.say(DANA, f"decide {ORG} {OLD} {NEW}"))
    assert wrong[0].startswith(f"{OLD} and {NEW} would both get {NEW}, which only one can")

    chat.say(DANA, f"decide {ORG} {OLD} no-access")
    chat.say(DANA, "recheck")
    plan = chat.say(DANA, "plan")
    assert (OLD, OUTCOME_WORDS["no-access"][1], "none: Dana decided they lose access") in rows(plan)
    assert (NEW, OUTCOME_WORDS["auto"][1], NEW) in rows(plan)
    assert "✅ *shared-directory-account*: No directory account is the target of two users." in lines(plan)


def notices_to(outgoing: list[Outgoing]) -> list[tuple[str, str]]:
    """Each advance notice sent: to whom, and what it says of their identity."""
    return [
        (message.to.email, text_of([message]))
        for message in outgoing
        if isinstance(message.to, DirectMessage) and message.message.summary.startswith("Coming ")
    ]


def test_announce_holds_back_both_identities_until_an_admin_decides_then_tells_the_keeper_once(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    """walk34 finding 2: with the check failing, `announce` told Kim twice, once that her tokens keep working
    and once that an admin maps her by hand, the mapping the check says fails; `todo` then said nothing."""
    second_kim(box, fabrikam)
    started(chat)
    when = in_a_week()
    announced = chat.say(DANA, f"announce {ORG} {when}")
    sent = notices_to(announced)
    assert len(sent) == 9  # 12 people: not Gus, who left, nor either Kim
    assert not [text for _, text in sent if "kim" in text.casefold()]
    channel, named = (" ".join(lines([message])) for message in announced[:2])
    assert channel.endswith(
        " Not told: 1 user whose only directory account is disabled and 2 users who would share one directory"
        " account. 📬 Who, and what to do, I send to you alone, in a message only you see."
    )
    assert "kim" not in channel.casefold() and "gus" not in channel.casefold()
    assert named.startswith("Not told: gus@fabrikam.com, whose only directory account is disabled")
    assert (
        f"Not told yet: {OLD}, {NEW} → {NEW}. Several people would get one directory account, which only one"
        " can keep, so what I would tell each of them depends on your decision."
        f" Decide which one keeps it; for each other one, `decide {ORG} {OLD} no-access`"
    ) in named

    for kim in (OLD, NEW):
        (waiting,) = lines(chat.say(kim, "todo", in_dm=True))
        assert waiting == (
            f"Before {ORG} moves, the migration admins ({DANA}, {LEE}) must settle one thing about your"
            f" account: another Azure DevOps identity in {ORG} would get the same directory account, {NEW},"
            " and only one can keep it. Until they have, there is nothing for you to do and I cannot yet tell"
            " you what the move means for you; I tell you once they have decided. If both identities are"
            " yours, tell them which one you use every day."
        )

    decided = chat.say(DANA, f"decide {ORG} {OLD} no-access")
    (told,) = notices_to(decided)  # the keeper, at once; the other hears at `notify` that they lose access
    assert told[0] == NEW
    assert "After the change you sign in as kim@fabrikam.com." in told[1]
    assert "your personal access tokens keep working" in told[1]
    assert "mapped by hand" not in told[1]
    assert notices_to(chat.say(DANA, f"announce {ORG} {when}")) == []  # nobody twice
