"""The HTTP stack `serve` sends through imports nothing per request, and its servers parse HTTP in C.

httpcore looks for an optional module on every async request; when it is not installed, each request
searched sys.path for it (a third of the Teams sender's CPU at 2,000 people). The installed package must
bring whatever the stack asks for, so a request finds everything already imported. Likewise uvicorn parses
with httptools when it is installed and falls back to h11, in pure Python, without a word when it is not.
"""

from __future__ import annotations

import asyncio
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.server import ServerThread


class _Lookups(importlib.abc.MetaPathFinder):
    """Notes every module name the import system has to search for (it is not in sys.modules)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        self.names.append(fullname)
        return None


async def _ok(_request: object) -> JSONResponse:
    return JSONResponse({"ok": True})


def test_an_async_request_searches_for_no_module() -> None:
    with ServerThread(Starlette(routes=[Route("/", _ok, methods=["GET", "POST"])])) as server:

        async def requests() -> None:
            async with httpx.AsyncClient(timeout=5) as client:
                (await client.get(server.url)).raise_for_status()  # the first may import lazily
                lookups = _Lookups()
                sys.meta_path.insert(0, lookups)
                try:
                    for _ in range(3):
                        (await client.post(server.url, json={"n": 1})).raise_for_status()
                finally:
                    sys.meta_path.remove(lookups)
                assert lookups.names == []

        asyncio.run(requests())


def test_the_servers_parse_http_with_httptools() -> None:
    """About 12 % less CPU per request than h11, for `serve`'s endpoints, the sandbox and the tests' fakes."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    config = uvicorn.Config(Starlette(), lifespan="off")  # as they configure it: the parser left to uvicorn
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
