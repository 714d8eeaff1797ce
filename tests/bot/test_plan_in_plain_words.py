"""The plan as an admin reads it (walk38): what happens to each person in words, not the plan's codes
("outcome: map"), and an approval prompt without groups of nobody ("(0)"). Over the console surface, with
the bundled scenario in the sandbox and a real database."""

from __future__ import annotations

from bot.conversation.messages import Table
from tests.bot.conftest import DANA, Chat, started
from tests.bot.test_decisions import lines

CODES = {"auto", "map", "invite", "disabled", "ambiguous", "to-accept", "no-access"}


def test_the_plan_says_what_happens_to_each_person_in_words(chat: Chat) -> None:
    started(chat)
    (plan,) = chat.say(DANA, "plan", in_dm=True)
    assert plan.message.summary == (
        "Plan for fabrikam-fiber: 5 keep access, 2 mapped by hand, 2 to invite, 1 with a disabled account,"
        " 1 to decide between accounts"
    )
    (table,) = [block for block in plan.message.blocks if isinstance(block, Table)]
    assert table.header == ("Azure DevOps user", "what happens", "directory account")
    happens = {row[0]: row[1] for row in table.rows}
    assert not CODES & set(happens.values())
    assert happens["carol.w@outlook.com"] == "keeps access, mapped by hand after connecting"


def test_the_approval_prompt_leaves_out_the_groups_of_nobody(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")  # the two to invite are invited: nobody is left who loses access unless invited
    prompt = [line for line in lines(chat.say(DANA, "request-approval")) if line.startswith("*")]
    assert prompt and not [line for line in prompt if "(0)" in line]
    assert not [line for line in prompt if line.startswith("*Will lose access unless invited*")]
