"""Answers that agree with the tutorial and with the bot's own checks, for the asker's own case (walk33
findings 8, 10 and 13): whether invited guests need a paid license (the tutorial's line; licence prices stay
declined), a 403 when inviting for a member of the directory and for a guest (the invite-permission check's
setting, not letting guests invite), the account picker for someone whose Microsoft account has another
address than their work account, and "hi, what is happening?" from someone the plan names; and walk34's
first questions after a notice (finding 4): "what happens to me?", "will I lose access?" (their case, and
whether they keep access), "what happens to my pull requests?" (what the move keeps)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from faq import AskerContext, FaqAnswerer
from faq._kept import asks_what_happens_to_their_work
from faq._licences import TOPIC as LICENCES
from faq._licences import asks_whether_guests_need_one
from workflows.plan_invitations import invitation_policy_fix

ORG = "fabrikam-fiber"
MEMBER_ADMIN = AskerContext(
    outcome="auto", stage="planned", organization=ORG, migration=ORG, is_admin=True, case="first"
)
GUEST_ADMIN = AskerContext(
    outcome="auto", guest=True, stage="planned", organization=ORG, migration=ORG, is_admin=True, case="first"
)
CAROL = AskerContext(
    outcome="map",
    stage="users_notified",
    organization=ORG,
    migration=ORG,
    case="first",
    signs_in_as="carol.w@outlook.com",
)
"""Mapped by hand: her old Azure DevOps identity is the Microsoft account carol.w@outlook.com."""
SAME_ADDRESS = AskerContext(
    outcome="auto", stage="users_notified", organization=ORG, migration=ORG, case="first"
)
INVITED_403 = "I get a 403 when inviting"
SAME_ADDRESS_CAUSE = "your personal Microsoft account and your work account use the same email address"
PICKER = "why am I asked to choose between a Microsoft account and a work account?"


def flat(text: str) -> str:
    return " ".join(text.split())


def settings_the_check_names(policy: str) -> list[str]:
    """The guest invite options the invite-permission check tells the admins to choose, quoted."""
    return re.findall(r"choose '([^']+)'", invitation_policy_fix(policy))


def test_a_member_admin_refused_an_invitation_hears_the_setting_the_check_advises(
    answerer: FaqAnswerer,
) -> None:
    advised = settings_the_check_names("none")
    assert advised == ["Member users and users assigned to specific admin roles can invite"]
    answer = answerer.answer(INVITED_403, MEMBER_ADMIN)
    assert answer.topic == "invite-403"
    text = flat(answer.answer)
    assert f"choose '{advised[0]}'" in text
    assert "`allowInvitesFrom` = `adminsGuestInvitersAndAllMembers`" in text
    assert "usually because you are a guest" not in text
    # `everyone` is named only as more than needed, never as the fix
    assert "(`everyone`) is more than you need: it lets every guest invite too" in text
    assert "You are a guest" not in text and "A directory admin gives you the Guest Inviter role" not in text


def test_a_guest_refused_an_invitation_is_offered_the_guest_inviter_role_first(answerer: FaqAnswerer) -> None:
    text = flat(answerer.answer(INVITED_403, GUEST_ADMIN).answer)
    assert "A directory admin gives you the Guest Inviter role" in text
    assert "Being a guest is not the cause" not in text
    assert "(`everyone`) also works, but lets every guest invite" in text


def test_an_asker_the_bot_does_not_know_hears_both_cases_after_their_labels(answerer: FaqAnswerer) -> None:
    text = answerer.answer(INVITED_403).answer
    assert "- You are a member of the directory (an admin included): Being a guest is not the cause" in text
    assert "- You are a guest of the directory: A directory admin gives you the Guest Inviter role" in text
    assert "15 to 60 minutes" in text


@pytest.mark.parametrize(
    "question",
    [
        "do I need a paid license for the invited guests?",
        "Do guests need Azure AD premium licenses?",
        "we only have the free Entra ID, can the people we invite still sign in?",
    ],
)
def test_whether_invited_guests_need_a_paid_license_is_the_tutorials_answer(
    answerer: FaqAnswerer, question: str
) -> None:
    answer = answerer.answer(question, MEMBER_ADMIN)
    assert answer.topic == "guest-licenses", (question, answer.topic)
    text = flat(answer.answer)
    assert (
        "if no paid license exists in your Microsoft Entra ID (formerly Azure AD), every invited user gets"
        in text
    )
    assert "the rights that the free edition (Microsoft Entra ID Free) offers" in text
    assert (
        answer.link
        == "https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/connect-organization-to-azure-ad"
    )


def test_the_licence_topic_is_known_by_its_words_and_ranks_nothing(answerer: FaqAnswerer) -> None:
    """Unranked (`ranked: false`): its phrasings are what the recogniser must know, and the index never sees
    them, so adding it moved no other question's ranking or the calibration's fit."""
    topic = answerer.topics[LICENCES]
    assert not topic.ranked
    assert [p for p in topic.phrasings if not asks_whether_guests_need_one(p)] == []
    ranking = answerer.rank(topic.phrasings[0])
    assert LICENCES not in [item.topic_id for item in ranking.topics]
    assert ranking.topics[0].topic_id == "invite-403"  # what it was answered with before (walk33, finding 8)


@pytest.mark.parametrize(
    "question",
    [
        "how much does a Basic license cost?",
        "how much does an Entra ID P1 license cost per guest?",
        "what does a license for a guest cost?",
        "what is the price of Basic + Test Plans per user?",
    ],
)
def test_licence_prices_stay_declined(answerer: FaqAnswerer, question: str) -> None:
    for asker in (AskerContext(), MEMBER_ADMIN):
        answer = answerer.answer(question, asker)
        assert answer.topic is None, (question, answer.topic, answer.score)
        assert answer.answer.startswith("Sorry, I don't know the answer to that one.")


def test_the_account_picker_is_explained_by_the_askers_own_case(answerer: FaqAnswerer) -> None:
    carol = answerer.answer(PICKER, CAROL)
    assert carol.topic == "account-picker-prompt"
    text = flat(carol.answer)
    assert SAME_ADDRESS_CAUSE not in text
    assert "a Microsoft account at another address than your work account" in text
    assert "your browser remembers both of your accounts" in text
    same = flat(answerer.answer(PICKER, SAME_ADDRESS).answer)
    assert f"You see this question because {SAME_ADDRESS_CAUSE}" in same
    assert "another address than your work account" not in same
    unknown = flat(answerer.answer(PICKER).answer)
    assert (
        f"- Your Microsoft account uses your work address: You see this question because {SAME_ADDRESS_CAUSE}"
        in unknown
    )
    assert "- Your old sign-in is a Microsoft account at another address:" in unknown


@pytest.mark.parametrize(
    "question", ["hi, what is happening?", "what's going on?", "Hello, what is this about?"]
)
def test_what_is_happening_from_someone_on_the_plan_is_their_case_in_short(
    answerer: FaqAnswerer, question: str
) -> None:
    before = answerer.answer(question, MEMBER_ADMIN)
    assert before.topic == "what-is-this-migration"
    assert before.answer.splitlines()[:2] == [
        "What is happening for you",
        f"{ORG} is moving to the company directory, Microsoft Entra ID (formerly Azure Active Directory): no"
        f" date is announced yet. Until it is connected you sign in to https://dev.azure.com/{ORG} as today,"
        " with the account you use now.",
    ]
    assert (
        "What you must do: nothing before the switch; after it, sign in with your work account"
        in before.answer
    )
    after = flat(answerer.answer(question, CAROL).answer)
    assert "What you must do: now sign in with your work account" in after
    assert "An admin maps your old identity to your work account by hand" in after
    assert "Type `todo` for your own to-do list." in after


@pytest.mark.parametrize("question", ["hi, what is happening?", "what's going on?"])
def test_what_is_happening_from_someone_unknown_stays_declined(answerer: FaqAnswerer, question: str) -> None:
    assert answerer.answer(question).topic is None
    outsider = AskerContext(
        stage="planned", organization=ORG, migration=ORG
    )  # in the channel, not on the plan
    assert answerer.answer(question, outsider).topic is None


ABOUT_THEMSELVES = (
    "what happens to me?",
    "what happens to my account?",
    "will I lose access?",
    "am I affected?",
)
KEEPS = f"You keep access to {ORG}, with your work and history."


@pytest.mark.parametrize("question", ABOUT_THEMSELVES)
@pytest.mark.parametrize(
    ("asker", "access"),
    [
        pytest.param(SAME_ADDRESS, KEEPS, id="same address"),
        pytest.param(CAROL, KEEPS, id="mapped by hand"),
        pytest.param(GUEST_ADMIN, KEEPS, id="guest"),
        pytest.param(
            replace(SAME_ADDRESS, outcome="invite"),
            f"You keep access to {ORG} once you accept your invitation. Your work and history are kept.",
            id="invited",
        ),
        pytest.param(
            replace(SAME_ADDRESS, outcome="disabled"),
            f"You lose access to {ORG} once it is connected, unless your directory account is enabled or the"
            " admins give you another one. Your work and history are kept.",
            id="disabled",
        ),
        pytest.param(
            replace(SAME_ADDRESS, outcome="ambiguous"),
            f"You keep access to {ORG} once the admins know which directory account is yours. Your work and"
            " history are kept.",
            id="ambiguous",
        ),
    ],
)
def test_what_happens_to_someone_on_the_plan_is_their_case_and_whether_they_keep_access(
    answerer: FaqAnswerer, question: str, asker: AskerContext, access: str
) -> None:
    answer = answerer.answer(question, asker)
    assert (answer.topic, answer.framed) == ("what-is-this-migration", False)
    lines = answer.answer.splitlines()
    assert lines[0] == "What is happening for you" and lines[2] == access, lines[:3]
    assert lines[3].startswith("What you must do: ")


NOT_AMONG_USERS = [
    "Most likely you are not a user of {them}, or no longer (the admins may have removed you, for example as"
    " inactive): then the move changes nothing for you. Or you sign in to Azure DevOps with another address"
    " than the one I know you by here: then the move may concern you under that address, and an admin can"
    " tell you how.",
    "To check: open https://dev.azure.com/{org} and select your picture at the top right, which shows the"
    " address you sign in with. The organization's users are listed under Organization settings > Users,"
    " where an admin can add you if you should have access.",
]


@pytest.mark.parametrize("question", ABOUT_THEMSELVES)
def test_what_happens_to_someone_off_the_plan_is_that_they_are_not_among_its_users(
    answerer: FaqAnswerer, question: str
) -> None:
    """Someone the plan does not name asking "will I lose access?" got the lock-out advice, and "what happens
    to me?" "I don't know": now that the bot does not see them among the users, what it likely means, how to
    check and whom to ask; nobody else's case."""
    outsider = AskerContext(stage="planned", organization=ORG, off_the_plan=True)  # by direct message
    answer = answerer.answer(question, outsider)
    assert (answer.topic, answer.own_case) == ("what-is-this-migration", True)
    assert answer.answer.splitlines() == [
        "What is happening for you",
        f"I do not see you among the Azure DevOps users of {ORG}, which I read to plan its move to the"
        " company directory, Microsoft Entra ID (formerly Azure Active Directory).",
        *(line.format(them=ORG, org=ORG) for line in NOT_AMONG_USERS),
        "To reach a person, ask the admins running your organization's move to Microsoft Entra ID (its owner"
        " or Project Collection Administrators).",
    ]
    # several migrations under way, and no plan names them: no organization to name
    several = answerer.answer(question, AskerContext(off_the_plan=True)).answer.splitlines()
    assert several[1:4] == [
        "Several Azure DevOps organizations are moving to the company directory, Microsoft Entra ID (formerly"
        " Azure Active Directory), and I do not see you among the users of any of them.",
        *(line.format(them="any of them", org="YOUR-ORGANIZATION") for line in NOT_AMONG_USERS),
    ]
    unknown = answerer.answer(question)  # none under way: nobody's case
    assert unknown.topic != "what-is-this-migration" and "You keep access" not in unknown.answer


@pytest.mark.parametrize(
    "question",
    [
        "what happens to my pull requests?",
        "what happens to our work items and PRs after the migration?",
        "will I lose my history?",
        "will my commits be kept?",
        "ok, what will happen to the repos when we connect?",
    ],
)
def test_what_happens_to_their_work_is_what_the_move_keeps_for_anyone(
    answerer: FaqAnswerer, question: str
) -> None:
    for asker in (AskerContext(), CAROL, AskerContext(stage="planned", organization=ORG, migration=ORG)):
        answer = answerer.answer(question, asker)
        assert (answer.topic, answer.framed) == ("what-is-kept", False), (question, asker)


@pytest.mark.parametrize(
    "question",
    [
        "what happens to my pull requests when I delete the branch?",
        "what happens to my builds if the agent dies?",
    ],
)
def test_what_happens_to_their_work_for_another_reason_is_not_the_moves_question(question: str) -> None:
    assert not asks_what_happens_to_their_work(question)
