"""Saying "I can't sign in anymore" when the organization is not connected yet: the move has not changed
their sign-in, so the reply says where the migration stands and what usually causes it instead; while the
admin is clicking Connect, that it may be the switch itself. Outside any migration it is still declined."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from faq import AskerContext, FaqAnswerer
from workflows.results_standing import Announcement, InvitationStanding

# Written before the bot was asked any of them.
CANNOT_SIGN_IN = (
    "I can't sign in anymore",
    "I cannot log in to Azure DevOps",
    "it won't let me log in",
    "I'm locked out of dev.azure.com",
    "I can no longer access the organization",
    "we can't get into our project since this morning",
    "I am unable to sign in to the org",
    "I lost my access to ADO",
)
SOMETHING_ELSE = (
    "Git can't sign in anymore",
    "I can't sign in to Visual Studio",
    "Visual Studio says I can't sign in",
    "I can't log in to Teams",
    "I can't sign in to my laptop anymore",
    "git push asks me to sign in again and again",
    "how do I sign in after the change",
    "my colleague can't sign in",
    "I can't sign in to the Azure portal",
    "we can't log in with SSH since yesterday",
    "I can't sign in in VS",
    "I can't sign in from Rider",
    "I can't sign in from IntelliJ",
    "az login fails, I can't sign in",
    "I can't sign in to the Azure DevOps CLI",
    "Eclipse says I can't log in",
    "I can't sign in from Xcode",
)
BEFORE_CONNECTING = {
    "draft": "the admins are checking its prerequisites",
    "checking_prerequisites": "the admins are checking its prerequisites",
    "planned": "the admins have made the plan",
    "blocked": "the admins are fixing a prerequisite",
    "inviting": "the admins are inviting guests to the directory",
    "waiting_for_invite_settings": "the admins are waiting for the directory's invite settings",
    "removing": "the admins are removing users who no longer need access",
    "awaiting_approval": "the admins are waiting for an approval to connect it",
    "failed": "a step failed and waits for the admins to resume it",
}
KIM = AskerContext(
    outcome="auto",
    stage="planned",
    organization="fabrikam",
    case="first",
    migration="fabrikam",
    admins=("dana@fabrikam.com",),
    signs_in_as="kim@fabrikam.com",
)
NOT_CHANGED = "Your sign-in has not changed"
LOCKED_OUT = "Locked out right after connecting or switching the directory"
TROUBLESHOOTING = (
    "Microsoft's page: https://learn.microsoft.com/en-us/azure/devops/user-guide/troubleshoot-connection"
)
INVITATION = InvitationStanding(
    address="erin.eng@gmail.com",
    directory="Fabrikam",
    tenant_id="3c0a7f5e-8d2b-4f61-9a7c-5e4b2d1f0a11",
    sent=True,
    sent_at=datetime(2026, 11, 27, 15, 4, tzinfo=UTC),
)
ERIN = replace(KIM, outcome="invite", guest=True, signs_in_as="erin.eng@gmail.com", invitation=INVITATION)


@pytest.mark.parametrize(("stage", "where_it_stands"), BEFORE_CONNECTING.items())
def test_before_connecting_the_reply_says_the_move_has_not_changed_the_sign_in(
    answerer: FaqAnswerer, stage: str, where_it_stands: str
) -> None:
    for question in CANNOT_SIGN_IN:
        answer = answerer.answer(question, replace(KIM, stage=stage))
        assert answer.topic == "owner-locked-out" and not answer.framed, (question, answer.answer)
        lines = answer.answer.splitlines()
        assert lines[:2] == [
            NOT_CHANGED,
            "The move has not changed your sign-in: fabrikam is not connected to the new directory yet"
            f" ({where_it_stands}; no date is announced yet). Until then you sign in to"
            " https://dev.azure.com/fabrikam as today, with kim@fabrikam.com.",
        ], question
        assert lines[2] == "What usually causes it instead:"
        assert TROUBLESHOOTING in lines and answer.link == TROUBLESHOOTING.removeprefix("Microsoft's page: ")
        assert lines[-1].startswith("To reach a person, press *Ask an admin*"), lines[-1]


def test_what_usually_causes_it_is_said_with_the_askers_own_address(answerer: FaqAnswerer) -> None:
    answer = answerer.answer(CANNOT_SIGN_IN[0], KIM).answer
    for cause in (
        "- Another account signed in to the browser: sign out everywhere (https://aka.ms/VsSignout), open a"
        " private window and sign in with kim@fabrikam.com.",
        "- Asked to choose between a work or school account and a personal account: choose the personal"
        " account, the Microsoft account you have used so far.",
        "- A forgotten password or a lost second factor: reset it where the account lives (a Microsoft"
        " account: https://account.live.com/password/reset), not in Azure DevOps.",
        "- Removed from the organization, or your access level changed: an admin can check it under"
        " Organization settings > Users.",
    ):
        assert cause in answer.splitlines(), cause


def told(to_them: str | None, latest: str | None, *, passed: bool = False) -> AskerContext:
    return replace(KIM, announcement=lambda: Announcement(to_them, latest, passed))


def test_the_announced_date_is_named_and_a_switch_keeps_the_current_directorys_account(
    answerer: FaqAnswerer,
) -> None:
    announced = answerer.answer(CANNOT_SIGN_IN[0], told("Friday 14:00 UTC", "Friday 14:00 UTC")).answer
    assert "(the admins have made the plan; it is announced for Friday 14:00 UTC)" in announced
    undated = answerer.answer(CANNOT_SIGN_IN[0], told("", "")).answer
    assert "(the admins have made the plan; it is announced, with no date yet)" in undated
    switching = answerer.answer(CANNOT_SIGN_IN[0], replace(KIM, case="switch")).answer
    assert "personal account" not in switching
    assert (
        "- A forgotten password or a lost second factor: reset it where the account lives (your current"
        " directory's help desk), not in Azure DevOps."
    ) in switching.splitlines()


def test_a_date_announced_that_never_reached_the_asker_or_is_past_is_not_no_date(
    answerer: FaqAnswerer,
) -> None:
    unreached = answerer.answer(CANNOT_SIGN_IN[0], told(None, "Monday 09:00 UTC")).answer
    assert (
        "(the admins have made the plan; it is announced for Monday 09:00 UTC, but no notice of it reached"
        " you)"
    ) in unreached
    past = answerer.answer(CANNOT_SIGN_IN[0], told("2026-11-06", "2026-11-06", passed=True)).answer
    assert (
        "(the admins have made the plan; it was announced for 2026-11-06; that day is past, so ask an admin"
        " for the new date)"
    ) in past
    for answer in (unreached, past):
        assert "no date is announced yet" not in answer


def test_the_date_is_read_only_by_a_reply_that_names_it(answerer: FaqAnswerer) -> None:
    read: list[str] = []

    def announcement() -> Announcement:
        read.append("read")
        return Announcement("Friday 14:00 UTC", "Friday 14:00 UTC")

    asker = replace(KIM, announcement=announcement)
    answerer.answer("how do I clear the git credential cache?", asker)
    answerer.answer("I can't sign in to Visual Studio", asker)
    assert read == []
    answerer.answer(CANNOT_SIGN_IN[0], asker)
    assert read == ["read"]


def test_an_asker_the_plan_does_not_name_is_told_so_and_sent_to_an_admin_at_any_stage(
    answerer: FaqAnswerer,
) -> None:
    removed = replace(KIM, outcome=None, signs_in_as="", off_the_plan=True)
    for stage in ("planned", "removing", "awaiting_approval", "connecting", "users_notified"):
        for question in CANNOT_SIGN_IN:
            answer = answerer.answer(question, replace(removed, stage=stage)).answer
            lines = answer.splitlines()
            assert lines[:2] == [
                "The migration's plan does not name you",
                "The plan for moving fabrikam to the new directory does not name you: you were not one of its"
                " Azure DevOps users when it was made, or the admins removed you from it (for example as"
                " inactive). So I cannot tell what you sign in with. If you should have access, an admin can"
                " add you again under Organization settings > Users.",
            ], (stage, question)
            assert lines[-1].startswith("To reach a person, press *Ask an admin*"), lines[-1]
            assert "has not changed" not in answer


def test_before_a_plan_exists_an_unnamed_asker_signs_in_as_today_with_their_own_account(
    answerer: FaqAnswerer,
) -> None:
    channel_member = replace(KIM, outcome=None, signs_in_as="", stage="checking_prerequisites")
    answer = answerer.answer(CANNOT_SIGN_IN[0], channel_member).answer
    assert (
        "Until then you sign in to https://dev.azure.com/fabrikam as today, with the account you use now."
        in (answer)
    )


def test_an_admin_is_told_to_check_a_removal_not_to_ask_an_admin(answerer: FaqAnswerer) -> None:
    answer = answerer.answer(CANNOT_SIGN_IN[0], replace(KIM, is_admin=True)).answer
    assert (
        "- Removed from the organization, or your access level changed: check it under Organization"
        " settings > Users."
    ) in answer.splitlines()
    assert "an admin can check it" not in answer


def test_an_invitees_trouble_accepting_her_invitation_is_her_invitations_case(answerer: FaqAnswerer) -> None:
    erins = "Your invitation was sent on 27 November 2026 at 15:04 UTC to erin.eng@gmail.com."
    for stage in ("inviting", "awaiting_approval", "connecting", "users_notified"):
        for question in (
            "I can't accept the invitation, it won't let me sign in",
            "the invite won't let me sign in",
            "I clicked accept invitation but I still can't sign in",
        ):
            answer = answerer.answer(question, replace(ERIN, stage=stage)).answer
            assert answer.startswith(f"Your invitation to the directory\n{erins}"), (stage, question, answer)
            assert NOT_CHANGED not in answer
    for_kim = answerer.answer("I can't accept the invitation, it won't let me sign in", KIM).answer
    assert "Your invitation was sent" not in for_kim


def test_once_connect_is_approved_each_hears_to_sign_in_as_today_until_told_and_how_after(
    answerer: FaqAnswerer,
) -> None:
    cases = {
        replace(KIM, outcome="map"): "You have a work account in the directory: sign in with it",
        ERIN: "Yours was sent on 27 November 2026 at 15:04 UTC to erin.eng@gmail.com and is not accepted",
        replace(KIM, outcome="ambiguous"): "Waiting for a decision: several directory accounts match",
    }
    for asker, their_case in cases.items():
        opening = (
            "Connecting fabrikam to the new directory is approved, and an admin makes the switch in its"
            " settings. Until I send you your to-do list, which says it is connected, sign in to"
            f" https://dev.azure.com/fabrikam as today, with {asker.signs_in_as}. Once it is connected,"
            " sign in as below: only members or guests of the new directory get in, and a guest keeps signing"
            " in with their own address."
        )
        for question in CANNOT_SIGN_IN:
            answer = answerer.answer(question, replace(asker, stage="connecting"))
            assert answer.topic == "owner-locked-out" and not answer.framed, question
            lines = answer.answer.splitlines()
            assert lines[:2] == [LOCKED_OUT, opening], question
            assert "wait a few minutes" not in answer.answer.casefold()
            assert their_case in answer.answer, (question, answer.answer)


def test_outside_any_migration_and_without_the_asker_aware_choices_it_is_still_declined(
    answerer: FaqAnswerer,
) -> None:
    blind = FaqAnswerer(asker_aware=False)
    for question in CANNOT_SIGN_IN[:2]:  # the general ones; the others name nothing the topics know
        assert answerer.answer(question).topic is None, question
        assert blind.answer(question, KIM).topic is None, question
    unknown_stage = replace(KIM, stage="cancelled")
    assert NOT_CHANGED not in answerer.answer(CANNOT_SIGN_IN[0], unknown_stage).answer


@pytest.mark.parametrize("stage", ["planned", "connecting"])
def test_sign_in_trouble_of_another_application_or_device_is_not_taken_for_the_askers_own(
    answerer: FaqAnswerer, stage: str
) -> None:
    for asker in (replace(KIM, stage=stage), replace(ERIN, stage=stage)):
        for question in SOMETHING_ELSE:
            answer = answerer.answer(question, asker).answer
            assert not answer.startswith((NOT_CHANGED, f"{LOCKED_OUT}\nThe admins are connecting")), question


def test_a_long_story_names_its_own_subject(answerer: FaqAnswerer) -> None:
    story = (
        "Since Monday our build agents on the old Windows Server machines fail to check out the repository,"
        " and I can't sign in to the agent's web page either; the firewall team changed the proxy rules last"
        " week and the certificates were renewed, so which of these should I look at first?"
    )
    assert not answerer.answer(story, KIM).answer.startswith(NOT_CHANGED)
