"""A rejected token is dropped and replaced once; the run goes on (issue: 34 invitations failed in a row)."""

from __future__ import annotations

from typing import Any

import pytest

from msapi import AppCredential, HttpSession, MicrosoftClients, Router
from sandbox import Sandbox
from workflows.directory import MicrosoftError

ORG = "fabrikam-fiber"


def _clients(box: Sandbox, sessions: list[HttpSession]) -> MicrosoftClients:
    session = HttpSession(Router(box.url), sleep=lambda _: None)
    sessions.append(session)
    return MicrosoftClients(session, pat="pat", app=AppCredential("app", client_secret="secret"))


def test_invalid_authentication_token_gets_one_new_token_and_the_call_succeeds(
    box: Sandbox, sessions: list[HttpSession]
) -> None:
    clients = _clients(box, sessions)
    tenant = clients.tenant("fabrikam.com").id
    clients.allow_invites_from(tenant)  # msal now caches a token for this tenant
    box.request_counts(reset=True)
    box.revoke_tokens()  # Entra revoked every token msal still holds in its cache
    options = {
        "display_name": "Zed",
        "message": "Join",
        "redirect_url": "https://dev.azure.com/x",
        "inviter": "x",
    }
    for index in range(3):
        invitation = clients.invite_guest(tenant, email=f"zed{index}@gmail.com", **options)
        assert invitation.invited_user_id
    counts = box.request_counts()
    assert counts["login.microsoftonline.com"] == 1  # one new token, then reused
    assert counts["graph.microsoft.com"] == 4  # the refused call, its retry, two more


def test_a_token_rejected_twice_is_an_error_not_a_loop(
    box: Sandbox, sessions: list[HttpSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = _clients(box, sessions)
    tenant = clients.tenant("fabrikam.com").id
    clients.allow_invites_from(tenant)
    from sandbox import _common

    real = _common.bearer

    def always_rejected(state: Any, call: Any, audience: str) -> Any:
        state.tokens.clear()
        return real(state, call, audience)

    monkeypatch.setattr("sandbox._graph.bearer", always_rejected)
    box.request_counts(reset=True)
    with pytest.raises(MicrosoftError, match="InvalidAuthenticationToken"):
        clients.allow_invites_from(tenant)
    assert box.request_counts()["graph.microsoft.com"] == 2


@pytest.mark.parametrize("name", ["..", ".", " "])
def test_dot_segments_never_reach_a_microsoft_url(
    box: Sandbox, sessions: list[HttpSession], name: str
) -> None:
    clients = _clients(box, sessions)
    box.request_counts(reset=True)
    with pytest.raises(MicrosoftError, match="cannot name anything"):
        clients.remove_org_user(ORG, name)
    with pytest.raises(MicrosoftError, match="cannot name anything"):
        clients.org_users(name)
    assert box.request_counts() == {}
