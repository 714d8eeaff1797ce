"""Answers that fit who is asking inside a migration: the people being moved get the topic written for them
before an admins' topic barely closer, and after connecting "I can't sign in anymore" is their own case."""

from __future__ import annotations

from dataclasses import replace

import pytest

from faq import AskerContext, FaqAnswerer, Topic
from faq._about import AboutModel
from faq._asker import cannot_sign_in
from faq._calibration import Calibration
from faq._compose import LOST_ACCESS
from faq._knowledge import ADMINS, PEOPLE, KnowledgeError, parse_topics
from faq.asker_effect import ASKERS, changes
from faq.evaluate import Question
from workflows.plan import NO_ACCESS

CONNECTED = AskerContext(stage="users_notified", organization="fabrikam", case="first", migration="fabrikam")
GUEST = replace(CONNECTED, outcome="invite", guest=True)
MAPPED = replace(CONNECTED, outcome="map")
ADMIN = replace(CONNECTED, outcome="auto", is_admin=True)
NO_INVITATION = "I never got the invitation email"
CANNOT_SIGN_IN = ("I can't sign in anymore", "I cannot sign in to Azure DevOps anymore")


def test_a_guest_who_never_got_the_invitation_is_told_where_it_is_and_what_to_do_meanwhile(
    answerer: FaqAnswerer,
) -> None:
    # Known invited, without the invitation's record (tests/faq/test_invitation_case.py has it): the topic
    # written for the people being moved, with the note for invitees, not a guess.
    answer = answerer.answer(NO_INVITATION, GUEST)
    assert answer.topic == "email-not-found" and not answer.framed, answer
    assert answerer.topics["email-not-found"].audience == PEOPLE
    assert "email-not-found" not in answer.alternatives
    for told in (
        '"Microsoft Invitations on behalf of" the company',  # who it comes from
        '"invited you to collaborate with" the company',  # what it looks like
        "junk or spam",
        "the migration admins can send it again",
        "Meanwhile Azure DevOps refuses you",  # connected: no way in until accepted
    ):
        assert told in answer.answer, told
    before = answerer.answer(NO_INVITATION, replace(GUEST, stage="planned"))
    assert "Meanwhile nothing changes for you: keep signing in as you do today" in before.answer


def test_the_same_words_from_an_admin_are_about_her_own_invitation_not_the_invite_settings(
    answerer: FaqAnswerer,
) -> None:
    assert answerer.topics["invite-propagation"].audience == ADMINS
    for question in (NO_INVITATION, "no invitation email yet"):
        admin = answerer.answer(question, ADMIN)
        assert admin.topic == "email-not-found" and "You need no invitation" in admin.answer, question
        assert "Admin tip: someone else's invitation missing?" in admin.answer
        assert answerer.answer(question, GUEST).topic == "email-not-found", question
        mapped = answerer.answer(question, MAPPED)
        assert mapped.topic == "email-not-found" and "You need no invitation" in mapped.answer, question


def test_without_an_asker_both_cases_are_told_briefly(answerer: FaqAnswerer) -> None:
    answer = answerer.answer(NO_INVITATION)
    assert answer.topic == "email-not-found" and not answer.framed
    assert answer.answer.startswith(
        "Your invitation to the directory\nWhether you get one depends on your case:"
    )
    # The choices for a known asker left out, the guest is an asker the bot does not know.
    assert FaqAnswerer(asker_aware=False).answer(NO_INVITATION, GUEST).answer == answer.answer


@pytest.mark.parametrize(
    ("asker", "their_case"),
    [
        (MAPPED, "You have a work account in the directory: sign in with it"),
        (
            replace(CONNECTED, outcome="auto", guest=True),
            "You are a guest of the directory: you have no work",
        ),
        (GUEST, "Azure DevOps lets you in once you have accepted the invitation email"),
        (replace(CONNECTED, outcome="disabled"), "No way in yet: your account in the directory is disabled"),
        (replace(CONNECTED, outcome="ambiguous"), "Waiting for a decision: several directory accounts match"),
        (ADMIN, "Admin tip: `/aad status`"),
    ],
)
def test_after_connecting_cannot_sign_in_is_answered_for_the_askers_own_case(
    answerer: FaqAnswerer, asker: AskerContext, their_case: str
) -> None:
    for question in CANNOT_SIGN_IN:
        answer = answerer.answer(question, asker)
        assert answer.topic == "owner-locked-out" and not answer.framed, (question, answer)
        lines = answer.answer.splitlines()
        assert lines[0] == "Locked out right after connecting or switching the directory"
        assert lines[1].startswith(their_case) or their_case in answer.answer, lines[1]


def test_each_case_hears_only_its_own_note(answerer: FaqAnswerer) -> None:
    mapped = answerer.answer(CANNOT_SIGN_IN[0], MAPPED).answer
    guest = answerer.answer(CANNOT_SIGN_IN[0], GUEST).answer
    assert "accepted the invitation" not in mapped and "You have a work account" not in guest


@pytest.mark.parametrize("stage", ["planned", "inviting"])
def test_before_connecting_cannot_sign_in_is_not_the_move(answerer: FaqAnswerer, stage: str) -> None:
    for question in CANNOT_SIGN_IN:
        # the move has not changed their sign-in: what usually causes it (tests/faq/test_sign_in_case.py)
        answer = answerer.answer(question, replace(MAPPED, stage=stage))
        assert answer.answer.startswith("Your sign-in has not changed\nThe move has not changed"), question
        assert answerer.answer(question).topic is None  # nor outside any migration


@pytest.mark.parametrize(
    "question",
    [
        "I can't sign in to my laptop anymore",
        "I can't sign in to Jira anymore",
        "I forgot my laptop password and I'm locked out, help",
        "my pipeline fails",
        "what's the weather tomorrow",
        # Near-domain questions a migration's member may ask, about something else than the move
        "how do I create a service connection",
        "service connection secret expired",
        "how much does a Basic license cost",
        "how much are basic licenses per user",
        "how do I add a self-hosted build agent to an agent pool",
    ],
)
@pytest.mark.parametrize("asker", [GUEST, MAPPED, ADMIN])
def test_near_domain_questions_are_still_declined(
    answerer: FaqAnswerer, question: str, asker: AskerContext
) -> None:
    assert answerer.answer(question, asker).topic is None


@pytest.mark.parametrize(
    "story",
    [
        "I have a personal account and a work account with the same email address. When I sign in to the"
        " Azure AI Toolkit extension I can pick either, but the project list stays empty. Which account"
        " should I use?",
        "ChangedBy user is not migrated correctly. During the history migration of work items with the"
        " migration tool the ChangedBy field shows the service account instead of the original user. How do"
        " I keep the original user?",
    ],
)
def test_a_story_the_model_reads_as_about_something_else_is_judged_inside_as_outside(story: str) -> None:
    # Near-domain stories the refit of round 12 answered inside a migration (docs/faq-eval.md, round 13): read
    # at -1.4 by the learned model they are about something else, declined inside as outside; read at -1.1
    # the migration still says they are about the move.
    elsewhere = FaqAnswerer(about=AboutModel({}, -1.4, in_migration=0.8))
    assert elsewhere.answer(story).topic is None
    assert elsewhere.answer(story, MAPPED).topic is None
    unsure = FaqAnswerer(about=AboutModel({}, -1.1, in_migration=0.8))
    assert unsure.answer(story).topic is None
    assert unsure.answer(story, MAPPED).topic is not None


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("are pipelines impacted?", "what-is-kept"),
        ("what happens to my pipelines?", "what-is-kept"),
        ("do I keep my basic license?", "what-is-kept"),
        ("will our service connections keep working?", "service-connections"),
        ("do I need new PATs?", "regenerate-pat"),
    ],
)
@pytest.mark.parametrize("asker", [GUEST, MAPPED, ADMIN])
def test_questions_about_what_the_move_does_to_those_things_are_still_answered_inside(
    answerer: FaqAnswerer, question: str, topic: str, asker: AskerContext
) -> None:
    assert answerer.answer(question, asker).topic == topic


def test_sign_in_trouble_a_topic_for_them_describes_keeps_that_topic(answerer: FaqAnswerer) -> None:
    answer = answerer.answer("I can't log in to Visual Studio anymore", MAPPED)
    assert answer.topic == "git-credential-cache"
    assert answerer.answer("it won't let me sign in", MAPPED).topic == "after-switch-checklist"


def _office(audience_of_badges: str | None = PEOPLE) -> FaqAnswerer:
    def topic(topic_id: str, title: str, phrasings: tuple[str, ...], audience: str | None) -> Topic:
        return Topic(
            topic_id, title, phrasings, f"{title}.", f"https://x.org/{topic_id}", (), (), audience=audience
        )

    topics = [
        topic(
            "door-codes",
            "Changing the office door codes",
            (
                "the new door codes take an hour to reach every door",
                "I changed the door code and it still fails",
            ),
            ADMINS,
        ),
        topic(
            "my-badge",
            "My badge does not open the door",
            ("the code on my badge fails at the office door", "my badge stopped working"),
            audience_of_badges,
        ),
        topic("office-hours", "Office opening hours", ("when does the office open",), None),
    ]
    return FaqAnswerer(topics, calibration=Calibration(1.0, 1.0, -5.0, threshold=0.99, framed_threshold=0.0))


def test_the_admins_topic_is_right_for_the_admin_and_the_peoples_for_everyone_else() -> None:
    office = _office()
    question = "the door code still fails"
    assert office.rank(question).topics[0].topic_id == "door-codes"
    assert office.answer(question, ADMIN).topic == "door-codes"
    assert office.answer(question).topic == "door-codes"  # no asker: as ranked
    for asker in (GUEST, MAPPED):
        answer = office.answer(question, asker)
        assert answer.topic == "my-badge" and answer.framed and "door-codes" in answer.alternatives


def test_only_a_close_topic_written_for_them_that_knows_the_words_as_well_is_preferred() -> None:
    # "new", "hour" are the admins' topic's words alone: it is about the codes, whoever asks.
    assert _office().answer("the new door code still fails after an hour", GUEST).topic == "door-codes"
    # A topic for everyone is not preferred over the admins' one.
    assert _office(audience_of_badges=None).answer("the door code still fails", GUEST).topic == "door-codes"


def test_an_unknown_audience_names_the_field_and_the_choices() -> None:
    document = {
        "topics": [
            {
                "id": "t",
                "title": "T",
                "phrasings": ["p"],
                "answer": ["a"],
                "link": "https://x.org",
                "audience": "ops",
            }
        ]
    }
    with pytest.raises(KnowledgeError, match=r"topic 't': `audience` must be one of \['admins', 'people'\]"):
        parse_topics(document)


@pytest.mark.parametrize(
    ("message", "says_so"),
    [
        ("I can't sign in anymore", True),
        ("We are locked out since this morning", True),
        ("it won't let me log in", True),
        ("I'm no longer able to sign in to the organization", True),
        ("I cannot log into dev.azure.com/fabrikam", True),
        ("I can't sign in to Jira anymore", False),
        ("Git can't sign in anymore", False),  # Git's trouble, not the asker's
        ("how do I sign in after the change", False),
    ],
)
def test_what_counts_as_the_asker_unable_to_sign_in(message: str, says_so: bool) -> None:
    assert cannot_sign_in(message) is says_so


def test_the_measurement_counts_what_the_asker_aware_choices_change(answerer: FaqAnswerer) -> None:
    questions = [
        Question(CANNOT_SIGN_IN[0], "owner-locked-out", "tune", "probe"),
        Question(BILLING, "billing-subscription", "tune", "probe"),
        Question("perms required to connect directory?", "who-can-connect", "tune", "probe"),
    ]
    found = changes(questions, ASKERS["invited guest"], answerer, FaqAnswerer(asker_aware=False))
    assert [(change.before, change.after, change.verdict) for change in found] == [
        (None, "owner-locked-out", "wrong -> right"),
        ("billing-subscription", "vs-subscription", "right -> wrong"),  # docs/faq-eval.md, "asker"
    ]
    # The admin is answered the admins' topic: only the lock-out, which is every asker's own case, changes.
    found = changes(questions, ASKERS["admin"], answerer, FaqAnswerer(asker_aware=False))
    assert [change.question.text for change in found] == [CANNOT_SIGN_IN[0]]


BILLING = "transfer azure subscription to my work account for devops billing"


SSH = "will my ssh keys keep working?"
SWITCHING = replace(CONNECTED, case="switch", outcome="auto")
SUPPORT_CLEARS = "have Support clear the organization's SSH keys"


def test_only_a_switch_between_directories_has_support_clear_the_ssh_keys() -> None:
    """Microsoft asks admins to have Support clear the SSH keys before switching directories, not before a
    first connection (walk 25, finding 5); a known asker hears only their own case."""
    answerer = FaqAnswerer()
    admin = answerer.answer(SSH, replace(SWITCHING, is_admin=True)).answer
    assert admin.splitlines()[1].startswith(
        f"Admins: before switching directories, Microsoft asks you to {SUPPORT_CLEARS}"
    )
    person = answerer.answer(SSH, SWITCHING).answer
    assert "Admins:" not in person
    assert "You need to add your key again: before the switch the admins have Support clear" in person
    assert "First connection" not in person and "may well keep working" not in person
    for first in (ADMIN, MAPPED, GUEST):
        assert "Support" not in answerer.answer(SSH, first).answer, first
    anyone = answerer.answer(SSH).answer  # the case unknown: each one after its label
    assert "- First connection, your email matched: Your key may well keep working" in anyone
    assert "- Switching directories: You need to add your key again" in anyone


def test_a_topics_token_note_follows_the_askers_own_list() -> None:
    """A note with `tokens` is shown only to an asker whose list is in that case, with its reason; the
    topic's own cases stay (unlike a token case, which replaces them)."""
    answerer = FaqAnswerer()
    question = "my pipelines use a PAT in a variable group, will they break after the migration?"
    renew = replace(MAPPED, renew_tokens=True, tokens_why="your identity is mapped by hand")
    keep = replace(ADMIN, renew_tokens=False, tokens_why="your address stays")
    mapped, admin, unknown = (answerer.answer(question, asker) for asker in (renew, keep, MAPPED))
    assert {mapped.topic, admin.topic, unknown.topic} == {"service-connections"}
    assert "Your own personal access tokens stop working after the change (your identity is mapped by" in (
        mapped.answer
    )
    assert "Your own personal access tokens keep working (your address stays)" in admin.answer
    assert "Your own" not in unknown.answer  # without their list's reason the bot does not know
    for answer in (mapped, admin, unknown):
        assert "Nothing to do: connections authenticate to Azure with their own principal" in answer.answer
        assert "it belongs to whoever made it" in answer.answer


def test_the_lost_access_outcome_is_the_workflows() -> None:
    assert LOST_ACCESS == NO_ACCESS


LOST = replace(CONNECTED, outcome="no-access", lost_access_by="Lee", admins=("lee@fabrikam.com",))


def test_someone_who_lost_access_hears_the_decision_instead_of_i_dont_know() -> None:
    answerer = FaqAnswerer()
    for question in ("why can't I sign in anymore? I get AADSTS50057", CANNOT_SIGN_IN[0]):
        answer = answerer.answer(question, LOST)
        lines = answer.answer.splitlines()
        assert lines[0] == "You no longer have access to fabrikam", question
        assert lines[1].startswith("Lee, a migration admin, decided that you lose access to fabrikam"), (
            question
        )
        assert "ask Lee" in lines[1] and answer.score == answerer.answer(question, CONNECTED).score
        assert answer.alternatives == [], question  # no topic for those who keep access is theirs
    pats = answerer.answer("will my PATs keep working?", LOST)
    assert pats.topic == "regenerate-pat"  # a topic for those who keep access: the decision instead
    assert pats.answer.splitlines()[0] == "You no longer have access to fabrikam"
    assert "personal access token" not in pats.answer
    downtime = answerer.answer("is there any downtime during the move?", LOST)
    assert downtime.topic == "downtime"  # a topic for everyone, after the decision's line
    assert downtime.answer.splitlines()[1] == (
        "Lee, a migration admin, decided that you lose access to fabrikam, as I told you: if you still need"
        " access, ask Lee."
    )
    weather = answerer.answer("what's the weather today", LOST).answer
    assert weather.startswith("Sorry, I don't know") and "Lee" not in weather
