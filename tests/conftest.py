from __future__ import annotations

import atexit
import gc
import json
import os
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from tests import bytecode, zygote

if TYPE_CHECKING:
    # imported by the fixtures that use them: the run's first process loads this file and runs no test, and
    # importing them (the sandbox, uvicorn, Starlette, Slack's SDK) would delay every test process's start
    from sandbox import Sandbox
    from tests.fakes.cli import Aadbot
    from tests.fakes.slack_api import FakeSlack

ROOT = Path(__file__).parents[1]
FABRIKAM = ROOT / "sandbox" / "scenarios" / "fabrikam.json"
_FABRIKAM_TEXT = FABRIKAM.read_text()

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.register_profile(
    "mutation",
    settings.get_profile("ci"),
    max_examples=12,
    stateful_step_count=20,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failure is enough: shrinking it costs minutes
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
"""Property tests are deterministic and bounded unless asked (`HYPOTHESIS_PROFILE=explore`); the mutation
run (docs/mutation-testing.md) uses fewer examples, as it runs the tests once per mutant."""

atexit.register(gc.freeze)
"""A test process ends with the interpreter's last garbage collection over everything it still holds
(about 450,000 objects after a file or forty): in a full run, 2 s of wall for the last test process, for
which the whole run waits (py-spy: `gc_collect_main` after the last `atexit`). pytest's own last
collection, which reports unraisable exceptions, has run by then (at unconfigure), and nothing looks at
what is collected after it, so the objects are frozen out of that collection and the process just ends."""

pytest_plugins = ["tests.storage.databases", "tests.fakes.one_launcher"]
"""The `database` and `database_url` fixtures, for every folder; the run's one pre-imported launcher."""

_LEAKY_PREFIXES = ("SLACK_", "AADBOT_", "AZURE_", "MSAL_", "AZDO_", "TEAMS_")


IMPORTED_AT_COLLECTION = pytest.StashKey[frozenset[str]]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collecting imported, for `test_start_up.py`: every test process collects every test file.

    What collecting made (modules, functions, the collected tests: most of a test process's objects, and
    they live as long as it does) is then frozen out of the garbage collector's reach, and the collector
    runs less often: about 9 % of a test process's CPU went to it (2,000 young and 10 full collections per
    process, each full one walking everything collected again), 4 % now. While collecting, it does not run
    at all (`pytest_configure`): collecting makes hardly any garbage, and the collector ran about 290 times
    over what it made, 0.25 to 0.3 s of each test process's 2.2 s of collecting."""
    session.config.stash[IMPORTED_AT_COLLECTION] = frozenset(sys.modules)
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    gc.enable()  # off while collecting: `pytest_configure`


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems() -> Iterator[None]:
    """Hypothesis's plugin reads the constants of every project module as soon as property tests are among
    those collected (some 190 files parsed, 0.15 to 0.2 s of CPU), so that the first property test to run
    does not pay it. Every test process collects every file and most run no property test: here hypothesis
    reads them at the first draw that wants one (`HypothesisProvider._local_constants`), in the processes
    that run a property test. These are hypothesis's private names (`hypothesis>=6.170,<7` may rename them in
    any release): without them the collection goes on as hypothesis does it, 0.2 s slower, never red."""
    from hypothesis.internal.conjecture import providers

    read = getattr(providers, "_get_local_constants", None)
    if read is None or not hasattr(providers, "_local_constants"):
        return (yield)
    providers._get_local_constants = lambda: providers._local_constants
    try:
        return (yield)
    finally:
        providers._get_local_constants = read


def pytest_configure(config: pytest.Config) -> None:
    """The run's first process compiles the project and, when test processes are to start, rewrites the
    test modules once for all of them (tests/bytecode.py). Up to date, this only reads the caches.

    A process that is to collect the tests (a test process, or the only process) turns the garbage collector
    off until it has (`pytest_collection_finish`); xdist's first process collects nothing, so it keeps it,
    and from here on only hands out work and reports what comes back: what it has loaded (about 60,000
    objects) is frozen out of the collector's reach. pytest's last two collections there (unraisable
    exceptions, at its unconfigure) come after the last test process has ended, so the run waited for them
    walking all of it: 0.095 s of CPU, 0.01 s frozen (`-n 2`, one file)."""
    collects = hasattr(config, "workerinput") or not config.getoption("numprocesses", None)
    if collects:
        gc.disable()
    if hasattr(config, "workerinput"):
        return
    bytecode.compile_project()
    if config.getoption("numprocesses", None):
        bytecode.rewrite_test_modules(config, bytecode.modules_to_rewrite())
        gc.freeze()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config: pytest.Config, specs: list[Any]) -> None:
    """The test processes xdist starts on this machine are forked by the zygote (tests/zygote.py), started
    here, which imports what they collect: the environment is the test processes' by now
    (tests/fakes/one_launcher.py's variable, set at `pytest_configure`, included), which the zygote's must
    be for it to fork them."""
    if zygote.usable(config):
        started = zygote.start(collected=zygote.collected_by(config))
        config.add_cleanup(started.stop)
        started.fork(specs)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """tests/scheduling.py's for `--dist loadfile` (imported here: the test processes schedule nothing)."""
    if config.getoption("dist") != "loadfile":
        return None
    from tests.scheduling import FileScheduling

    return FileScheduling(config, log)


@pytest.fixture(autouse=True, scope="session")
def one_tls_context() -> Iterator[None]:
    """httpx builds a new TLS context for every client it is not given one, reading the whole CA bundle
    (20 to 40 ms of CPU), even for the loopback `http://` URLs of the tests: the tests' own `httpx.post(...)`
    and the sandbox's clients get the process's `tls_context()`, as the bot's clients do. Any other
    `verify` or `cert` is left to httpx."""
    import httpx
    import httpx._transports.default as httpx_transports

    build = httpx.create_ssl_context

    def shared(verify: Any = True, cert: Any = None, trust_env: bool = True) -> ssl.SSLContext:
        if verify is True and cert is None and trust_env:
            from msapi import tls_context  # not at the top: the run's first process makes no client

            return tls_context()
        return build(verify=verify, cert=cert, trust_env=trust_env)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx_transports, "create_ssl_context", shared)  # where httpx's clients call it
        yield


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A developer's own tokens or settings never leak into a test."""
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def fabrikam() -> dict[str, Any]:
    """The bundled scenario as a dict each test may change (read anew from its text: a third of the CPU of a
    deep copy of it, which 400 tests a process paid)."""
    return json.loads(_FABRIKAM_TEXT)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def served_box() -> Iterator[Sandbox]:
    """One sandbox server per test process, reset by each test's `box` to what a new one serves
    (tests/test_isolation.py): uvicorn's start and stop wait about 0.2 s of wall between them, which a
    server per test module (92 a run) paid again in each."""
    from sandbox import Sandbox, parse_scenario

    with Sandbox(parse_scenario(json.loads(_FABRIKAM_TEXT))) as running:
        yield running


@pytest.fixture
def box(fabrikam: dict[str, Any], served_box: Sandbox) -> Sandbox:
    """The sandbox serving `fabrikam` over loopback HTTP: the test process's, reset to what a new one
    serves."""
    from sandbox import parse_scenario

    served_box.reset(parse_scenario(fabrikam))
    return served_box


@pytest.fixture(scope="session")
def served_slack() -> Iterator[FakeSlack]:
    """One fake Slack server per test process, reset by each test's `fake_slack`: starting and stopping
    uvicorn costs more than most tests (as `served_box`)."""
    from tests.fakes.server import ServerThread
    from tests.fakes.slack_api import FakeSlack

    fake = FakeSlack()
    with ServerThread(fake.asgi()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def aadbot(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Aadbot:
    """Runs an `aadbot` command in this process (see tests/fakes/cli.py)."""
    from tests.fakes.cli import Aadbot

    return Aadbot(capsys, monkeypatch)
