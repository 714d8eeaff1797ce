"""`Sandbox.save` and `restore`: the world as it was at a moment, served again as often as asked."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox import Sandbox, parse_scenario

ORG = "fabrikam-fiber"


def _token(box: Sandbox) -> str:
    response = httpx.post(
        f"{box.url}/login.microsoftonline.com/fabrikam.com/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "app",
            "client_secret": "s",
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _me(box: Sandbox, token: str) -> int:
    """The status of a Graph call with `token`: 200 while the sandbox knows it, 401 once it does not."""
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{box.url}/graph.microsoft.com/v1.0/users", headers=headers).status_code


def _invite(box: Sandbox, token: str, email: str) -> None:
    httpx.post(
        f"{box.url}/graph.microsoft.com/v1.0/invitations",
        headers={"Authorization": f"Bearer {token}"},
        json={"invitedUserEmailAddress": email, "inviteRedirectUrl": "https://dev.azure.com"},
    ).raise_for_status()


def test_a_restore_serves_the_saved_world_again_however_it_changed_since(box: Sandbox) -> None:
    token = _token(box)
    _invite(box, token, "erin.eng@gmail.com")
    box.connect(ORG, str(box.state()["tenant"]["id"]))
    box.set_faults(sequence=[500, 429], hosts=["graph.microsoft.com"])
    saved, saved_world, saved_counts = box.save(), box.state(), box.request_counts()

    assert (_me(box, token), _me(box, token)) == (500, 429)  # the faults are drawn
    _invite(box, token, "someone.else@example.com")
    box.connect(ORG, "00000000-0000-0000-0000-000000000000")
    box.revoke_tokens()
    assert box.state() != saved_world and _me(box, token) == 401

    for _ in range(2):  # the snapshot is not changed by what the restored world does
        box.restore(saved)
        assert box.state() == saved_world
        assert box.request_counts() == saved_counts
        assert _me(box, token) == 500  # the token issued before saving works again, faults drawn anew
        assert _me(box, token) == 429
        assert _me(box, token) == 200
        box.connect(ORG, "00000000-0000-0000-0000-000000000000")


def test_a_snapshot_restores_into_another_sandbox_on_that_ones_clock(fabrikam: dict[str, Any]) -> None:
    now = [1_000_000.0]
    with Sandbox(parse_scenario(fabrikam)) as first:
        token = _token(first)
        saved = first.save()
        with Sandbox(parse_scenario(fabrikam), clock=lambda: now[0]) as other:
            other.restore(saved)
            assert other.state() == first.state()
            assert _me(other, token) == 200
            now[0] = 10_000_000_000.0  # long after the token's expiry, on the other sandbox's clock
            assert _me(other, token) == 401
            assert _me(first, token) == 200


def test_a_reset_after_a_restore_goes_back_to_the_scenario_the_snapshot_came_from(
    fabrikam: dict[str, Any],
) -> None:
    renamed = {**fabrikam, "tenant": {**fabrikam["tenant"], "displayName": "Fabrikam Renamed"}}
    with Sandbox(parse_scenario(renamed)) as first, Sandbox(parse_scenario(fabrikam)) as other:
        first.connect(ORG, str(renamed["tenant"]["id"]))
        other.restore(first.save())
        other.reset()
        assert other.state() == parse_scenario(renamed).data
