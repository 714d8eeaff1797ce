"""Deleting the directory an Azure DevOps organization is connected to: the contract's `disconnect-first`
("disconnect before deleting the old one"), answered plainly for anyone, in a migration or not (issue #13,
docs/faq-eval.md round 31). Two real threads of this kind (the tenant cannot be deleted while Azure DevOps's
enterprise application is in it) were ranked to disconnecting or to a support request; the questions here are
other wordings of the kind, written for the test. Deleting a user or a group of the directory, a lab's
tenant that never names Azure DevOps, a folder (a "directory" in a repository or a pipeline), or a directory
already deleted is not this question."""

from __future__ import annotations

import pytest

from faq import AskerContext, FaqAnswerer
from faq._deleting import asks_about_deleting_its_directory
from faq._reading import read

ORG = "fabrikam-fiber"
IN_THE_MIGRATION = AskerContext(
    outcome="map", stage="users_notified", organization=ORG, migration=ORG, case="switch"
)
DISCONNECT_FIRST = (
    "Moving to a different directory: disconnect first To move an organization that is already connected to"
    " another directory: disconnect it from the original directory BEFORE you delete that directory (deleting"
    " it first locks everyone out)."
)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    "question",
    [
        "We can't delete our old tenant: it still has the Azure DevOps enterprise application in it.",
        "Deleting the old Azure AD fails because VSTS is still registered there. What do we do?",
        "The tenant cannot be deleted while the Visual Studio Team Services app is in it",
        "Can we delete the old directory now that our Azure DevOps organization is on the new tenant?",
        "Our Azure DevOps organization moved to Entra. Is it safe to delete the company directory now?",
    ],
)
def test_deleting_the_directory_azure_devops_is_in_is_disconnect_first_for_anyone(
    answerer: FaqAnswerer, question: str
) -> None:
    for asker in (AskerContext(), IN_THE_MIGRATION):
        answer = answerer.answer(question, asker)
        assert (answer.topic, answer.framed) == ("disconnect-first", False), (question, asker)
        assert flat(answer.answer).startswith(DISCONNECT_FIRST), (question, asker)


@pytest.mark.parametrize(
    "question",
    [
        "How do I delete a user from Azure AD so they lose access to Azure DevOps?",
        "How do I delete the directory groups that Azure DevOps uses?",
        "I can't delete the tenant I created for a lab, it says to remove enterprise apps first",
        "Our Azure DevOps pipelines broke after we switched tenants. We deleted the old directory last week."
        " How do we fix the service connections?",
        "How do I delete a tenant-level policy in Azure DevOps?",
        # rev48: a folder, in a repository or a pipeline's workspace
        "How do I delete a directory in my Azure DevOps repo?",
        "Azure DevOps pipeline: how to delete the directory before checkout?",
        "how to delete a directory from azure devops git",
        "Is there a way to delete the old directory from the build agent in Azure DevOps?",
        # rev48: done already, by accident: too late to disconnect first
        "We deleted the old Azure AD tenant by accident; our Azure DevOps organization is inaccessible.",
    ],
)
def test_deleting_something_else_or_in_passing_is_not_this_question(question: str) -> None:
    """A user, a group or a setting of the directory, a tenant with no Azure DevOps named, a deletion told on
    the way to another question, a folder, or a deletion already done (which the ranker answers as before)."""
    for inside in (False, True):
        assert not asks_about_deleting_its_directory(read(question, in_azure_devops=inside)), question


def test_a_lab_tenant_that_will_not_delete_stays_declined(answerer: FaqAnswerer) -> None:
    question = "I can't delete the tenant I created for a lab, it says to remove enterprise apps first"
    for asker in (AskerContext(), IN_THE_MIGRATION):
        assert answerer.answer(question, asker).topic is None, asker
