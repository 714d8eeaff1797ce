"""The Teams calls' own HTTP client (`TeamsApi`)."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.teams.connector import TeamsApi
from bot.teams.settings import TeamsSettings
from storage import Database
from tests.fakes.server import ServerThread


def test_a_cookie_a_service_sets_is_never_sent_back(sqlite_database: Database) -> None:
    """Each call carries the bot's own token, and one client serves every conversation and person: what
    Microsoft set for one request does not ride along on the next."""
    cookies: list[str | None] = []

    async def answer(request: Request) -> JSONResponse:
        cookies.append(request.headers.get("cookie"))
        found = {"access_token": "token", "expires_in": 3600, "id": "kim-id", "userPrincipalName": "kim"}
        return JSONResponse(found, headers={"Set-Cookie": "x-ms-gateway-slice=someone; Path=/"})

    app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])
    with ServerThread(app) as microsoft:
        settings = TeamsSettings("app-id", "secret", "tenant-id", sandbox_url=microsoft.url)
        api = TeamsApi(settings, sqlite_database, paced=False)

        async def look_up_twice() -> None:
            try:
                for _ in range(2):
                    assert await api.person("kim-id") is not None
            finally:
                await api.aclose()

        asyncio.run(look_up_twice())
    assert cookies == [None, None, None]  # the token, then the two look-ups
