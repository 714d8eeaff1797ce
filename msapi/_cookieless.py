"""httpx clients that keep no cookies, for the bot's calls to Microsoft.

Every request the bot sends carries its own credentials (a bearer token, a PAT, a client assertion), and
one client serves several people, organizations and conversations, so a cookie a service set for one
request must not ride along on the next. Keeping none also spares every response httpx's cookie jar, which
reads it through urllib's request and email's headers (about a tenth of a request's client CPU against the
sandbox) even when it sets none."""

from __future__ import annotations

from typing import Any

import httpx


class _KeepsNoCookies:
    """What both clients share: their `cookies` are always empty, and cannot be replaced. It has no
    `__init__`: first among the clients' bases, one taking `**options` would hide httpx's arguments from
    mypy, a misspelled `timeout` passing unseen."""

    _kept_none: httpx.Cookies | None = None

    @property
    def cookies(self) -> httpx.Cookies:
        if self._kept_none is None:  # made on first use, one per client: a cookie set by hand stays its own
            self._kept_none = _NoCookies()
        return self._kept_none

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise TypeError("this client keeps no cookies")


class _NoCookies(httpx.Cookies):
    """Always empty: what a response sets is not kept."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class CookielessClient(_KeepsNoCookies, httpx.Client):
    """`httpx.Client`, keeping no cookies."""


class CookielessAsyncClient(_KeepsNoCookies, httpx.AsyncClient):
    """`httpx.AsyncClient`, keeping no cookies."""
