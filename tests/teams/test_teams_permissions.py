"""Installing the bot for people needs the Graph permission Microsoft's table names as least privileged:
the table (vendored) is the permission list's, the sandbox refuses without it in Microsoft's words, and
`doctor` names it with the fix."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.doctor import teams_checks
from bot.teams.connector import TeamsApi, TeamsApiError
from bot.teams.settings import TeamsSettings
from msapi import Router, permissions
from sandbox import Sandbox
from sandbox._permissions import GRAPH_PERMISSIONS
from sandbox._scenario import parse_scenario
from storage import Database, open_database
from tests.teams.conftest import APP_ID

PUBLISHED = Path(__file__).parents[1] / "msapi" / "published" / "graph"
INSTALL = "POST /users/{id}/teamwork/installedApps"


def _published_application_row() -> tuple[str, list[str]]:
    table = (PUBLISHED / "userteamwork-post-installedapps-permissions.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("|Application|"))
    _, least, higher = row.strip("|").split("|")
    return least.strip(), [name.strip() for name in higher.split(",")]


def test_the_permission_is_microsoft_s_least_privileged_one() -> None:
    least, higher = _published_application_row()
    install = permissions.TEAMS_APP_INSTALLATION
    assert (install.name, install.calls) == (least, INSTALL)
    assert sorted(install.also_accepted) == sorted(higher)
    application, _ = GRAPH_PERMISSIONS[("POST", "users/{id}/teamwork/installedApps")]
    assert application == {least, *higher}  # the sandbox grants exactly what Microsoft's table lists


def _scenario(fabrikam: dict[str, Any], without: str) -> dict[str, Any]:
    roles = [p.name for p in (*permissions.APP_PERMISSIONS, *permissions.TEAMS_APP_PERMISSIONS)]
    fabrikam["credentials"] = {"graph_app_roles": [name for name in roles if name != without]}
    return fabrikam


@contextmanager
def _opened(url: str) -> Iterator[Database]:
    database = open_database(url)
    try:
        yield database
    finally:
        database.dispose()


def _install(box: Sandbox, database: Database) -> TeamsApiError | None:
    tenant = str(box.state()["tenant"]["id"])
    httpx.post(f"{box.url}/_sandbox/teams/bot", json={"endpoint": "http://127.0.0.1:9/", "appId": APP_ID})
    user = next(u for u in box.state()["tenant"]["users"] if u["userPrincipalName"] == "gus@fabrikam.com")

    async def install() -> TeamsApiError | None:
        api = TeamsApi(TeamsSettings(APP_ID, "sandbox-secret", tenant, sandbox_url=box.url), database)
        try:
            await api.install_for(str(user["id"]))
        except TeamsApiError as error:
            return error
        finally:
            await api.aclose()
        return None

    return asyncio.run(install())


@pytest.mark.parametrize("without", [p.name for p in permissions.TEAMS_APP_PERMISSIONS])
def test_without_it_the_install_is_refused_as_graph_refuses_and_doctor_names_it(
    fabrikam: dict[str, Any], without: str, sqlite_url: str
) -> None:
    with Sandbox(parse_scenario(_scenario(fabrikam, without))) as box, _opened(sqlite_url) as database:
        error = _install(box, database)
        assert error is not None and (error.status, error.code) == (403, "Forbidden")
        tenant = str(box.state()["tenant"]["id"])
        environ = {"TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": "sandbox-secret", "TEAMS_TENANT_ID": tenant}
        [settings, check] = teams_checks(environ, router=Router(box.url))
    assert settings.status == "pass"
    assert check.status == "fail" and without in check.message
    assert f"Application permissions > {without}" in check.fix and "$TEAMS_APP_ID" in check.fix


def test_the_refusal_has_microsoft_s_body(fabrikam: dict[str, Any]) -> None:
    """`{"error": {"code": "Forbidden", "message": "Missing role permissions on the request. API requires
    one of '...'. Roles on the request '...'."}}`, as Graph answers for `teamwork/installedApps`."""
    with Sandbox(parse_scenario(_scenario(fabrikam, permissions.TEAMS_APP_INSTALLATION.name))) as box:
        tenant = str(box.state()["tenant"]["id"])
        form = {
            "grant_type": "client_credentials",
            "client_id": APP_ID,
            "client_secret": "s",
            "scope": "https://graph.microsoft.com/.default",
        }
        token = httpx.post(f"{box.url}/login.microsoftonline.com/{tenant}/oauth2/v2.0/token", data=form)
        answer = httpx.post(
            f"{box.url}/graph.microsoft.com/v1.0/users/gus@fabrikam.com/teamwork/installedApps",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            json={"teamsApp@odata.bind": "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/x"},
        )
    assert answer.status_code == 403
    error = json.loads(answer.text)["error"]
    assert error["code"] == "Forbidden"
    assert error["message"].startswith("Missing role permissions on the request. API requires one of '")
    assert "TeamsAppInstallation.ReadWriteSelfForUser.All" in error["message"]
    assert "Roles on the request '" in error["message"] and "User.Read.All" in error["message"]


def test_with_it_doctor_passes(fabrikam: dict[str, Any], sqlite_url: str) -> None:
    with Sandbox(parse_scenario(_scenario(fabrikam, ""))) as box, _opened(sqlite_url) as database:
        assert _install(box, database) is None
        tenant = str(box.state()["tenant"]["id"])
        environ = {"TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": "sandbox-secret", "TEAMS_TENANT_ID": tenant}
        assert [c.status for c in teams_checks(environ, router=Router(box.url))] == ["pass", "pass"]
