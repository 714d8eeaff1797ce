"""An invitation whose answer never came (Graph timed out after doing it), through `MicrosoftClients` and
the sandbox's Graph over loopback HTTP: the next `invite` finds the guest Graph made, fetches their link
without a second email, and records the invitation as the bot's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import select

from msapi import AppCredential, HttpSession, MicrosoftClients, Router
from sandbox import Sandbox
from storage import Database, Invitation
from workflows.results import Actor
from workflows.service import MigrationService

ORG = "fabrikam-fiber"
ERIN = "erin.eng@gmail.com"
"""On Microsoft accounts, not in the directory: the plan invites her."""
DANA = Actor(id="U-DANA", email="dana@fabrikam.com", name="Dana")


class ErinsAnswersLost(httpx.BaseTransport):
    """Loopback HTTP to the sandbox, save Erin's invitations: the first is refused (an answer: Graph did
    nothing), the second reaches Graph, which invites her, and its answer never comes back (a read
    timeout); later ones pass."""

    def __init__(self) -> None:
        self._through = httpx.HTTPTransport()
        self.erins = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        invitation = request.method == "POST" and request.url.path.endswith("/v1.0/invitations")
        if not invitation or json.loads(request.content)["invitedUserEmailAddress"] != ERIN:
            return self._through.handle_request(request)
        self.erins += 1
        if self.erins == 1:
            refusal = {"error": {"code": "BadRequest", "message": "The invitation could not be sent."}}
            return httpx.Response(400, json=refusal)
        response = self._through.handle_request(request)
        response.read()
        if self.erins == 2:
            raise httpx.ReadTimeout("timed out", request=request)
        return response

    def close(self) -> None:
        self._through.close()


@pytest.fixture
def service(box: Sandbox, database: Database) -> Iterator[MigrationService]:
    session = HttpSession(Router(box.url), sleep=lambda seconds: None, transport=ErinsAnswersLost())
    with MicrosoftClients(session, pat="pat", app=AppCredential("app-id", client_secret="secret")) as clients:
        yield MigrationService(database, clients, clock=lambda: datetime.now(UTC))


def _erins(box: Sandbox) -> list[dict[str, object]]:
    invitations = box.state()["tenant"].get("invitations", [])
    return [invitation for invitation in invitations if invitation["invitedUserEmailAddress"] == ERIN]


def test_a_refused_invitation_whose_retry_timed_out_gets_its_link_and_one_email(
    service: MigrationService, box: Sandbox, database: Database
) -> None:
    service.start(ORG, "fabrikam.com", DANA)
    service.invite(None, DANA)  # refused
    retried = service.invite(None, DANA)  # Graph invites her; the answer never comes
    assert [outcome.status for outcome in retried.outcomes if outcome.email == ERIN] == ["unanswered"]
    assert [invitation["sendInvitationMessage"] for invitation in _erins(box)] == [True]

    service.invite(None, DANA)

    assert [invitation["sendInvitationMessage"] for invitation in _erins(box)] == [True, False]
    with database.session() as session:
        erin = session.exec(select(Invitation).where(Invitation.email == ERIN)).one()
    assert (erin.status, erin.redeem_url) == ("sent", _erins(box)[1]["inviteRedeemUrl"])
