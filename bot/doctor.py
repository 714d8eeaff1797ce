"""`aadbot doctor --org ORG --tenant TENANT [--json]`: the configured credentials, checked before a migration.

The Microsoft checks come from `msapi` (the same ones `start` runs in chat); this adds the chat side:
the Slack bot token's scopes (`auth.test`'s `x-oauth-scopes`) against `manifest.yml`, and the Teams
settings when `TEAMS_APP_ID` is set. Exit 0 when no check fails, 1 when one does, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import httpx
import jwt
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import operator_log
from bot.teams.settings import TeamsSettings
from msapi import Router, permissions, tls_context
from msapi._auth import granted
from workflows.arguments import ArgumentError, organization_name, tenant_name
from workflows.directory import MicrosoftError
from workflows.plan import Check

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"
_MARK = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check, read-only, that the configured credentials can do everything the migration needs",
        description="Read-only preflight: one check per capability (Azure DevOps, Microsoft Graph, Azure "
        "Resource Manager, Slack, Teams). A missing permission names itself and how to grant it.",
    )
    parser.add_argument("--org", metavar="ORG", required=True, help="the Azure DevOps organization")
    parser.add_argument("--tenant", metavar="TENANT", required=True, help="tenant id or verified domain")
    parser.add_argument("--json", action="store_true", help='print {"checks": [...]}')
    parser.set_defaults(run=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from msapi import from_environment

    try:
        organization, tenant = organization_name(args.org), tenant_name(args.tenant)
    except ArgumentError as error:
        print(f"aadbot doctor: {error}", file=sys.stderr)
        return 2
    try:
        clients = from_environment(os.environ)
    except MicrosoftError as error:
        print(f"aadbot doctor: {error}", file=sys.stderr)
        return 2
    emulated = operator_log.emulator(
        os.environ.get("AADBOT_SANDBOX", "").strip(), os.environ.get("AADBOT_SANDBOX_URL", "").strip()
    )
    # First, as `serve` logs it: every check below passing says nothing about Microsoft then.
    checks = [Check("emulator", "warn", f"EMULATOR: {emulated}.")] if emulated else []
    with clients:
        checks += clients.doctor(organization, tenant)
        checks += slack_checks(os.environ) + teams_checks(os.environ, router=clients.session.router)
    if args.json:
        payload = {
            "checks": [
                {"code": c.code, "status": c.status, "message": c.message, "fix": c.fix} for c in checks
            ]
        }
        print(json.dumps(payload, indent=2))
    else:
        for check in checks:
            print(f"{_MARK[check.status]} {check.code}: {check.message}")
    return 1 if any(check.status == "fail" for check in checks) else 0


def manifest_scopes(path: Path = MANIFEST) -> tuple[str, ...]:
    """The bot token scopes `manifest.yml` asks for."""
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(manifest["oauth_config"]["scopes"]["bot"])


def slack_checks(environ: Mapping[str, str], manifest: Path = MANIFEST) -> list[Check]:
    """`slack-scopes`: the bot token holds every scope of the manifest; without a token, a warning that
    Slack was not checked (`serve` runs the Slack app), never silence that reads as nothing to check;
    unless the bot is set up for Teams alone, where there is no Slack app to check."""
    token = environ.get("SLACK_BOT_TOKEN", "").strip()
    if not token and environ.get("TEAMS_APP_ID", "").strip():
        teams_only = "Slack is not set up (no SLACK_BOT_TOKEN): the bot runs in Teams."
        return [Check("slack-scopes", "pass", teams_only)]
    if not token:
        return [
            Check(
                "slack-scopes",
                "warn",
                "Slack was not checked: SLACK_BOT_TOKEN is not set.",
                fix="Set SLACK_BOT_TOKEN to the Bot User OAuth Token (api.slack.com/apps > your app > OAuth &"
                " Permissions) to check its scopes against manifest.yml.",
            )
        ]
    base = environ.get("SLACK_API_URL", "").strip() or "https://slack.com/api/"
    client = WebClient(token=token, base_url=base.rstrip("/") + "/", timeout=10)
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        reason = error.response.get("error") if error.response is not None else "no answer"
        return [
            Check(
                "slack-scopes",
                "fail",
                f"Slack refused the bot token in auth.test ({reason}).",
                fix="Copy the Bot User OAuth Token from api.slack.com/apps > your app > OAuth & Permissions "
                "into SLACK_BOT_TOKEN.",
            )
        ]
    except OSError as error:
        return [Check("slack-scopes", "warn", f"Slack did not answer auth.test ({type(error).__name__}).")]
    header = next((v for k, v in answer.headers.items() if k.lower() == "x-oauth-scopes"), None)
    if header is None:
        return [Check("slack-scopes", "warn", "Slack's auth.test did not say which scopes the token holds.")]
    held = {scope.strip() for scope in str(header).split(",") if scope.strip()}
    missing = [scope for scope in manifest_scopes(manifest) if scope not in held]
    if missing:
        return [
            Check(
                "slack-scopes",
                "fail",
                f"The Slack bot token lacks the scope(s) {', '.join(missing)} that manifest.yml asks for.",
                fix="api.slack.com/apps > your app > OAuth & Permissions > Bot Token Scopes: add "
                f"{', '.join(missing)}, then reinstall the app to the workspace.",
            )
        ]
    return [Check("slack-scopes", "pass", f"The Slack bot token holds the manifest's {len(held)} scopes.")]


def teams_checks(environ: Mapping[str, str], *, router: Router | None = None) -> list[Check]:
    """`teams-settings`: the settings `serve` would refuse, in its words (`TeamsSettings.from_environment`,
    one code path, so the two never disagree); then `teams-graph-permissions`: the bot's own Graph token
    (its app registration, not AZURE_CLIENT_ID's) holds what installing it for people needs."""
    problems: list[str] = []
    settings = TeamsSettings.from_environment(environ, problems)
    if problems:
        return [Check("teams-settings", "fail", " ".join(problems))]
    if settings is None:
        return []
    return [
        Check("teams-settings", "pass", "Teams app id, password and tenant are set and well-formed."),
        _teams_graph_permissions(settings, router or Router()),
    ]


_TEAMS_NEEDS = (*permissions.TEAMS_APP_PERMISSIONS, permissions.USER_READ_ALL)
"""What the Teams bot's own app registration needs in Graph: install itself, find itself, read people."""


def _teams_graph_permissions(settings: TeamsSettings, router: Router) -> Check:
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.app_id,
        "client_secret": settings.password,
        "scope": "https://graph.microsoft.com/.default",
    }
    url = router.resolve(f"https://login.microsoftonline.com/{settings.tenant_id}/oauth2/v2.0/token")
    try:
        response = httpx.post(url, data=form, timeout=10, verify=tls_context())
    except httpx.HTTPError as error:
        return Check("teams-graph-permissions", "warn", f"The Teams bot's sign-in did not answer ({error}).")
    try:
        token = response.json().get("access_token") if response.status_code == 200 else None
    except ValueError:
        token = None
    if not isinstance(token, str):
        return Check(
            "teams-graph-permissions",
            "fail",
            f"The Teams bot's app registration could not sign in to Graph (HTTP {response.status_code}).",
            fix="Check TEAMS_APP_ID, TEAMS_APP_PASSWORD (a current client secret) and TEAMS_TENANT_ID.",
        )
    try:
        held = granted(jwt.decode(token, options={"verify_signature": False}))
    except jwt.PyJWTError:
        names = ", ".join(p.name for p in _TEAMS_NEEDS)
        return Check(
            "teams-graph-permissions",
            "warn",
            f"The Teams bot's Graph token does not say what it grants; make sure it holds {names}.",
        )
    lacking = [p for p in _TEAMS_NEEDS if not held & {p.name, *p.also_accepted}]
    if lacking:
        return Check(
            "teams-graph-permissions",
            "fail",
            "The Teams bot's app registration lacks the Microsoft Graph application permission(s) "
            f"{', '.join(p.name for p in lacking)}: it cannot install itself for people who never opened it.",
            fix=" Then: ".join(replace(p, kind="teams-graph-application").fix() for p in lacking),
        )
    return Check(
        "teams-graph-permissions",
        "pass",
        f"The Teams bot may install itself for people ({', '.join(p.name for p in _TEAMS_NEEDS)}).",
    )
