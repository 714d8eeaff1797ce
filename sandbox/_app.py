"""The Starlette application: Microsoft hosts as the first path segment, control under `/_sandbox`."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox._common import json_object
from sandbox._resolve import resolve
from sandbox._services import Call, Reply, dispatch, fault_reply
from sandbox._sign_in_refusals import refusal_code
from sandbox._signin import sign_in
from sandbox._state import Faults, State
from sandbox._teams_routes import teams_routes

CONNECT_BODY = 'send {"organization": NAME, "tenantId": ID} (the all-zero id disconnects)'
"""What `POST /_sandbox/connect` takes, said when it gets something else."""


def _object_or_none(raw: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is empty, malformed or another JSON value."""
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError:  # UnicodeDecodeError included
        return None
    return body if isinstance(body, dict) else None


def create_app(state: State) -> Starlette:
    async def microsoft(request: Request) -> Response:
        host, _, rest = request.path_params["path"].partition("/")
        call = Call(
            method=request.method,
            host=host,
            path="/" + rest,
            query=dict(request.query_params),
            headers={key.lower(): value for key, value in request.headers.items()},
            body=await request.body(),
        )
        with state.lock:
            state.request_counts[host] += 1
            fault = state.faults.draw(host, call.path)
            delay = state.faults.slow_seconds
            retry_after = state.faults.retry_after
        if fault == "slow":
            await asyncio.sleep(delay)
        elif isinstance(fault, int):
            return _response(fault_reply(host, fault, retry_after), request.method)
        return _response(dispatch(state, call), request.method)

    async def connect(request: Request) -> Response:
        body = _object_or_none(await request.body())
        if body is None:  # said as such, not as the organization '' it names no more than an empty one
            return JSONResponse({"error": f"the body is not a JSON object; {CONNECT_BODY}"}, status_code=400)
        organization = str(body.get("organization") or "")
        tenant_id = str(body.get("tenantId") or "")
        if not organization:
            return JSONResponse({"error": f"organization is required; {CONNECT_BODY}"}, status_code=400)
        if not state.is_organization(organization):
            return JSONResponse({"error": f"unknown organization {organization!r}"}, status_code=404)
        if not tenant_id:
            return JSONResponse({"error": "tenantId is required (all zeros disconnects)"}, status_code=400)
        state.connect(organization, tenant_id)
        return JSONResponse({"organization": organization, "connected_tenant_id": tenant_id})

    async def signin(request: Request) -> Response:
        body = json_object(await request.body())
        status, answer = sign_in(
            state, str(body.get("organization") or ""), str(body.get("principalName") or "")
        )
        return JSONResponse(answer, status_code=status)

    async def resolve_user(request: Request) -> Response:
        body = json_object(await request.body())
        status, answer = resolve(
            state,
            str(body.get("organization") or ""),
            str(body.get("principalName") or ""),
            str(body.get("account") or ""),
            support=body.get("support") is True,
        )
        return JSONResponse(answer, status_code=status)

    async def approve_device(request: Request) -> Response:
        body = json_object(await request.body())
        user_code, user = str(body.get("user_code") or ""), str(body.get("user") or "")
        if not user_code or not user:
            return JSONResponse(
                {"error": "user_code and user (a user principal name of the tenant) are required"},
                status_code=400,
            )
        problem = state.approve_device(user_code, user)
        if problem:
            status = 404 if problem.startswith("unknown") else 400
            return JSONResponse({"error": problem}, status_code=status)
        return JSONResponse({"user_code": user_code, "user": user})

    async def subscription(request: Request) -> Response:
        body = json_object(await request.body())
        subscription_id = str(body.get("subscriptionId") or "")
        tenant_id = str(body.get("tenantId") or "")
        if not tenant_id:
            return JSONResponse({"error": "tenantId is required"}, status_code=400)
        if not state.move_subscription(subscription_id, tenant_id):
            return JSONResponse({"error": f"unknown subscription {subscription_id!r}"}, status_code=404)
        return JSONResponse({"subscriptionId": subscription_id, "tenantId": tenant_id})

    async def current_state(request: Request) -> Response:
        with state.lock:
            return Response(json.dumps(state.data), media_type="application/json")

    async def faults(request: Request) -> Response:
        body = json_object(await request.body())
        try:
            configured = faults_from_json(body)
        except (TypeError, ValueError) as error:
            return JSONResponse({"error": f"bad fault settings: {error}"}, status_code=400)
        with state.lock:
            state.faults = configured
        return JSONResponse({"ok": True})

    async def requests(request: Request) -> Response:
        with state.lock:
            counts = dict(state.request_counts)
            if request.method == "DELETE":
                state.request_counts.clear()
        return JSONResponse({"total": sum(counts.values()), "byHost": counts})

    routes = [
        Route("/_sandbox/connect", connect, methods=["POST"]),
        Route("/_sandbox/subscription", subscription, methods=["POST"]),
        Route("/_sandbox/signin", signin, methods=["POST"]),
        Route("/_sandbox/resolve", resolve_user, methods=["POST"]),
        Route("/_sandbox/device/approve", approve_device, methods=["POST"]),
        Route("/_sandbox/state", current_state, methods=["GET"]),
        Route("/_sandbox/faults", faults, methods=["POST"]),
        Route("/_sandbox/requests", requests, methods=["GET", "DELETE"]),
        *teams_routes(state),
        Route("/{path:path}", microsoft, methods=["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"]),
    ]
    return Starlette(routes=routes)


def faults_from_json(body: dict[str, Any]) -> Faults:
    """Fault settings from `POST /_sandbox/faults`; rates are probabilities in [0, 1]."""
    rates = {name: float(body.get(name, 0.0)) for name in ("rate_429", "rate_500", "rate_slow")}
    if any(not 0.0 <= rate <= 1.0 for rate in rates.values()) or sum(rates.values()) > 1.0:
        raise ValueError("rates must be between 0 and 1 and add up to at most 1")
    short_listings, left_out = int(body.get("short_user_listings", 0)), int(body.get("left_out_users", 1))
    if short_listings < 0 or left_out < 0:
        raise ValueError("short_user_listings and left_out_users are 0 or more")
    sequence = list(body.get("sequence") or [])
    if any(item != "slow" and item not in (429, 500, 502, 503, 504) for item in sequence):
        raise ValueError("sequence items are 429, 500, 502, 503, 504 or 'slow'")
    return Faults(
        **rates,
        retry_after=float(body.get("retry_after", 1.0)),
        slow_seconds=float(body.get("slow_seconds", 0.5)),
        sequence=sequence,
        hosts=tuple(body.get("hosts") or ()),
        organizations=tuple(body.get("organizations") or ()),
        rng=random.Random(int(body.get("seed", 0))),
        directory_lag=float(body.get("directory_lag", 0.0)),
        invitation_faults=_invitation_faults(body.get("invitation_faults") or []),
        short_user_listings=short_listings,
        left_out_users=left_out,
        sign_in_refusal=refusal_code(body.get("sign_in_refusal")),
        sign_in_refusal_client=str(body.get("sign_in_refusal_client") or ""),
    )


def _invitation_faults(items: list[Any]) -> list[str]:
    """`invitation_faults` items: a status of 500, 502 or 504, then " after" when the invitation is made; a
    refusal, 400 or 403; or "ok", answered as usual (stored as no fault), so that a later item strikes a later
    invitation."""
    faults = ["" if str(item) == "ok" else str(item) for item in items]
    for fault in faults:
        status, _, when = fault.partition(" ")
        lost = status in ("500", "502", "504") and when in ("", "after")
        if not lost and fault not in ("", "400", "403"):
            raise ValueError(
                f"invitation_faults items are '504' or '504 after' (or 500, 502), '400', '403' or 'ok',"
                f" not {fault!r}"
            )
    return faults


def _response(reply: Reply, method: str) -> Response:
    if reply.body is None or method == "HEAD":
        return Response(status_code=reply.status, headers=reply.headers)
    content = json.dumps(reply.body, separators=(",", ":"))
    return Response(content, status_code=reply.status, headers=reply.headers, media_type="application/json")
