"""A direct message that names the account its writer uses, from someone several directory accounts match:
"the one I use every day is hana.hart@fabrikam.com" answers the first item of their list (tell the admins
which account is yours), not a question for the FAQ.

It is read as `my-account ORG ACCOUNT` (the choice passed on to the admins, who decide) only when the
sentence naming exactly one of their accounts claims it as the one they use, and nothing in the message
asks, denies, reports trouble or passes on someone else's word: "I can't sign in with hana.hart@...",
"hana.hart@... is locked, help", "Should I use hana.hart@...?" and "my colleague hana.hart@... said to ask
you" are the FAQ's, as they were before a message could be a choice.
"""

from __future__ import annotations

import re

from bot.conversation.commands import Command, straight_apostrophes
from bot.conversation.messages import ADDRESS
from bot.conversation.todo_item_views import MY_ACCOUNT
from workflows.results import Actor
from workflows.service import MigrationService

CLAIMED = re.compile(
    r"(?i)\b(?:I(?:'m| am)?(?: \w+)? (?:use|using|sign(?:ing)? ?in with|log(?:ging)? ?(?:in|on) with)"
    r"|the one I use|mine is|mine's|is mine|my account is|it's|it is|that's the one|is the one)\b"
)
"""A claim of use: "I use", "I always sign in with", "mine is", "it's", "the one I use ... is", "... is
mine"."""
NOT_A_CHOICE = re.compile(
    r"(?i)\b(?:not|no|never|don't|dont|doesn't|doesnt|isn't|isnt|wrong|instead"  # the other one is meant
    r"|can't|cant|cannot|can not|couldn't|won't|wont|unable|fails?|failed|failing|failure|locked|error"
    r"|denied|blocked|disabled|expired|unauthori[sz]ed|stuck|broken|problem|issue|help|password|prompt"
    r"|keeps|asking|what|how|why|which|whether|should|maybe|perhaps|think|guess|sure"  # trouble, doubt
    r"|said|says|told|tells|colleague|manager)\b"  # someone else's word about it
)
"""Words that make a message about an account something other than the writer's choice of it: the
opposite meant ("not hana.hart@..."), trouble with it ("I can't sign in with..."), a doubt or a question
without its "?", or someone else's say-so. Left to the FAQ and a human, rather than told to the admins as
a choice that was never made."""
SENTENCE_END = re.compile(r"(?<=[.!;])\s+|\n")
"""Where a sentence ends: a full stop inside an address is not followed by a space."""


def chosen_account(text: str, service: MigrationService, actor: Actor) -> Command | None:
    """`my-account ORG ACCOUNT` when `text` claims exactly one of the accounts that share `actor`'s
    address in a migration in progress, no admin having decided yet; None otherwise. Only a message with an
    address in it, and no question or trouble, reads the migrations' plans."""
    text = straight_apostrophes(text)
    named = {address.casefold() for address in ADDRESS.findall(text)}
    if not named or "?" in text or NOT_A_CHOICE.search(text):
        return None
    claimed = {
        address.casefold()
        for sentence in SENTENCE_END.split(text)
        if CLAIMED.search(ADDRESS.sub(" ", sentence))
        for address in ADDRESS.findall(sentence)
    }
    if not claimed:
        return None
    for organization in service.organizations():
        person = service.awaiting_choice(organization, actor)
        if person is None:
            continue
        accounts = zip(person.candidates, person.candidate_names, strict=False)
        chosen = [(account, name) for account, name in accounts if name.casefold() in named]
        if len(chosen) != 1 or chosen[0][1].casefold() not in claimed:
            return None
        return Command(MY_ACCOUNT, (organization, chosen[0][0]), text)
    return None
