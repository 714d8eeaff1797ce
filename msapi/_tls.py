"""One TLS context per process, shared by every HTTPS client of aadbot."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default context (certificates and host names verified against the CA bundle it finds, from
    `SSL_CERT_FILE` or `SSL_CERT_DIR` if set), made at the first client that asks for it.

    Each one reads and parses the whole CA bundle (20 to 40 ms of CPU), and httpx makes one for every
    client it is not given one: an `HttpSession` per session, an `httpx.get` per call. A context keeps no
    state of any one connection, so clients and threads share it; httpcore sets its ALPN to HTTP/1.1 for
    each connection, which every client here speaks."""
    return httpx.create_ssl_context()
