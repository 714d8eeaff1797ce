"""One place that decides where a Microsoft URL really goes (the service itself, or the sandbox)."""

from __future__ import annotations

from urllib.parse import urlsplit


class Router:
    """Rewrites `https://host/path?q` to `{sandbox}/host/path?q` when a sandbox base URL is set."""

    def __init__(self, sandbox_url: str | None = None) -> None:
        self.sandbox_url = sandbox_url.rstrip("/") if sandbox_url else None

    def resolve(self, url: str) -> str:
        if self.sandbox_url is None or url.startswith(self.sandbox_url + "/"):
            return url
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc:
            raise ValueError(f"not a Microsoft service URL: {url}")
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.sandbox_url}/{parts.netloc}{parts.path}{query}"
