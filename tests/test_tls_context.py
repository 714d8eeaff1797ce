"""Every HTTPS client of the bot verifies with the process's one TLS context instead of making its own."""

from __future__ import annotations

import asyncio
import socket
import ssl
import uuid
from typing import Any

import httpx
import pytest
from httpx import _config as httpx_config
from httpx._transports import default as httpx_transports

from bot.teams.auth import ActivityAuthenticator, Unauthorized
from bot.teams.connector import TeamsApi
from bot.teams.settings import TeamsSettings
from msapi import HttpSession, Router, tls_context
from storage import Database


def _closed_port_url() -> str:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_the_bots_clients_make_no_tls_context_of_their_own(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # here, not at the top: collecting this file need not import Slack's SDK
    from bot.doctor import teams_checks

    shared = tls_context()
    made: list[Any] = []
    make = ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(args or kwargs)
        return make(*args, **kwargs)

    # httpx's own factory again, not the test processes' sharing one: a client making its own is seen
    monkeypatch.setattr(httpx_transports, "create_ssl_context", httpx_config.create_ssl_context)
    monkeypatch.setattr(ssl, "create_default_context", counted)
    HttpSession().close()
    HttpSession().close()
    api = TeamsApi(TeamsSettings("app-id", "secret", "tenant-id"), sqlite_database)
    asyncio.run(api.aclose())
    with pytest.raises(Unauthorized, match="OpenID metadata could not be read"):
        asyncio.run(ActivityAuthenticator("app-id", sandbox_url=_closed_port_url()).verify_token("Bearer x"))
    teams = {
        "TEAMS_APP_ID": str(uuid.uuid4()),
        "TEAMS_APP_PASSWORD": "secret",
        "TEAMS_TENANT_ID": str(uuid.uuid4()),
    }
    unanswered = teams_checks(teams, router=Router(_closed_port_url()))[-1]  # the doctor's Graph sign-in
    assert (unanswered.code, unanswered.status) == ("teams-graph-permissions", "warn")
    assert made == []
    httpx.Client().close()  # the counting does see a client that makes its own
    assert len(made) == 1
    assert tls_context() is shared
    assert shared.verify_mode == ssl.CERT_REQUIRED and shared.check_hostname
