"""The emulated Microsoft endpoints, one module per service; this one routes a call to its host.

Each handler takes a `Call` and returns a `Reply`, so the Graph `$batch` endpoint can run the same
handlers for its inner requests. Shapes and error bodies follow `reference/microsoft-apis.md`.
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox._arm import arm
from sandbox._common import (
    ARM_HOST,
    COMMERCE_HOST,
    GRAPH_HOST,
    LOGIN_HOST,
    VSAEX_HOST,
    VSSPS_HOST,
    Call,
    Reply,
    devops_error,
    graph_error,
    seconds_text,
)
from sandbox._devops import commerce, vsaex, vssps
from sandbox._graph import graph
from sandbox._identity import login
from sandbox._state import State

__all__ = ["Call", "Reply", "dispatch", "fault_reply"]


def dispatch(state: State, call: Call) -> Reply:
    handler = _HOSTS.get(call.host)
    if handler is None:
        return Reply(404, {"message": f"the sandbox does not emulate {call.host}"})
    with state.lock:
        return handler(state, call)


def fault_reply(host: str, status: int, retry_after: float) -> Reply:
    """A throttling or server error as the given host would send it."""
    headers = {"Retry-After": seconds_text(retry_after)} if status in (429, 503) else {}
    if host in (VSAEX_HOST, VSSPS_HOST, COMMERCE_HOST):
        if status == 429:
            headers.update({"X-RateLimit-Resource": "ATCPU", "X-RateLimit-Delay": seconds_text(retry_after)})
            return Reply(
                status,
                devops_error(status, "TF400733: The request has been blocked.", "RequestBlocked").body,
                headers,
            )
        return Reply(status, devops_error(status, "VS402371: internal error", "ServerError").body, headers)
    if host == LOGIN_HOST:
        return Reply(
            status, {"error": "temporarily_unavailable", "error_description": "AADSTS50196"}, headers
        )
    code = "TooManyRequests" if status == 429 else "UnknownError"
    body = graph_error(status, code, "Simulated failure.").body
    return Reply(status, body, headers)


_HOSTS: dict[str, Callable[[State, Call], Reply]] = {
    LOGIN_HOST: login,
    GRAPH_HOST: graph,
    ARM_HOST: arm,
    VSAEX_HOST: vsaex,
    VSSPS_HOST: vssps,
    COMMERCE_HOST: commerce,
}
