"""Answers a walk through the real product found wrong (walk37, findings 5, 6, 7, 18, 21 and 22), asked as
its people asked them: Ann, a member the plan keeps, and Dana, an admin, in the fabrikam-fiber migration."""

from __future__ import annotations

from dataclasses import replace

import pytest

from faq import AskerContext, FaqAnswerer
from faq._connect_for_me import asks_the_bot_to_connect

ANN = AskerContext(
    outcome="auto",
    stage="planned",
    organization="fabrikam-fiber",
    case="first",
    migration="fabrikam-fiber",
    admins=("dana@fabrikam.com",),
    signs_in_as="ann@fabrikam.com",
)
DANA = replace(ANN, is_admin=True, signs_in_as="dana@fabrikam.com")
CARRY_ON = (
    "Nothing for you to click: the admins connect the organization. Until then, keep signing in as you do"
    " today."
)
CANNOT = (
    "No: Microsoft offers no way for an app to connect an organization to a directory, so I cannot click"
    " Connect. An admin of the organization does it in the portal: https://dev.azure.com/fabrikam-fiber >"
    " Organization settings > Microsoft Entra ID > Connect directory, choose the directory, Connect, then"
    " Sign out and sign in again with the work account."
)
STEPS_AFTER_APPROVAL = (
    "The one who connects must be the owner or a Project Collection Administrator of the organization and a"
    " member, not a guest, of the directory. Once another admin approves the connection, I send that person"
    " these steps (the approver if they can, otherwise the one who asked for the approval), watch the"
    " organization and tell everyone when it is connected."
)


@pytest.mark.parametrize(
    "question",
    [
        "can you click Connect for me?",
        "Can you connect the organization to Entra for us?",
        "why can't you just do the switch yourself?",
        "please press the Connect button for me",
    ],
)
def test_asked_to_click_connect_the_bot_says_it_cannot_and_who_does(
    answerer: FaqAnswerer, question: str
) -> None:
    for asker, note in ((ANN, CARRY_ON), (DANA, "Admin tip: when the plan is ready, `request-approval`")):
        answer = answerer.answer(question, asker)
        assert answer.topic == "connect-for-me" and not answer.framed, (question, answer.answer)
        lines = answer.answer.splitlines()
        assert lines[0] == "Can the bot click Connect?"
        assert lines[1].startswith(note), lines[1]
        assert lines[2:4] == [CANNOT, STEPS_AFTER_APPROVAL]
        assert "Disconnect" not in answer.answer


def test_once_connected_or_approved_nothing_is_left_for_the_asker_to_click(answerer: FaqAnswerer) -> None:
    connected = answerer.answer("can you click Connect for me?", replace(ANN, stage="users_notified"))
    assert (
        connected.answer.splitlines()[1] == "The organization is connected already: nothing is left to click."
    )
    approved = answerer.answer("can you click Connect for me?", replace(DANA, stage="connecting"))
    assert approved.answer.splitlines()[1] == (
        "The connection is approved: the one who connects has the portal steps in a direct message, and I"
        " tell everyone once it is connected."
    )


@pytest.mark.parametrize(
    "question",
    [
        "how do I connect the organization myself?",
        "can I connect the organization?",
        "can you connect me with an admin?",
        "can you disconnect the directory?",
        "is it possible to connect the org to two tenants?",
    ],
)
def test_asking_how_or_who_connects_is_not_asking_the_bot_to(question: str) -> None:
    assert not asks_the_bot_to_connect(question)


def test_the_topic_is_known_by_its_words_and_ranks_nothing(answerer: FaqAnswerer) -> None:
    """Unranked: its phrasings are what the recogniser knows, and no ranking or fit sees them."""
    topic = answerer.topics["connect-for-me"]
    assert not topic.ranked
    assert [p for p in topic.phrasings if not asks_the_bot_to_connect(p)] == []
    assert "connect-for-me" not in [item.topic_id for item in answerer.rank(topic.phrasings[0]).topics]


NOT_CHANGED = (
    "The move has not changed your sign-in: fabrikam-fiber is not connected to the new directory yet (the"
    " admins have made the plan; no date is announced yet). Until then you sign in to"
    " https://dev.azure.com/fabrikam-fiber as today, with ann@fabrikam.com."
)
REFUSED_BY_CODE = (
    "I get TF400813 when I open the board, what now?",
    "VS30063: You are not authorized to access https://dev.azure.com",
    "VS30063 when I open dev.azure.com",
)


@pytest.mark.parametrize("question", REFUSED_BY_CODE)
def test_before_the_switch_a_refusal_by_its_code_is_not_the_move(
    answerer: FaqAnswerer, question: str
) -> None:
    for stage in ("planned", "awaiting_approval"):
        answer = answerer.answer(question, replace(ANN, stage=stage))
        assert answer.topic == "owner-locked-out", (stage, answer.answer)
        lines = answer.answer.splitlines()
        assert lines[0] == "Your sign-in has not changed"
        assert lines[1].split(" (")[0] == NOT_CHANGED.split(" (")[0]
        assert "not your Microsoft account" not in answer.answer and "Change owner" not in answer.answer
    assert answerer.answer(question, ANN).answer.splitlines()[1] == NOT_CHANGED


@pytest.mark.parametrize("question", REFUSED_BY_CODE)
def test_while_connecting_a_refusal_by_its_code_says_to_sign_in_as_today_until_connected(
    answerer: FaqAnswerer, question: str
) -> None:
    answer = answerer.answer(question, replace(ANN, stage="connecting"))
    assert answer.topic == "owner-locked-out"
    assert answer.answer.splitlines()[1].startswith(
        "Connecting fabrikam-fiber to the new directory is approved, and an admin makes the switch in its"
        " settings. Until I send you your to-do list, which says it is connected, sign in to"
        " https://dev.azure.com/fabrikam-fiber as today, with ann@fabrikam.com."
    )


@pytest.mark.parametrize("question", REFUSED_BY_CODE)
def test_after_the_switch_vs30063_in_the_browser_is_the_lock_out_not_gits_credentials(
    answerer: FaqAnswerer, question: str
) -> None:
    answer = answerer.answer(question, replace(ANN, stage="users_notified"))
    assert answer.topic == "owner-locked-out" and not answer.framed, answer.answer
    lines = answer.answer.splitlines()
    assert lines[1] == (
        "You have a work account in the directory: sign in with it (the one your to-do list names), not with"
        " your Microsoft account. Still refused an hour later? Your old identity may not be mapped to it yet:"
        " ask an admin. Your work and history are kept."
    )
    assert (
        "- Still refused there? Clear the browser's cache and delete its cookies for dev.azure.com, close the"
        " browser, open it again and sign in once more."
    ) in lines


def test_in_git_or_visual_studio_the_code_is_still_the_credential_answer(answerer: FaqAnswerer) -> None:
    for question in ("VS30063 in Visual Studio since the switch", "git push fails with VS30063"):
        answer = answerer.answer(question, replace(ANN, stage="users_notified"))
        assert answer.topic == "git-credential-cache", (question, answer.answer)


def test_an_asker_whose_migration_is_unknown_hears_both_cases(answerer: FaqAnswerer) -> None:
    lines = answerer.answer("TF400813").answer.splitlines()
    assert lines[:2] == [
        "Locked out right after connecting or switching the directory",
        "If your organization has not just been connected to a directory (or switched to another one), the"
        " move is not the cause: you sign in as before, and Microsoft's page below lists the usual causes. If"
        " it has:",
    ]


def test_the_admin_tip_names_the_commands_that_choose_who_connects(answerer: FaqAnswerer) -> None:
    answer = answerer.answer("who is allowed to connect the organization to Entra ID", DANA)
    assert answer.topic == "who-can-connect"
    assert answer.answer.splitlines()[1] == (
        "Admin tip: the plan's checks connector-admin and connector-member test both for the admin who"
        " started the migration; another admin who should connect instead types `connect-as-me`, and the"
        " checks test them. At the approval I send the portal steps to the approver if both hold for them,"
        " otherwise to the requester."
    )
    assert "/aad plan" not in answer.answer


def test_a_member_refused_an_invitation_hears_what_refuses_them_once_members_may_invite(
    answerer: FaqAnswerer,
) -> None:
    carol = replace(DANA, signs_in_as="carol@fabrikam.com")
    answer = answerer.answer("403 error inviting a guest user to the tenant", carol)
    assert answer.topic == "invite-403"
    assert (
        "If members may invite already, that setting is not the cause: when I send the invitations it is my"
        " app that invites, and it needs the Microsoft Graph permission User.Invite.All with an admin's"
        " consent (the plan's invite-permission check says whether it may)."
    ) in answer.answer
    assert "You are a guest of the directory" not in answer.answer


def test_a_pending_guest_is_told_accepting_late_still_lets_them_in(answerer: FaqAnswerer) -> None:
    erin = replace(ANN, outcome="invite", guest=True, signs_in_as="erin.eng@gmail.com")
    answer = answerer.answer("what happens to users who are not in the directory?", erin)
    assert answer.topic == "historic-user", answer.answer
    assert (
        "You have no account in the directory yet, so you will be invited as a guest: accept the invitation"
        " email before the switch, so that you can sign in on the day. Until you accept it you cannot sign in"
        " once the organization is connected; accepting later still lets you in (your history is kept)."
    ) in answer.answer.splitlines()
    assert "or you lose access" not in answer.answer
