"""Choosing for the person asking, when the bot knows them: someone inside a migration who is not one of its
admins is offered the topic written for the people being moved before an admins' topic that is barely
closer, and "I can't sign in anymore" from them is their own case at the migration's stage: a lock-out once
the organization is connected, maybe the switch while it connects, not the move before.

Neither changes the ranking of a question without an asker, which is what the evaluation scores
(docs/faq-eval.md, "asker-aware ranking")."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from faq._calibration import LONG_FROM
from faq._compose import AskerContext, phase_of
from faq._index import Ranking
from faq._knowledge import ADMINS, PEOPLE, Topic
from faq._reading import ERROR_CODE

CHECKLIST = "after-switch-checklist"
"""The people's topic listing what to do once the organization is connected ("sign in with your work
account"): until then it does not apply, however many words it shares with "it won't let me log in"."""
LOCKED_OUT = "owner-locked-out"
"""The contract's topic for losing access right after connecting (the owner, an admin or users) and
getting back in: its notes say what applies to each outcome."""

# "I can't sign in anymore", "we are locked out", "it won't let me log in": the asker (not Git, not Visual
# Studio) cannot get in. What follows the verb, if it names a place, must be Azure DevOps.
_CANNOT_SIGN_IN = re.compile(
    r"(?i)\b(?:(?:i|we)(?:'m| am|'re| are)?(?: still)?"
    r" (?:can'?t|can ?not|couldn'?t|could not|(?:am |are )?unable to"
    r"|(?:am |are |'m |'re )?(?:not|no longer) able to|can no longer|no longer)(?: even)?"
    r" (?:(?:sign|log)[- ]?(?:in|on)|login|get (?:back )?in(?:to)?\b|access)"
    r"|(?:i|we)(?:'m| am|'re| are) locked out"
    r"|(?:won'?t|doesn'?t|does not|will not) let (?:me|us) (?:sign|log)[- ]?in"
    r"|(?:i|we) (?:have )?lost (?:my |our )?access)"
)
_PLACE = re.compile(r"(?i)^\s*(?:to|into|in to|on|at|onto)\s+(?:the |my |our )?([\w.-]+(?:\s+[\w.-]+)?)")
_AZURE_DEVOPS_PLACE = re.compile(
    r"(?i)^(?:azure devops|devops|ado|vsts|dev\.azure\.com\S*|\w+\.visualstudio\.com|org\w*|it"
    r"|(?:the )?projects?|repos(?:itor(?:y|ies))?|boards?)\b"
)

# Devices and other applications people sign in to: a message naming one is about that, not the organization.
# Git, Visual Studio and the other clients of Azure DevOps sign in their own way, which their topics answer.
_ELSEWHERE = re.compile(
    r"(?i)\b(?:laptop|computer|pc|desktop|windows|mac(?:book)?|phone|vm|virtual machine|server|mailbox"
    r"|outlook|teams|slack|wi-?fi|vpn|office|portal\.azure\.com|azure portal|jira|github"
    r"|git|ssh|visual studio|vs(?: ?code|\d{4})?|az login|cli|nuget|npm|maven|gradle|tf\.exe"
    r"|rider|intellij|eclipse|xcode)\b"
)


_INVITATION = re.compile(r"(?i)\binvit(?:e|ation)s?\b")


def own_invitation_trouble(question: str, context: AskerContext) -> bool:
    """Whether an invitee says their invitation will not let them in ("I can't accept the invitation, it
    won't let me sign in"): where their invitation stands answers it, not their sign-in. Not over an error
    code, which its topic documents."""
    return (
        context.invitation is not None
        and _INVITATION.search(question) is not None
        and cannot_sign_in(question)
        and ERROR_CODE.search(question) is None
    )


# "my pipeline fails with TF400813 now", "our release script gets 401": something that runs unattended,
# refused for its token. After the move that is the token the asker made, which their case decides. Any other
# failure ("fails with npm error", "agent offline") is not a token's, and stays the ranking's.
_AUTOMATION = re.compile(
    r"(?i)\b(?:pipelines?|builds?|releases?|scripts?|automations?|service connections?|variable groups?"
    r"|rest api|api calls?|agents?|cron jobs?|jobs?)\b"
)
_TOKEN_REFUSED = re.compile(
    r"(?i)\b(?:TF400813|401|(?:un|not )authori[sz]ed|authentication failed"
    r"|(?:tokens?|pats?)(?: has| have| is| are)? (?:expired|invalid|revoked|(?:stopped|no longer) work\w*))\b"
)


def names_automation(question: str) -> bool:
    """Whether the message is about something run unattended (a pipeline, a script): a code it quotes is its
    token's or service connection's, not the person's sign-in a topic documents the code for."""
    return _AUTOMATION.search(question) is not None


TOKEN_CODE = "TF400813"
"""The code Azure DevOps gives a token it no longer accepts (the owner-locked-out topic documents it for a
person; for a pipeline it is the token). Any other code says which other situation it is."""
REGENERATE_PAT = "regenerate-pat"
SERVICE_CONNECTIONS = "service-connections"


def own_automation_trouble(
    question: str, ranking: Ranking, context: AskerContext, topics: Mapping[str, Topic]
) -> str | None:
    """The topic for "my pipeline is refused its token now" from someone whose case says whether their tokens
    still work (`AskerContext.renew_tokens`), once the organization is connected: new tokens for whoever's
    old ones stopped working (procedure: "regenerate new tokens for the Azure AD users who need to be
    mapped"), the pipeline's own connections for whoever's keep working. Only in a short message that says
    the token was refused (`_TOKEN_REFUSED`), quotes no other code (AADSTS50020, VS30063: their topics) and
    is no sign-in complaint (the lock-out answers it); None otherwise."""
    if (
        context.renew_tokens is None
        or not context.tokens_why
        or phase_of(context.stage) != "after"
        or ranking.length >= LONG_FROM
        or not _AUTOMATION.search(question)
        or not _TOKEN_REFUSED.search(question)
        or any(code.upper() != TOKEN_CODE for code in ERROR_CODE.findall(question))
        or cannot_sign_in(question)
    ):
        return None
    topic = REGENERATE_PAT if context.renew_tokens else SERVICE_CONNECTIONS
    return topic if topic in topics else None


# Azure DevOps refusing the asker, in the words of its errors or theirs: "git push fails with 401",
# "TF400813", "access denied", "I can't see the organization any more". Which client refused does not
# matter here: a blocked first item of their list refuses them everywhere.
_REFUSED = re.compile(
    r"(?i)\b(?:TF400813|TF401444|VS30063|AADSTS(?:50020|50034|50057|90072)|401|403"
    r"|(?:un|not )authori[sz]ed|forbidden|access (?:is )?denied|authentication failed|permission denied"
    r"|(?:can'?t|cannot|can not|don'?t|do not|no longer) see (?:the |our |my |any )?"
    r"(?:org\w*|organi[sz]ations?|projects?|repos(?:itor(?:y|ies))?|boards?)"
    r"|(?:don'?t|do not|no longer) have access)\b"
)
# "my account is disabled", "AADSTS50057" (Entra's "The user account is disabled").
_OWN_ACCOUNT_DISABLED = re.compile(
    r"(?i)\b(?:my|our)\s+(?:(?:work|directory|entra|azure\s+ad|aad|user|company|new)\s+)?account"
    r"(?:\s+(?:is|was|has\s+been|got|seems|seems\s+to\s+be|appears\s+to\s+be|shows\s+(?:as\s+)?))?"
    r"\s+(?:disabled|blocked|deactivated)\b|\bAADSTS50057\b"
)
# What says the refusal is Azure DevOps' own: its codes, or a refusal naming it, its web address or what
# lives in it ("git push gets 403", "the board says 401"). A 401 from anything else (a setup tool, SonarQube,
# GitHub) is not their list's doing.
_DEVOPS_CODE = re.compile(r"(?i)\b(?:TF400813|TF401444|VS30063)\b")
_DEVOPS_NAMED = re.compile(
    r"(?i)\b(?:azure devops|devops|ado|vsts|dev\.azure\.com|\w+\.visualstudio\.com"
    r"|git (?:push|pull|clone|fetch)|repos?(?:itor(?:y|ies))?|pipelines?|boards?|work items?|projects?"
    r"|org(?:ani[sz]ation)?s?)\b"
)


# The clients that reach Azure DevOps for the asker, in their words ("git keeps asking for my password",
# "my npm feed returns 401"): a refusal naming one is Azure DevOps', as one naming `_DEVOPS_NAMED` is.
_ITS_CLIENTS = re.compile(r"(?i)\b(?:git|feeds?)\b")


def refused(question: str) -> bool:
    """Whether the asker says Azure DevOps refuses them: its codes, an error of refusal naming it or a client
    of it, or they cannot sign in. "The Jira integration says unauthorized" is not its doing."""
    names_it = _DEVOPS_NAMED.search(question) or _ITS_CLIENTS.search(question)
    return bool(
        _DEVOPS_CODE.search(question) or (_REFUSED.search(question) and names_it) or cannot_sign_in(question)
    )


# A package feed is Azure DevOps' own (Azure Artifacts), whichever client reads it: "my npm feed returns 401".
_FEED = re.compile(r"(?i)\b(?:(?:package |artifacts? )?feeds?|azure artifacts)\b")


def refused_in_short(question: str, ranking: Ranking) -> bool:
    """Whether a short message that names no device or other application says Azure DevOps refuses the
    asker (its codes, a refusal naming it or its feeds, or "I can't sign in"): about the asker's own access,
    as in `own_sign_in_trouble`. A client named with the feed it reads (npm, NuGet) is not another
    application. A long story, or one about Jira, names its own subject, as the public threads quoting 401s
    do."""
    feed = _FEED.search(question)
    if ranking.length >= LONG_FROM or (_ELSEWHERE.search(question) and not feed):
        return False
    return bool(
        _DEVOPS_CODE.search(question)
        or cannot_sign_in(question)
        or (_REFUSED.search(question) and (_DEVOPS_NAMED.search(question) or feed))
    )


def says_own_account_disabled(question: str, context: AskerContext) -> bool:
    """Whether someone whose directory account the plan found disabled says so ("my account is disabled,
    what do I do?"): their own case answers it, not the topics' words."""
    return context.outcome == "disabled" and _OWN_ACCOUNT_DISABLED.search(question) is not None


def cannot_sign_in(question: str) -> bool:
    """Whether the asker says they cannot sign in, to Azure DevOps or to nothing named ("... to Jira": no)."""
    for match in _CANNOT_SIGN_IN.finditer(question):
        place = _PLACE.match(question[match.end() :])
        if place is None or _AZURE_DEVOPS_PLACE.match(place.group(1)):
            return True
    return False


def own_sign_in_trouble(
    question: str, ranking: Ranking, context: AskerContext, topics: Mapping[str, Topic], *, answered: bool
) -> str | None:
    """The migration's phase (before, connecting, after) when someone in it says they cannot sign in: their
    own case, unless a topic for the people being moved (Git, the account picker; the `CHECKLIST` once
    connected) is `answered` and says which trouble it is. So is Azure DevOps' own refusal by its code
    (`refused_by_its_code`): what the topics' words make of "VS30063: You are not authorized to access
    https://dev.azure.com" (Git's credentials) is a guess, the asker's stage is not (walk37, 6 and 7).
    Only in a short message that names no device or other application ("I forgot my laptop password and I'm
    locked out"): a long story names its own subject, as the public threads quoting "cannot log in" do. None
    otherwise, and outside a migration."""
    phase = phase_of(context.stage)
    if (
        context.migration is None
        or phase is None
        or LOCKED_OUT not in topics
        or ranking.length >= LONG_FROM
        or _ELSEWHERE.search(question)
    ):
        return None
    if refused_by_its_code(question):
        return phase
    if (answered and _names_the_trouble(topics[ranking.topics[0].topic_id], phase, context)) or not (
        cannot_sign_in(question)
    ):
        return None
    return phase


_SIGN_IN_CODES = frozenset({"TF400813", "VS30063"})
"""Azure DevOps refusing a person in the browser ("The user is not authorized to access this resource", "You
are not authorized to access https://dev.azure.com"); the tutorial's sign-in step and its FAQ answer them."""


def refused_by_its_code(question: str) -> bool:
    """Whether the message quotes Azure DevOps refusing the asker's sign-in by its code, and no other code,
    nothing run unattended (a pipeline's TF400813 is its token's: `own_automation_trouble`) and no token or
    password given to a tool (a script's VS30063 is its credential's)."""
    codes = {code.upper() for code in ERROR_CODE.findall(question)}
    return (
        bool(codes)
        and codes <= _SIGN_IN_CODES
        and _AUTOMATION.search(question) is None
        and _CREDENTIAL.search(question) is None
    )


_CREDENTIAL = re.compile(
    r"(?i)\b(?:tokens?|pats?|personal access tokens?|credentials?|passwords?|powershell|install-\w+|curl)\b"
)


def _names_the_trouble(topic: Topic, phase: str, context: AskerContext) -> bool:
    """Whether an answered topic says which sign-in trouble it is: one for the people being moved, and the
    `CHECKLIST` only once connected, for someone the plan names."""
    return topic.audience == PEOPLE and (
        topic.id != CHECKLIST or (phase == "after" and not context.off_the_plan)
    )


def own_topic(
    ranking: Ranking,
    topics: Mapping[str, Topic],
    context: AskerContext,
    close: float,
    known_share: Callable[[str], float],
) -> str | None:
    """The topic for the people being moved to offer first instead of the best one, an admins' topic: for an
    asker in the migration who is not one of its admins, when the question is short (a long story names its
    own subject), the people's topic scores at least `close` of the best and knows at least as large a
    share of the question's words (`known_share` of a topic id): the admins' topic leads on how the words
    are spelled and spread, not on which of them it knows."""
    if context.migration is None or context.is_admin or not ranking.topics or ranking.length >= LONG_FROM:
        return None
    best = ranking.topics[0].topic_id
    if topics[best].audience != ADMINS:
        return None
    for item in ranking.topics[1:]:
        if item.score < close * ranking.top or item.score <= 0:
            return None
        if topics[item.topic_id].audience == PEOPLE:
            return item.topic_id if known_share(item.topic_id) >= known_share(best) else None
    return None


def first(ranking: Ranking, topic_id: str) -> Ranking:
    """The ranking with `topic_id` moved to the front (the others keep their order and scores)."""
    chosen = [item for item in ranking.topics if item.topic_id == topic_id]
    rest = [item for item in ranking.topics if item.topic_id != topic_id]
    return replace(ranking, topics=chosen + rest)
