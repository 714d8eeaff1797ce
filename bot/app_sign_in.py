"""`serve`'s start: the bot's app registration signs in to Microsoft Entra ID once, before serving.

A credential Entra refuses outright (a wrong AZURE_CLIENT_ID, a secret expired or copied by its id, the app
disabled or blocked in the tenant) would fail every `start` and every step in chat, each time with the same
fix. So such a refusal stops `serve` with it (SettingsError: exit 2), as a refused Slack token does, when no
migration is under way; with one, serving goes on (its to-do lists, reminders, FAQ and status need no
Entra), and the refusal is logged as an error. It needs a tenant to sign in to, which only AZURE_TENANT_ID
(or the sandbox) names: the tenant otherwise comes with each `start`, whose preflight checks the sign-in
then. No answer within `_PATIENCE` does not stop `serve` either: it may pass, and `start` checks again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.operator_log import migrations_under_way
from bot.settings import SettingsError
from msapi import MicrosoftError, SignInRefused

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("aadbot.serve")
_PATIENCE = 15.0
"""Seconds the check may take, retries and all: the port and /healthz wait for it (a hung or throttled
token endpoint would otherwise hold them for minutes)."""


def check_app_sign_in(runtime: Runtime) -> None:
    """Get a Graph token for the configured tenant; SettingsError when Entra refuses the app itself and no
    migration is under way."""
    if not runtime.microsoft.invites_as_app:
        return  # a person's device sign-in: `aadbot signin` made it, and says when it no longer works
    configured = runtime.settings.microsoft_environment.get("AZURE_TENANT_ID", "").strip()
    tenant = configured or (runtime.sandbox.tenant_id if runtime.sandbox is not None else "")
    if not tenant:
        log.info(
            "the app's sign-in to Microsoft Entra ID is checked by each `start`, not now: set AZURE_TENANT_ID"
            " to the tenant of the migration to have `serve` check it at start"
        )
        return
    try:
        with runtime.microsoft.giving_up_after(_PATIENCE):
            runtime.microsoft.graph_token_claims(tenant)
    except SignInRefused as refusal:
        # Only a Graph token is asked for here, which every refusal of it leaves nothing to work with.
        refused = _refused_at_start(refusal, tenant, from_setting=bool(configured))
        migrating = migrations_under_way(runtime.database)()
        if not migrating:
            raise SettingsError(refused) from None
        log.error(
            "%s Serving goes on for the %d migration(s) under way, whose steps wait for it.",
            refused,
            migrating,
        )
    except MicrosoftError as error:
        log.warning(
            "the app's sign-in to Microsoft Entra ID did not succeed at start (%s): serving goes on, and"
            " each `start` checks it again",
            error,
        )


def _refused_at_start(refusal: SignInRefused, tenant: str, *, from_setting: bool) -> str:
    """The refusal, and what it stops: a refusal by the tenant stops that tenant's migrations, which a wrong
    AZURE_TENANT_ID would make of every one."""
    if not refusal.by_tenant:
        return f"{refusal} Nothing can be migrated until then."
    source = (
        " (tenant from AZURE_TENANT_ID: check it, or unset it to skip this check)" if from_setting else ""
    )
    return f"{refusal} Nothing can be migrated to {tenant} until then{source}."
