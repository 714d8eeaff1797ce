"""The emulated Graph of Teams apps: the organization's app catalog, the bot's app installed for a user."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox._common import json_object
from sandbox._permissions import GRAPH_PERMISSIONS
from sandbox._state import State
from sandbox._teams import TeamsWorld
from sandbox._teams_connector import bearer_token, error

BOT_NAME = "aadbot"


def _graph_refusal(state: State, request: Request, method: str, route: str) -> Response | None:
    """401 without a Graph token; 403 in the Teams Graph service's words when it holds none of the
    permissions Microsoft's table lists (`sandbox._permissions.GRAPH_PERMISSIONS`)."""
    token = bearer_token(state, request, "graph")
    if token is None:
        return error(401, "InvalidAuthenticationToken", "Access token validation failure.")
    application, delegated = GRAPH_PERMISSIONS[(method, route)]
    app_only = token.user is None
    held, needed = (token.roles, application) if app_only else (token.scopes, delegated)
    if held & needed:
        return None
    kind, on_request = ("role", "Roles") if app_only else ("scope", "Scopes")
    return error(
        403,
        "Forbidden",
        f"Missing {kind} permissions on the request. API requires one of '{', '.join(sorted(needed))}'. "
        f"{on_request} on the request '{', '.join(sorted(held))}'.",
    )


class Apps:
    """Graph's app installations for users, and the app catalog they are installed from."""

    def __init__(self, world: TeamsWorld) -> None:
        self._world = world

    async def install(self, request: Request) -> Response:
        world = self._world
        refused = _graph_refusal(world.state, request, "POST", "users/{id}/teamwork/installedApps")
        if refused:
            return refused
        user = world.user(request.path_params["user"])
        if user is None:
            return error(404, "NotFound", "The user does not exist.")
        body = json_object(await request.body())
        if not str(body.get("teamsApp@odata.bind") or "").endswith(
            f"/appCatalogs/teamsApps/{world.catalog_id}"
        ):
            return error(404, "NotFound", "The app is not in the organization's app catalog.")
        with world.lock:
            wait = world.installs.wait("installs")
            if wait:
                return error(429, "TooManyRequests", "Too many requests.", retry_after=wait)
            if str(user["id"]) in world.installed:
                return error(409, "Conflict", "The app is already installed for this user.")
            world.installed.add(str(user["id"]))
        return Response(status_code=201)

    async def catalog(self, request: Request) -> Response:
        """The organization's app catalog: the bot's app, uploaded with its manifest id as `externalId`."""
        world = self._world
        refused = _graph_refusal(world.state, request, "GET", "appCatalogs/teamsApps")
        if refused:
            return refused
        wanted = request.query_params.get("$filter", "")
        entry = {
            "id": world.catalog_id,
            "externalId": world.app_id,
            "displayName": BOT_NAME,
            "distributionMethod": "organization",
        }
        found = [entry] if world.app_id and f"externalId eq '{world.app_id}'" in wanted else []
        context = "https://graph.microsoft.com/v1.0/$metadata#appCatalogs/teamsApps"
        return JSONResponse({"@odata.context": context, "value": found})
