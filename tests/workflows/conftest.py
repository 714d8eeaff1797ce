"""A service over the parametrized database, the fake Microsoft and a clock the test moves; and the
migration most tests begin from, once the lists are out."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from storage import Database
from tests.workflows.fakes import DANA, LEE, FakeClock, FakeMicrosoft
from tests.workflows.replays import CHANNEL, notified_in_channel
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.settings import WorkflowSettings

ServiceFactory = Callable[..., MigrationService]


@pytest.fixture
def microsoft() -> FakeMicrosoft:
    return FakeMicrosoft()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_service(database: Database, microsoft: FakeMicrosoft, clock: FakeClock) -> ServiceFactory:
    """A new service each call: what a restarted process would build over the same database."""

    def make(**settings: object) -> MigrationService:
        return MigrationService(database, microsoft, clock=clock, settings=WorkflowSettings(**settings))  # type: ignore[arg-type]

    return make


@pytest.fixture
def service(make_service: ServiceFactory) -> MigrationService:
    return make_service()


@pytest.fixture
def dana() -> Actor:
    return Actor(id="U-DANA", email=DANA, name="Dana")


@pytest.fixture
def lee() -> Actor:
    return Actor(id="U-LEE", email=LEE, name="Lee")


@pytest.fixture
def notified(
    request: pytest.FixtureRequest,
    service: MigrationService,
    microsoft: FakeMicrosoft,
    dana: Actor,
    lee: Actor,
) -> MigrationService:
    """Fabrikam started by Dana in `CHANNEL`, everyone invited, then `connect_and_notify` (Lee approving).
    A module whose tests begin elsewhere defines its own `notified`."""
    return notified_in_channel(request, service, microsoft, dana, lee, CHANNEL)
