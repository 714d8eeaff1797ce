"""The emulated Teams over HTTP: Microsoft's hosts, and the control endpoints a test plays a person with.

Where each is answered: the Bot Connector (`_teams_connector`), Graph's Teams apps (`_teams_apps`), the
control endpoints (`_teams_control`); the Teams world they share is `_teams`.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox._state import State
from sandbox._teams import BOT_FRAMEWORK_HOST, CONNECTOR_HOST, KEYS_PATH, OPENID_PATH, TeamsWorld
from sandbox._teams_apps import Apps
from sandbox._teams_connector import Connector
from sandbox._teams_control import Control


def teams_routes(state: State) -> list[Route]:
    """Teams' routes over `state`'s Teams world: the one a restored state brought, or a new one."""
    if state.teams is None:
        state.teams = TeamsWorld(state)
    world = state.teams
    connector = Connector(world)
    apps = Apps(world)
    control = Control(world)
    return [
        Route(
            f"/{BOT_FRAMEWORK_HOST}{OPENID_PATH}",
            lambda _: JSONResponse(world.openid_configuration()),
            methods=["GET"],
        ),
        Route(f"/{BOT_FRAMEWORK_HOST}{KEYS_PATH}", lambda _: JSONResponse(world.keys()), methods=["GET"]),
        Route(f"/{CONNECTOR_HOST}/{{region}}/v3/conversations", connector.create, methods=["POST"]),
        Route(
            f"/{CONNECTOR_HOST}/{{region}}/v3/conversations/{{conversation}}/activities",
            connector.send,
            methods=["POST"],
        ),
        Route(
            f"/{CONNECTOR_HOST}/{{region}}/v3/conversations/{{conversation}}/activities/{{activity}}",
            connector.update,
            methods=["PUT"],
        ),
        Route(
            "/graph.microsoft.com/v1.0/users/{user}/teamwork/installedApps", apps.install, methods=["POST"]
        ),
        Route("/graph.microsoft.com/v1.0/appCatalogs/teamsApps", apps.catalog, methods=["GET"]),
        Route("/_sandbox/teams/bot", control.bot, methods=["POST"]),
        Route("/_sandbox/teams/message", control.message, methods=["POST"]),
        Route("/_sandbox/teams/invoke", control.invoke, methods=["POST"]),
        Route("/_sandbox/teams/install", control.install_personally, methods=["POST"]),
        Route("/_sandbox/teams/leave", control.leave, methods=["POST"]),
        Route("/_sandbox/teams/activities", control.activities, methods=["GET"]),
        Route("/_sandbox/teams/view", control.view, methods=["GET"]),
        Route("/_sandbox/teams/sign", control.sign, methods=["POST"]),
        Route("/_sandbox/teams/stats", control.stats, methods=["GET"]),
    ]
