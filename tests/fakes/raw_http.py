"""HTTP requests no well-behaved client sends (a body shorter than declared, a client that leaves),
written over a plain socket so that exactly what is given goes on the wire."""

from __future__ import annotations

import contextlib
import socket
from urllib.parse import urlsplit

ANSWER_SECONDS = 10.0


def raw_post(url: str, path: str, head_lines: list[str], body: bytes) -> int:
    """POST sending only what is given; the status code the server answers with."""
    with _connected(url) as connection:
        # the server may answer and close before taking everything: that is the point
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(_head(url, path, head_lines) + body)
        answer = connection.recv(4096).decode(errors="replace")
    return int(answer.split()[1])


def post_and_leave(url: str, path: str, head_lines: list[str], body: bytes) -> None:
    """POST the start of a request, then close the connection without waiting for an answer."""
    with _connected(url) as connection:
        connection.sendall(_head(url, path, head_lines) + body)


def _connected(url: str) -> socket.socket:
    address = urlsplit(url)
    return socket.create_connection((address.hostname, address.port), timeout=ANSWER_SECONDS)


def _head(url: str, path: str, head_lines: list[str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {urlsplit(url).netloc}", *head_lines, "", ""]
    return "\r\n".join(lines).encode()
