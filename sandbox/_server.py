"""`Sandbox`: the emulator served by uvicorn in a background thread on loopback."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.types import Receive, Scope, Send

from msapi.quiet_server import QuietServer
from sandbox._app import create_app, faults_from_json
from sandbox._copies import copied
from sandbox._scenario import Scenario, load_scenario
from sandbox._state import Faults, State

_START_TIMEOUT = 10.0


@dataclass(frozen=True)
class SandboxSnapshot:
    """What `Sandbox.save` kept; only `Sandbox.restore` reads it."""

    scenario: Scenario
    state: State


class Sandbox:
    """Serve a scenario over real HTTP: `with Sandbox(scenario) as box: box.url`."""

    def __init__(
        self,
        scenario: Scenario | str | Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        page_size: int = 100,
        clock: Callable[[], float] = time.time,
        device_interval: int = 5,
    ) -> None:
        """`clock` (seconds since the epoch) decides when tokens and device codes expire;
        `device_interval` is the polling interval device-code sign-ins are told to keep."""
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        self._scenario = scenario
        self._options = (page_size, clock, device_interval)
        self._state = State(scenario, page_size=page_size, clock=clock, device_interval=device_interval)
        self._app = create_app(self._state)
        self._host = host
        self._port = port
        self._server: QuietServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        config = uvicorn.Config(
            self._serve,
            interface="asgi3",  # a bound method: uvicorn would take it for ASGI 2
            host=self._host,
            port=self._port,
            log_level="warning",
            lifespan="off",
            ws="none",
            access_log=False,
        )
        server = QuietServer(config)  # asleep while nobody calls, in every test process's sandbox
        thread = threading.Thread(target=server.run, name="aadbot-sandbox", daemon=True)
        failed = _StartUpErrors()  # said once, in the refusal, not first on uvicorn's own line too
        uvicorn_log = logging.getLogger("uvicorn.error")
        uvicorn_log.addFilter(failed)
        try:
            thread.start()
            ready = threading.Event()
            while not server.started and thread.is_alive():
                ready.wait(0.01)
        finally:
            uvicorn_log.removeFilter(failed)
        if not server.started:
            why = f" ({failed.messages[-1]})" if failed.messages else ""
            raise RuntimeError(f"the sandbox could not listen on {self._host}:{self._port}{why}")
        port = server.servers[0].sockets[0].getsockname()[1]
        self._server, self._thread = server, thread
        self.url = f"http://{self._host}:{port}"
        return self

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)  # the app of the latest `reset`

    def reset(self, scenario: Scenario | None = None) -> None:
        """Back to the scenario as it was given (or to `scenario`), at once and at the same URL: what a new
        sandbox would serve (invitations, removals, the connection, tokens, device codes, faults, request
        counts and Teams all start again); starting a new server costs far more than this."""
        self._scenario = scenario or self._scenario
        page_size, clock, device_interval = self._options
        self._state = State(self._scenario, page_size=page_size, clock=clock, device_interval=device_interval)
        self._app = create_app(self._state)

    def save(self) -> SandboxSnapshot:
        """Everything the sandbox serves and remembers now, for `restore` to serve again (as often as asked):
        a test replays the steps that lead to it once and restores it after, a rehearsal can go back to it.
        Teams' world is kept too (conversations, messages, installs, views); the bot's endpoint with it,
        which a bot serving elsewhere registers again."""
        return SandboxSnapshot(self._scenario, self._copy(self._state))

    def restore(self, snapshot: SandboxSnapshot) -> None:
        """Serve what `snapshot` saved (from this sandbox or another), at once and at the same URL, on this
        sandbox's clock and options; later changes leave the snapshot as it is, and `reset` goes back to the
        scenario it was saved from."""
        self._scenario = snapshot.scenario
        self._state = self._copy(snapshot.state)
        self._app = create_app(self._state)

    def _copy(self, state: State) -> State:
        page_size, clock, device_interval = self._options
        return state.copy(page_size=page_size, clock=clock, device_interval=device_interval)

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.stop()
        self._thread.join(_START_TIMEOUT)
        self._server = self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def connect(self, organization: str, tenant_id: str) -> None:
        """Simulate the portal's Connect (all-zero `tenant_id` disconnects)."""
        if not self._state.is_organization(organization):
            raise ValueError(f"the sandbox serves {self._state.organization['name']!r}, not {organization!r}")
        self._state.connect(organization, tenant_id)

    def redeem_invitation(self, address: str) -> None:
        """`address`'s guest accepts their invitation (with its link, before any sign-in to the organization):
        the directory shows them `Accepted` from then on."""
        wanted = address.strip().casefold()
        with self._state.lock:
            guests = [
                user
                for user in self._state.directory_users
                if user.get("externalUserState") == "PendingAcceptance"
                and wanted
                in {str(mail).casefold() for mail in (user.get("mail"), *(user.get("otherMails") or ()))}
            ]
            if not guests:
                raise ValueError(
                    f"no guest of the directory still has to accept an invitation sent to {address}"
                )
            for guest in guests:
                guest["externalUserState"] = "Accepted"

    def approve_device(self, user_code: str, user: str) -> None:
        """Simulate `user` entering `user_code` at the device login page and signing in."""
        problem = self._state.approve_device(user_code, user)
        if problem:
            raise ValueError(problem)

    def revoke_tokens(self) -> None:
        """Every access token issued so far is rejected from now on (401 `InvalidAuthenticationToken`)."""
        self._state.revoke_tokens()

    @property
    def tenant_id(self) -> str:
        """The tenant's id, without the copy of the whole world `state` makes (a half second at 20k users)."""
        with self._state.lock:
            return str(self._state.tenant["id"])

    def state(self) -> dict[str, Any]:
        """A copy of the scenario as it is now (invitations, removals and connection applied)."""
        with self._state.lock:
            return copied(self._state.data)

    def teams_untouched(self) -> bool:
        """Whether Teams saw nothing yet but the bot's registration (`TeamsWorld.untouched`): a test that
        restores a saved world in place of steps checks it, as the steps start from such a Teams."""
        with self._state.lock:
            world = self._state.teams
        return world is None or world.untouched()

    def set_faults(self, **settings: Any) -> None:
        """Same settings as `POST /_sandbox/faults`: rate_429, rate_500, rate_slow, retry_after, ...,
        directory_lag (seconds), invitation_faults, short_user_listings, left_out_users (`Faults`)."""
        faults = faults_from_json(settings)
        with self._state.lock:
            self._state.faults = faults

    def faults(self) -> Faults:
        """A copy of the faults set now, with how far their draws went."""
        with self._state.lock:
            return copied(self._state.faults)

    def request_counts(self, *, reset: bool = False) -> dict[str, int]:
        """Requests served per Microsoft host since start (or the last reset)."""
        with self._state.lock:
            counts = dict(self._state.request_counts)
            if reset:
                self._state.request_counts.clear()
        return counts


class _StartUpErrors(logging.Filter):
    """Keeps what uvicorn logs while the sandbox starts (why it could not listen) instead of printing it."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            self.messages.append(record.getMessage())
            return False
        return True
