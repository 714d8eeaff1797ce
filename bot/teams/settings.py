"""The Teams bot's registration from the environment: TEAMS_APP_ID, TEAMS_APP_PASSWORD, TEAMS_TENANT_ID."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.settings import SettingsError

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class TeamsSettings:
    app_id: str
    """The bot's Microsoft Entra app (client) id: the `aud` of every activity and the manifest's botId."""
    password: str = field(repr=False)
    tenant_id: str
    """Single-tenant bots get their tokens from their own tenant."""
    sandbox_url: str | None = None
    """Every Microsoft host is reached through the emulator at this base URL (tests, demos)."""

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str], *, sandbox_url: str | None = None
    ) -> TeamsSettings | None:
        """None when Teams is not configured (`TEAMS_APP_ID` unset); SettingsError names a bad value."""
        app_id = environ.get("TEAMS_APP_ID", "").strip()
        if not app_id:
            return None
        if not GUID.match(app_id):
            raise SettingsError(
                f"TEAMS_APP_ID={app_id!r} is not an app id: copy the Application (client) id, a GUID, "
                "from the bot's app registration in the Entra admin center."
            )
        password = environ.get("TEAMS_APP_PASSWORD", "").strip()
        if not password:
            raise SettingsError(
                "TEAMS_APP_PASSWORD is not set: create a client secret under Certificates & secrets of the "
                "bot's app registration and set it here."
            )
        tenant_id = environ.get("TEAMS_TENANT_ID", "").strip()
        if not tenant_id:
            raise SettingsError(
                "TEAMS_TENANT_ID is not set: the bot is single-tenant, so give the directory (tenant) id of "
                "its app registration."
            )
        return cls(app_id=app_id, password=password, tenant_id=tenant_id, sandbox_url=sandbox_url)
