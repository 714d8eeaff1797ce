"""The asker's own invitation: recognising "I never got the invitation email" in its many wordings and nowhere
else, and the reply for each case the migration's records can put the asker in."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from faq import AskerContext, FaqAnswerer
from faq._invitation import asks_whether_to_accept, missing_invitation, why_refused
from workflows.results_standing import InvitationStanding

# Written before the recogniser was run on any of them.
THEIR_OWN = (
    "I never received the invitation",
    "I haven't got any invite from Microsoft yet",
    "I can't find my invitation email, I looked everywhere",
    "my invite expired before I could accept it",
    "has my invitation been sent?",
    "I'm still waiting for the invitation email",
    "there's no invitation in my inbox",
    "I did not get the guest invitation",
    "no invitation email yet",
    "the invitation link has expired",
    # with more after it (written before the narrower recogniser was run on them)
    "I never got the invitation to join the Fabrikam directory",
    "I haven't received my invite to the tenant yet, it's been two days",
    "I never got the invitation for the migration, can you resend it?",
    "I didn't get the invitation email you sent me",
    "I can't find my invite to Azure DevOps anywhere",
)
NOT_THEIR_OWN = (
    "how do I invite a guest?",
    "the invitation email to our vendor bounced",
    "how do I resend an invitation to a guest?",
    "Bob never got his invitation email",
    "the user says the invitation expired",
    "I never got the invite to the Teams meeting",
    "I can't see the invite button in the portal",
    "invitations still fail after I changed the guest invite setting",
    "we invited our partners but they never received the invitations",
    "I can't find the invitation settings",
    # review1's sentences (written after reading the first recogniser, so adversarial)
    "I never got the invites out, Graph says 403 Forbidden Authorization_RequestDenied",
    "I can't get invites to work with allowInvitesFrom set to adminsAndGuestInviters",
    "I can't find the invite API permission User.Invite.All",
    "I can't find the invitation my colleague sent to the vendor",
    "has my invitation been sent to the contractor?",
    "the invite expired for our contractor",
    "No invitation arrived for erin",
    "I didn't get the invite for the migration call",
    "I didn't get the invite for the standup meeting",
    "I never got the invitation to the Microsoft Teams channel",
    # more, written before the recogniser was run on them
    "I haven't got the invites sent yet, the inviting step is still running",
    "I can't see the invitations in the audit log",
    "I didn't receive the invitation list from the bot",
    "I don't have invite rights in the tenant",
    "I cannot find the invitation link for our vendor",
    "has my invitation to the contractor been sent?",
    "I'm waiting for the invitations to be accepted by the guests",
    "I haven't seen any invitations accepted yet",
    "I never got the invite from Dana for the kickoff meeting",
    "I can't get the invitation email template to show our logo",
    "I never got the invitations through, it says TF400813",
    "my invitation to the design review expired",
    "I didn't get invites working for the partner domain",
)
INVITING_FAILED = "I never got the invites out, Graph says 403 Forbidden Authorization_RequestDenied"
SENT_AT = datetime(2026, 11, 27, 15, 4, tzinfo=UTC)
INVITATION = InvitationStanding(
    address="erin.eng@gmail.com",
    directory="Fabrikam",
    tenant_id="3c0a7f5e-8d2b-4f61-9a7c-5e4b2d1f0a11",
    sent=True,
    sent_at=SENT_AT,
)
PLANNED = AskerContext(
    outcome="invite",
    guest=True,
    stage="planned",
    organization="fabrikam",
    case="first",
    migration="fabrikam",
    admins=("dana@fabrikam.com",),
    invitation=INVITATION,
)
CONNECTED = replace(PLANNED, stage="users_notified")


@pytest.mark.parametrize("question", THEIR_OWN)
def test_the_askers_own_missing_invitation_is_recognised(question: str) -> None:
    assert missing_invitation(question)


@pytest.mark.parametrize("question", NOT_THEIR_OWN)
def test_someone_elses_invitation_or_an_invite_setting_is_not(question: str) -> None:
    assert not missing_invitation(question)


def test_a_sent_invitation_is_named_by_its_date_address_and_sender(answerer: FaqAnswerer) -> None:
    for question in THEIR_OWN:
        answer = answerer.answer(question, PLANNED)
        assert answer.topic == "email-not-found" and not answer.framed, question
        assert answer.link == "https://learn.microsoft.com/entra/external-id/redemption-experience"
        assert answer.answer.startswith(
            "Your invitation to the directory\nYour invitation was sent on 27 November 2026 at 15:04 UTC to"
            ' erin.eng@gmail.com. It comes from "Microsoft Invitations on behalf of" the company, subject'
            ' "... invited you to collaborate with ...", with an *Accept invitation* button.\nSearch'
            ' erin.eng@gmail.com\'s mailbox for "Microsoft Invitations", in junk or spam too'
        ), question
    before = answerer.answer(THEIR_OWN[0], PLANNED).answer
    assert "https://myapps.microsoft.com/?tenantid=3c0a7f5e-8d2b-4f61-9a7c-5e4b2d1f0a11" in before
    assert "quarantine" in before and "junk or spam" in before
    assert "Until the organization is connected nothing changes" in before
    after = answerer.answer(THEIR_OWN[0], CONNECTED).answer
    assert (
        "Azure DevOps lets you in once you have accepted it: then sign in to https://dev.azure.com/fabrikam"
        in after
    )


@pytest.mark.parametrize(
    ("stage", "when"),
    [
        (
            "planned",
            "The admins send the invitations before they ask for approval to connect the organization.",
        ),
        ("inviting", "The admins are sending the invitations right now"),
        ("waiting_for_invite_settings", "waiting for the directory's invite settings to take effect"),
        ("removing", "The admins send the invitations before they ask for approval"),
        ("failed", "The admins send the invitations before they ask for approval"),
        ("awaiting_approval", "Press *Ask an admin* and the admins send it (`invite`)."),
        ("users_notified", "Press *Ask an admin* and the admins send it (`invite`)."),
        ("inviting_after_connecting", "The admins are sending the invitations right now"),
    ],
)
def test_an_invitation_not_sent_yet_is_said_so_with_when_it_will_be(
    answerer: FaqAnswerer, stage: str, when: str
) -> None:
    unsent = replace(PLANNED, stage=stage, invitation=replace(INVITATION, sent=False, sent_at=None))
    answer = answerer.answer(THEIR_OWN[0], unsent).answer
    assert answer.startswith("Your invitation to the directory\nYour invitation has not been sent yet. ")
    assert when in answer and "It goes to erin.eng@gmail.com." in answer
    assert "not sent it yet" not in answer  # said once
    connected = stage in ("users_notified", "inviting_after_connecting")
    assert (
        "The organization is connected: until you accept it, Azure DevOps refuses you" in answer
    ) is connected


def test_an_invitation_accepted_as_a_sign_in_shows_is_said_so(answerer: FaqAnswerer) -> None:
    accepted = replace(CONNECTED, invitation=replace(INVITATION, accepted=True, verified=True))
    assert answerer.answer(THEIR_OWN[0], accepted).answer.startswith(
        "Your invitation to the directory\nYou have accepted your invitation already: you signed in as"
        " erin.eng@gmail.com, a guest of Fabrikam. Just sign in to https://dev.azure.com/fabrikam with"
    )


def test_an_invitation_only_ticked_by_the_asker_is_not_stated_as_accepted(answerer: FaqAnswerer) -> None:
    ticked = replace(CONNECTED, invitation=replace(INVITATION, accepted=True))
    answer = answerer.answer(THEIR_OWN[0], ticked).answer
    assert answer.startswith(
        "Your invitation to the directory\nYour to-do list shows *Accept the invitation* ticked: if you"
        " accepted it, just sign in to https://dev.azure.com/fabrikam with erin.eng@gmail.com"
    )
    assert "Refused? It may not be accepted after all. Open https://myapps.microsoft.com/?tenantid=" in answer
    assert "You have accepted" not in answer and "a guest of Fabrikam" not in answer


@pytest.mark.parametrize(
    ("invitation", "outcome", "their_case"),
    [
        (INVITATION, "invite", "Your invitation was sent on 27 November 2026"),
        (replace(INVITATION, sent=False, sent_at=None), "invite", "Your invitation was not sent."),
        (None, "map", "You need no invitation."),
    ],
)
def test_in_a_cancelled_migration_nothing_changes(
    answerer: FaqAnswerer, invitation: InvitationStanding | None, outcome: str, their_case: str
) -> None:
    cancelled = replace(
        PLANNED, stage="cancelled", outcome=outcome, guest=outcome != "map", invitation=invitation
    )
    answer = answerer.answer(THEIR_OWN[0], cancelled).answer
    assert answer.startswith(f"Your invitation to the directory\n{their_case}")
    assert "The migration was cancelled: nothing changes for you in Azure DevOps" in answer
    for wrong in ("Until the organization is connected", "lose access", "once you have accepted", "`invite`"):
        assert wrong not in answer


def test_while_the_admins_invite_after_connecting_a_mapped_person_signs_in_with_the_work_account(
    answerer: FaqAnswerer,
) -> None:
    mapped = replace(PLANNED, stage="inviting_after_connecting", outcome="map", guest=False, invitation=None)
    answer = answerer.answer(THEIR_OWN[0], mapped).answer
    assert "Sign in with it (the one your to-do list names)" in answer and "until then" not in answer


def test_while_removing_users_a_sent_invitation_is_before_connecting(answerer: FaqAnswerer) -> None:
    answer = answerer.answer(THEIR_OWN[0], replace(PLANNED, stage="removing")).answer
    assert "Until the organization is connected nothing changes" in answer
    assert "Azure DevOps lets you in once" not in answer


@pytest.mark.parametrize(
    ("outcome", "guest", "their_case"),
    [
        ("map", False, "You need no invitation: you have a work account in the directory"),
        ("auto", True, "You need no invitation: the plan found you already a guest of the directory"),
        (
            "disabled",
            False,
            "You get no invitation: a directory account with your address exists but is disabled",
        ),
        ("ambiguous", False, "You get no invitation: several directory accounts match your address"),
    ],
)
def test_someone_not_invited_hears_why_they_need_none(
    answerer: FaqAnswerer, outcome: str, guest: bool, their_case: str
) -> None:
    asker = replace(CONNECTED, outcome=outcome, guest=guest, invitation=None)
    assert answerer.answer(THEIR_OWN[0], asker).answer.startswith(
        f"Your invitation to the directory\n{their_case}"
    )


def test_without_the_admins_to_pass_it_to_the_reply_names_no_button(answerer: FaqAnswerer) -> None:
    answer = answerer.answer(THEIR_OWN[0], replace(PLANNED, admins=())).answer
    assert "Ask an admin" not in answer and "ask the migration admins to send it again" in answer


def test_without_the_directorys_id_no_apps_link_is_given_that_would_not_name_it(
    answerer: FaqAnswerer,
) -> None:
    # a link without the tenant signs a guest in to their own directory (Microsoft's redemption page)
    no_id = replace(PLANNED, invitation=replace(INVITATION, tenant_id=""))
    answer = answerer.answer(THEIR_OWN[0], no_id).answer
    assert "Ask the admins for Fabrikam's own apps link and accept the prompt there" in answer
    assert "https://myapps.microsoft.com," not in answer and "myapps.microsoft.com " not in answer
    anyone = answerer.answer(THEIR_OWN[0], AskerContext()).answer
    assert "https://myapps.microsoft.com/?tenantid= and its id" in anyone
    assert re.search(r"myapps\.microsoft\.com(?!/\?tenantid=)", anyone) is None


def test_near_domain_questions_keep_their_usual_answer(answerer: FaqAnswerer) -> None:
    for question in NOT_THEIR_OWN:
        for asker in (None, PLANNED):
            assert not answerer.answer(question, asker).answer.startswith("Your invitation"), question


def test_an_admins_failing_invitations_keep_their_error_codes_answer(answerer: FaqAnswerer) -> None:
    dana = replace(CONNECTED, outcome="auto", guest=False, is_admin=True, invitation=None)
    for asker in (None, PLANNED, dana):
        assert answerer.answer(INVITING_FAILED, asker).topic == "invite-403"


def test_a_long_story_without_an_asker_is_ranked_as_usual(answerer: FaqAnswerer) -> None:
    story = (
        "Our company is moving its tooling to a new tenant next week and the IT department said every"
        " external consultant would get a message, but I never got the invitation email although I checked"
        " the spam folder twice and my colleagues in the Lisbon office saw nothing either: wrong?"
    )
    assert not answerer.answer(story).answer.startswith("Your invitation")
    assert answerer.answer(story, PLANNED).answer.startswith(
        "Your invitation to the directory\nYour invitation"
    )


@pytest.mark.parametrize(
    ("invitation", "where_it_stands"),
    [
        (
            INVITATION,
            "Yours was sent on 27 November 2026 at 15:04 UTC to erin.eng@gmail.com and is not accepted",
        ),
        (
            replace(INVITATION, accepted=True, verified=True),
            "You have accepted your invitation: sign in with erin.eng@gmail.com.",
        ),
        (
            replace(INVITATION, accepted=True),
            "Your list shows your invitation ticked as accepted: sign in with erin.eng@gmail.com. Refused?"
            " Open https://myapps.microsoft.com/?tenantid=",
        ),
        (
            replace(INVITATION, sent=False, sent_at=None),
            "Your invitation has not been sent yet: press *Ask an admin*",
        ),
        (
            replace(INVITATION, sent=False, sent_at=None, unconfirmed=True, unconfirmed_at=SENT_AT),
            "Yours may have gone out to erin.eng@gmail.com on 27 November 2026 at 15:04 UTC: Microsoft did"
            ' not confirm it, and the admins are checking. Look in that mailbox for mail from "Microsoft'
            ' Invitations on behalf of" the company, subject "... invited you to collaborate with ...", in'
            " junk or spam too, and accept it. If none went out, the admins' next `invite` sends it.",
        ),
        (
            replace(
                INVITATION, sent=False, sent_at=None, unconfirmed=True, unconfirmed_at=SENT_AT, mailed=True
            ),
            'Yours went out to erin.eng@gmail.com: Microsoft sent it from "Microsoft Invitations on behalf'
            ' of" the company, subject "... invited you to collaborate with ...". Look in that mailbox, in'
            " junk or spam too, and accept it. The admins' next `invite` fetches your own link to accept it,"
            " with no second email.",
        ),
    ],
)
def test_an_invitee_locked_out_after_connecting_hears_where_her_invitation_stands(
    answerer: FaqAnswerer, invitation: InvitationStanding, where_it_stands: str
) -> None:
    answer = answerer.answer("I can't sign in anymore", replace(CONNECTED, invitation=invitation))
    assert answer.topic == "owner-locked-out" and where_it_stands in answer.answer
    mapped = replace(CONNECTED, outcome="map", guest=False, invitation=None)
    for told in ("Yours was sent", "You have accepted your invitation", "Your invitation has not been sent"):
        assert told not in answerer.answer("I can't sign in anymore", mapped).answer


def test_a_cancelled_migration_promises_no_invite_for_an_invitation_in_doubt() -> None:
    """Microsoft never confirmed Erin's invitation, and the migration was cancelled: no `invite` comes, and
    nothing changes for her (rev72 3)."""
    unconfirmed = replace(INVITATION, sent=False, sent_at=None, unconfirmed=True, unconfirmed_at=SENT_AT)
    assert why_refused(replace(CONNECTED, stage="cancelled", invitation=unconfirmed)) == (
        "Yours may have gone out: Microsoft did not confirm it. The migration was cancelled: nothing changes"
        " for you in Azure DevOps, keep signing in as you do today."
    )


WHETHER_TO_ACCEPT = (
    "should I accept the invitation?",
    "do I need to accept the invite",
    "Is it safe to accept this invitation?",
    "I got an invitation email from Microsoft, should I accept it?",
)


@pytest.mark.parametrize("question", WHETHER_TO_ACCEPT)
def test_an_invitee_asking_whether_to_accept_is_told_yes_with_their_invitation(
    answerer: FaqAnswerer, question: str
) -> None:
    """Erin, invited, got the admins' invite settings topic (`invite-propagation`) for "should I accept"."""
    answer = answerer.answer(question, PLANNED)
    assert answer.topic == "email-not-found", (question, answer.topic)
    lines = answer.answer.splitlines()
    assert lines[1].startswith("Yes, accept it, with the address it went to")
    assert lines[2].startswith(
        "Your invitation was sent on 27 November 2026 at 15:04 UTC to erin.eng@gmail.com"
    )


def test_someone_the_bot_does_not_know_hears_which_invitation_to_accept(answerer: FaqAnswerer) -> None:
    answer = answerer.answer("should I accept the invitation?")
    assert answer.topic == "email-not-found"
    assert answer.answer.splitlines()[1].startswith(
        'Yes, if it comes from "Microsoft Invitations on behalf of"'
    )


@pytest.mark.parametrize(
    "question",
    [
        "should I accept the invitation for our vendor?",
        "should we accept the invite settings default?",
        "should I accept the Teams meeting invite?",
        "can I accept invitations for guests, Graph says 403 Forbidden",
    ],
)
def test_someone_elses_invitation_or_a_setting_is_not_whether_to_accept_theirs(question: str) -> None:
    assert not asks_whether_to_accept(question)
