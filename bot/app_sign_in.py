"""`serve`'s start: the bot's app registration signs in to Microsoft Entra ID once, before serving.

A credential Entra refuses outright (a wrong AZURE_CLIENT_ID, a secret expired or copied by its id, the app
disabled or blocked in the tenant) would fail every `start` and every step in chat, each time with the same
fix. So such a refusal stops `serve` with it (SettingsError: exit 2), as a refused Slack token does. It needs
a tenant to sign in to, which only AZURE_TENANT_ID (or the sandbox) names: the tenant otherwise comes with
each `start`, whose preflight checks the sign-in then. No answer, or a refusal of one resource only, does
not stop `serve`: it may pass, and `start` checks again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.settings import SettingsError
from msapi import MicrosoftError, SignInRefused

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("aadbot.serve")


def check_app_sign_in(runtime: Runtime) -> None:
    """Get a Graph token for the configured tenant; SettingsError when Entra refuses the app itself."""
    if not runtime.microsoft.invites_as_app:
        return  # a person's device sign-in: `aadbot signin` made it, and says when it no longer works
    sandbox = runtime.sandbox
    tenant = runtime.settings.microsoft_environment.get("AZURE_TENANT_ID", "").strip() or (
        str(sandbox.state()["tenant"]["id"]) if sandbox is not None else ""
    )
    if not tenant:
        log.warning(
            "the app's sign-in to Microsoft Entra ID is checked by each `start`, not now: set AZURE_TENANT_ID"
            " to the tenant of the migration to have `serve` check it at start"
        )
        return
    try:
        runtime.microsoft.graph_token_claims(tenant)
    except SignInRefused as refusal:
        if refusal.whole_app:
            raise SettingsError(f"{refusal} Nothing can be migrated until then.") from None
        log.warning("%s", refusal)
    except MicrosoftError as error:
        log.warning(
            "the app's sign-in to Microsoft Entra ID did not succeed at start (%s): serving goes on, and"
            " each `start` checks it again",
            error,
        )
