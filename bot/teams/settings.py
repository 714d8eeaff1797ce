"""The Teams bot's registration from the environment: TEAMS_APP_ID, TEAMS_APP_PASSWORD, TEAMS_TENANT_ID;
AADBOT_TEAMS_TENANT_RATE, the per-tenant limit the bot keeps (Microsoft documents 30 a second);
AADBOT_PUBLIC_URL, where Teams users reach this server (download links for lists)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.settings import number_or_default, reported

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
    public_url: str | None = None
    """The server's public base URL, as Teams users' browsers reach it (the messaging endpoint's host);
    `serve` uses its own address when unset."""
    tenant_rate: float = 30.0
    """Bot Connector operations a second per app and tenant, shared by every process (msteams-docs
    `bots/how-to/rate-limit.md`: 30); lower it when Teams answers 429 to several bots of the tenant."""

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str], problems: list[str] | None = None, *, sandbox_url: str | None = None
    ) -> TeamsSettings | None:
        """None when Teams is not configured (`TEAMS_APP_ID` unset). SettingsError names every unusable
        value at once; with `problems` they are added there instead (and None returned), as
        `Settings.from_environment` does, so that `serve` names them with the rest."""
        app_id = environ.get("TEAMS_APP_ID", "").strip()
        if not app_id:
            return None
        found: list[str] = []
        if not GUID.match(app_id):
            found.append(
                f"TEAMS_APP_ID={app_id!r} is not an app id: copy the Application (client) id, a GUID, "
                "from the bot's app registration in the Entra admin center."
            )
        password = environ.get("TEAMS_APP_PASSWORD", "").strip()
        if not password:
            found.append(
                "TEAMS_APP_PASSWORD is not set: create a client secret under Certificates & secrets of the "
                "bot's app registration and set it here."
            )
        tenant_id = environ.get("TEAMS_TENANT_ID", "").strip()
        if not tenant_id:
            found.append(
                "TEAMS_TENANT_ID is not set: the bot is single-tenant, so give the directory (tenant) id of "
                "its app registration."
            )
        elif not GUID.match(tenant_id):
            # Activities name their tenant by its id (`channelData.tenant.id`): a domain, though Entra's
            # token endpoint takes one, would refuse every activity from the tenant.
            found.append(
                f"TEAMS_TENANT_ID={tenant_id!r} is not a tenant id: copy the Directory (tenant) ID, a GUID, "
                "from the Overview page of Microsoft Entra ID in the Entra admin center (a domain such as "
                "contoso.onmicrosoft.com will not do: Teams names the tenant of every message by its id)."
            )
        rate = number_or_default(environ, "AADBOT_TEAMS_TENANT_RATE", 30.0, found, minimum=1.0)
        public_url = environ.get("AADBOT_PUBLIC_URL", "").strip().rstrip("/") or None
        if public_url and not public_url.startswith(("https://", "http://")):
            found.append(
                f"AADBOT_PUBLIC_URL={public_url!r} is not a URL: give the address Teams users reach this "
                "server at, e.g. https://aadbot.example.com (the messaging endpoint's host)."
            )
        reported(found, problems)
        if found:
            return None
        return cls(
            app_id, password, tenant_id, sandbox_url=sandbox_url, public_url=public_url, tenant_rate=rate
        )
