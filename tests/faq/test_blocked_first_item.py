"""Someone whose to-do list opens with what only others can unblock (an invitation not accepted yet, a
disabled directory account, the admins' choice between accounts) and who says Azure DevOps refuses them
hears that first item as the likely cause, before what the topic says; "my account is disabled" is answered
from their own case (walk31 findings 3 and 4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from faq import AskerContext, FaqAnswerer
from faq._sign_in import CHOOSE_ITEM, ENABLE_ITEM
from tests.faq.test_sign_in_case import INVITATION
from workflows.directory import Tenant
from workflows.plan import Match, PlannedUser
from workflows.todo import todo_items

CONNECTED = AskerContext(
    stage="users_notified",
    organization="fabrikam-fiber",
    case="first",
    migration="fabrikam-fiber",
    admins=("dana@fabrikam.com", "lee@fabrikam.com"),
)
REDEEM = "https://login.microsoftonline.com/redeem?rd=Ab3dEfGh12IjKlMn"
PENDING = INVITATION  # sent on 27 November 2026 to erin.eng@gmail.com, not accepted yet
# As the bot passes her in a direct message: her own link with it. In a channel the link is left out.
ERIN = replace(
    CONNECTED,
    outcome="invite",
    guest=True,
    signs_in_as="erin.eng@gmail.com",
    invitation=replace(PENDING, redeem_url=REDEEM),
    renew_tokens=False,
    tokens_why="you join as a guest with your own address erin.eng@gmail.com, so your identity carries over",
)
GUS = replace(CONNECTED, outcome="disabled", signs_in_as="gus@fabrikam.com")
HANA = replace(CONNECTED, outcome="ambiguous", signs_in_as="hana@contoso.com")
MAPPED = replace(CONNECTED, outcome="map")
FAKE_PAT = "u5yvdw3kqzl7ge2xj4mrsb6tnoahcfpiu5yvdw3kqzl7ge2xj4mr"
# walk31's Erin, verbatim but for the token.
ERINS_QUESTION = (
    f"after the switch my git push fails with 401, I use the token {FAKE_PAT} in my remote url"
    f" https://erin:{FAKE_PAT}@dev.azure.com/fabrikam-fiber/_git/web - do I need a new one?"
)
INVITATION_FIRST = (
    "First, the likely cause: your invitation to Fabrikam, sent on 27 November 2026 at 15:04 UTC to"
    " erin.eng@gmail.com, is not accepted yet, and until it is Azure DevOps refuses you, whatever you sign in"
    " with."
)
DISABLED_FIRST = "First, the likely cause: your account in the directory is disabled"
AMBIGUOUS_FIRST = "First, the likely cause: several directory accounts match your address"
# Refused, in the words people use: each is answered by a topic today. "my npm feed returns 401" was too until
# round 26's refit, which spent round 25's package-feed 401 threads (out of scope): declined by its words
# since, it is their lock-out (below): a feed is Azure DevOps' own, whichever client reads it (round 27).
REFUSED = (
    "git push fails with 401",
    "git keeps asking for my password and then says authentication failed",
    "git clone gives 403",
    "my pipeline fails with 401 now",
)


def test_erins_401_says_her_invitation_first_then_the_pat_part(answerer: FaqAnswerer) -> None:
    answer = answerer.answer(ERINS_QUESTION, ERIN)
    assert answer.topic == "regenerate-pat", answer
    lines = answer.answer.splitlines()
    assert lines[1].startswith(INVITATION_FIRST), lines[1]
    assert f"Your own link to accept it is {REDEEM}" in lines[1]  # a direct message: her own link
    assert lines[2].startswith("No need: you join as a guest"), lines[2]  # then what she asked


def test_in_a_channel_her_list_says_how_and_her_link_is_not_shown(answerer: FaqAnswerer) -> None:
    answer = answerer.answer(ERINS_QUESTION, replace(ERIN, invitation=PENDING)).answer
    assert INVITATION_FIRST in answer and "redeem" not in answer
    assert (
        "*Accept the invitation* on your to-do list says how, or without the email: open"
        " https://myapps.microsoft.com/?tenantid=3c0a7f5e-8d2b-4f61-9a7c-5e4b2d1f0a11" in answer
    )


def test_an_invitation_not_sent_yet_is_the_cause_too(answerer: FaqAnswerer) -> None:
    unsent = replace(ERIN, invitation=replace(PENDING, sent=False, sent_at=None))
    answer = answerer.answer(ERINS_QUESTION, unsent).answer
    assert answer.splitlines()[1] == (
        "First, the likely cause: your invitation to Fabrikam has not been sent yet, and until you have"
        " accepted it Azure DevOps refuses you, whatever you sign in with. Press *Ask an admin* and the"
        " admins send it (`invite`)."
    )


def test_an_invitation_whose_answer_was_lost_may_have_gone_out_and_the_admins_are_checking(
    answerer: FaqAnswerer,
) -> None:
    """Not "not sent yet": Microsoft may have sent it (a 504 after inviting her), so she looks for it."""
    asked = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    lost = replace(
        PENDING,
        sent=False,
        sent_at=None,
        unconfirmed=True,
        unconfirmed_at=asked,
        checked_from=asked + timedelta(minutes=10),
    )
    answer = answerer.answer(ERINS_QUESTION, replace(ERIN, invitation=lost)).answer
    assert answer.splitlines()[1] == (
        "First, the likely cause: until you have accepted your invitation to Fabrikam, Azure DevOps refuses"
        " you, whatever you sign in with. Yours may have gone out to erin.eng@gmail.com on 30 November 2026"
        " at 10:00 UTC: Microsoft did not confirm it, and the admins are checking. Look in that mailbox for"
        ' mail from "Microsoft Invitations on behalf of" the company, subject "... invited you to collaborate'
        " with ...\", in junk or spam too, and accept it. If none went out, the admins' next `invite` sends"
        " it."
    )


@pytest.mark.parametrize(
    "asker",
    [
        replace(ERIN, invitation=replace(PENDING, accepted=True, verified=True)),  # nothing blocks her
        replace(ERIN, stage="planned"),  # before connecting, the invitation refuses nothing yet
        MAPPED,
    ],
)
def test_nobody_else_hears_it(answerer: FaqAnswerer, asker: AskerContext) -> None:
    for question in (ERINS_QUESTION, *REFUSED):
        assert "the likely cause" not in answerer.answer(question, asker).answer, question


@pytest.mark.parametrize(
    ("asker", "first"), [(ERIN, INVITATION_FIRST), (GUS, DISABLED_FIRST), (HANA, AMBIGUOUS_FIRST)]
)
def test_every_refusal_from_a_blocked_asker_starts_with_the_blocked_item(
    answerer: FaqAnswerer, asker: AskerContext, first: str
) -> None:
    for question in REFUSED:
        answer = answerer.answer(question, asker)
        assert answer.answer.splitlines()[1].startswith(first), (question, answer.answer)
    # Not refused: what they asked, without it.
    assert "the likely cause" not in answerer.answer("do I need a new PAT?", asker).answer


@pytest.mark.parametrize(
    "question",
    [
        "the Jira integration says unauthorized",  # rev44: another application's refusal
        "SonarQube returns 401 for my token",
        "the Jira webhook gets 403 forbidden",
    ],
)
@pytest.mark.parametrize("asker", [ERIN, GUS, HANA])
def test_a_refusal_by_another_application_is_not_their_lists_doing(
    answerer: FaqAnswerer, asker: AskerContext, question: str
) -> None:
    """What keeps them out of Azure DevOps does not explain what Jira or SonarQube refuse: no guess."""
    assert "the likely cause" not in answerer.answer(question, asker).answer, question
    # A refusal naming what reaches Azure DevOps is theirs.
    devops = answerer.answer("my pipeline says unauthorized", asker).answer
    assert "First, the likely cause:" in devops, devops


@pytest.mark.parametrize(
    ("asker", "their_case"),
    [
        (ERIN, "Yours was sent on 27 November 2026 at 15:04 UTC to erin.eng@gmail.com and is not accepted"),
        (GUS, "No way in yet: your account in the directory is disabled"),
        (HANA, "Waiting for a decision: several directory accounts match your address"),
    ],
)
def test_i_cant_see_the_organization_is_their_lock_out_not_i_dont_know(
    answerer: FaqAnswerer, asker: AskerContext, their_case: str
) -> None:
    question = "I can't see the organization anymore"
    answer = answerer.answer(question, asker)
    assert answer.topic == "owner-locked-out" and their_case in answer.answer, answer.answer
    assert "the likely cause" not in answer.answer  # the lock-out topic's note says it, once
    assert answerer.answer(question, MAPPED).topic is None  # nothing of theirs says why: still declined


@pytest.mark.parametrize(
    ("asker", "their_case"),
    [
        (ERIN, "Yours was sent on 27 November 2026 at 15:04 UTC to erin.eng@gmail.com and is not accepted"),
        (GUS, "No way in yet: your account in the directory is disabled"),
        (HANA, "Waiting for a decision: several directory accounts match your address"),
    ],
)
def test_a_feed_refusing_them_is_their_lock_out_whichever_client_reads_it(
    answerer: FaqAnswerer, asker: AskerContext, their_case: str
) -> None:
    for question in ("my npm feed returns 401", "our NuGet feed says 401 unauthorized"):
        answer = answerer.answer(question, asker)
        assert answer.topic == "owner-locked-out" and their_case in answer.answer, (question, answer.answer)
    assert answerer.answer("my npm feed returns 401", MAPPED).topic is None  # nothing of theirs says why
    # npm with no feed of Azure DevOps named may be any registry: not their list's doing.
    assert answerer.answer("npm install returns 401", asker).topic is None


@pytest.mark.parametrize(
    "question",
    [
        "my account is disabled, what do I do?",
        "My account was disabled after the switch",
        "sign-in says AADSTS50057, what now?",
    ],
)
def test_gus_disabled_account_is_answered_from_his_list(answerer: FaqAnswerer, question: str) -> None:
    answer = answerer.answer(question, GUS)
    assert answer.topic == "owner-locked-out" and not answer.framed, answer
    assert answer.answer.splitlines() == [
        "Your directory account is disabled",
        "Your address matches an account in the directory, but that account is disabled, so fabrikam-fiber"
        f" refuses you until it is enabled. The first item of your to-do list, *{ENABLE_ITEM}*, says what to"
        " do: if you still need access, press *I need help* on it, and the migration admins settle it with"
        " you (your directory administrator enabling that account, or another account they map you to). Your"
        " work and history are kept.",
        "To reach a person, press *Ask an admin* and I pass your question to the admins of the fabrikam-fiber"
        " migration, or write to them: dana@fabrikam.com, lee@fabrikam.com.",
    ]
    before = answerer.answer(question, replace(GUS, stage="planned")).answer
    assert "so you could not sign in to fabrikam-fiber once it is connected to the directory" in before
    # Someone else saying so is not told of a case that is not theirs.
    assert "Your directory account is disabled" not in answerer.answer(question, MAPPED).answer


def test_the_items_named_are_the_first_items_of_their_lists() -> None:
    tenant = Tenant(id="t-1", display_name="Fabrikam", verified_domains=("fabrikam.com",))
    for outcome, title in (("disabled", ENABLE_ITEM), ("ambiguous", CHOOSE_ITEM)):
        user = PlannedUser(
            id="e-1",
            principal_name="gus@fabrikam.com",
            outcome=outcome,  # type: ignore[arg-type]
            match=Match(id="g-1", user_principal_name="gus@fabrikam.com", by="mail"),
        )
        items = todo_items(user, False, organization="fabrikam-fiber", tenant=tenant, invited_as=None)
        assert items[0].title == title
