"""A direct message that names the account its writer uses, from someone several directory accounts match:
"the one I use every day is hana.hart@fabrikam.com" answers the first item of their list (tell the admins
which account is yours), not a question for the FAQ.

It is read as `my-account ORG ACCOUNT` (the choice passed on to the admins, who decide) only when it names
exactly one of their accounts and nothing in it asks or denies: anything else stays a question.
"""

from __future__ import annotations

import re

from bot.conversation.commands import Command
from bot.conversation.todo_views import MY_ACCOUNT
from workflows.results import Actor
from workflows.service import MigrationService

ADDRESS = re.compile(r"[\w.+'#-]+@[\w-]+(?:\.[\w-]+)+")
"""A sign-in name as typed, a guest's `#EXT#` one included; a full stop after it ends the sentence."""
DENIED = re.compile(r"(?i)\b(?:not|no|never|don't|dont|doesn't|isn't|wrong|instead)\b")
"""Words that may turn the account named into the one that is not theirs: "not hana.hart@...", "I never
use...". Left to the FAQ and a human, rather than told to the admins as the opposite of what was meant."""


def chosen_account(text: str, service: MigrationService, actor: Actor) -> Command | None:
    """`my-account ORG ACCOUNT` when `text` names exactly one of the accounts that share `actor`'s address
    in a migration in progress, no admin having decided yet; None otherwise. Only a message with an address
    in it reads the migrations' plans."""
    named = {address.casefold() for address in ADDRESS.findall(text)}
    if not named or text.rstrip().endswith("?") or DENIED.search(text):
        return None
    for organization in service.organizations():
        person = service.awaiting_choice(organization, actor)
        if person is None:
            continue
        accounts = zip(person.candidates, person.candidate_names, strict=False)
        chosen = [account for account, name in accounts if name.casefold() in named]
        return Command(MY_ACCOUNT, (organization, chosen[0]), text) if len(chosen) == 1 else None
    return None
