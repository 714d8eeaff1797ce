"""xdist's test processes forked from one process that has imported the libraries already (a zygote).

Each test process spent about 2 s of CPU before its first test, most of it importing the same modules as
the others (SQLAlchemy, SQLModel, Slack's and Microsoft's libraries, httpx, Starlette, hypothesis, the
project): on 2 cores, 4 processes doing it at once held the run's start up by about 4 s of wall. The run's
first process (xdist's controller) now starts, as xdist sets up its test processes, one zygote that imports
them (`PREIMPORTED`), then the conftests and test modules the test processes collect, as their collection
would import them (through pytest's `import_path`, their asserts rewritten), and freezes what it made out of
the garbage collector's reach. execnet starts a test process as `python -u -c BOOTSTRAP`; for xdist's local
specs it now starts this module as a client in its place (`Zygote.fork`), with the same arguments: the client
sends its standard streams, environment, directory, process and arguments to the zygote, which forks a child
that takes them (and the client's process group) and runs BOOTSTRAP as `python -u -c` does, in a new
`__main__`; the client relays SIGTERM and the child's exit status to execnet.

What a forked test process shares with the others (docs/testing.md, "Session 23"): the zygote's hash seed (one
random seed a run, where each interpreter drew its own), its parent (the zygote, not the controller) and
`sys.modules` holding `PREIMPORTED` and its test modules from the start (session 24). Whatever is read at the
interpreter's start or on import (the environment, the directory, the interpreter's options) must be the test
process's: the zygote refuses any other request, and the client then execs the interpreter as execnet would
have (one line on stderr says so), as it does when the zygote cannot be reached. The zygote changes no signal
disposition and holds no thread; it lives in a process group of its own, so a Ctrl-C reaches the test
processes (in the controller's group, as before) and not it. It ends, killing what is left of its children,
when the controller goes (end of file on a socket only the controller holds), and kills a child whose client
has gone (execnet kills the client it started).

A fork server as the run's launcher is (tests/forkserver.py): Linux only, elsewhere no zygote starts and
execnet execs as it always did. The zygote and its clients import this module with the project's root on
`sys.path` for the import only (`_python`): `tests`' plain modules and the standard library, as a test
process's conftest imports them.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.machinery
import json
import os
import signal
import socket
import sys
import types
import warnings
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from tests import forkserver

if TYPE_CHECKING:
    import pytest

PREIMPORTED = (
    "bot.cli",
    "bot.console.chat",
    "bot.conversation.stages.after_connecting",
    "bot.conversation.stages.approving",
    "bot.conversation.stages.closing",
    "bot.conversation.stages.helping",
    "bot.conversation.stages.preparing",
    "bot.conversation.stages.starting",
    "bot.demo",
    "bot.doctor",
    "bot.serve",
    "bot.slack._logs",
    "bot.slack.app",
    "bot.slack.commands",
    "bot.slack.http",
    "bot.slack.listeners.actions",
    "bot.slack.listeners.commands",
    "bot.slack.listeners.events",
    "bot.slack.sender",
    "bot.slack.serve",
    "bot.teams.auth",
    "bot.teams.budget",
    "bot.teams.cards",
    "bot.teams.chats",
    "bot.teams.delivery",
    "bot.teams.endpoint",
    "bot.teams.package",
    "bot.teams.sender",
    "bot.teams.surface",
    "bot.teams.text",
    "bot.web_server",
    "faq.asker_effect",
    "faq.commands",
    "msapi._pseudonyms",
    "msapi.commands",
    "msapi.snapshot",
    "sandbox.generate",
    "workflows.diagram",
    "alembic.command",
    "alembic.config",
    "hypothesis",
    "hypothesis.stateful",
    "hypothesis.strategies",
    "msal",
    "psycopg",
    "requests",
    "sqlalchemy.dialects.postgresql.psycopg",
)
"""What every test process imports while collecting (the test files' and the conftests' imports, and so most
of the project and its libraries), named by the modules nothing else among them imports. Never a module of
`tests` (the conftests and test modules are `collected_by`'s, imported as pytest does) nor one only a few
files use (`test_start_up.py`'s `NOT_AT_COLLECTION`): `test_zygote.py` checks that a test process imports all
of them at collection. A module missing here is imported by each test process as before: slower, never
wrong."""
ZYGOTE_MARK = "zygote"
"""The zygote's first argument, by which a test process can tell that its parent is one."""
ROOT = Path(__file__).resolve().parents[1]
imported_for_collection: list[str] = []
"""The conftests and test modules the zygote imported (`collected_by`), by name: in a test process it forked,
those its collection found imported."""


def _python(options: list[str], call: str, *arguments: str) -> list[str]:
    """`python OPTIONS -c CODE ARGUMENTS`, CODE importing this module and making `call`, with `sys.path` as
    `-c` has it once imported: the zygote and its client import the standard library and the `tests`
    package's plain modules, as a test process's conftest does, never a conftest nor a test module."""
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tests import zygote; del sys.path[0]; {call}"
    return [sys.executable, *options, "-c", code, *arguments]


# The controller's side.


@dataclass
class Zygote(forkserver.Server):
    _undo: Callable[[], None] = lambda: None

    def client(self) -> list[str]:
        """The command that stands for `python` in `python -u -c CODE`, having the zygote fork it."""
        return _python(["-I", "-S"], "zygote.run_client(sys.argv[1], sys.argv[2:])", self.address)

    def fork(self, specs: list[Any]) -> None:
        """Has the zygote fork the test processes of those of xdist's `specs` that execnet would start on
        this machine with this interpreter: execnet runs the client instead of `sys.executable`, with the
        same arguments (`-u -c BOOTSTRAP`). Not by the specs' `python=`: with one, execnet sends its own
        source to the new process instead of having it import execnet, which a test process does."""
        from execnet import gateway_io

        forked = {id(spec) for spec in specs if spec.popen and not (spec.python or spec.via)}
        execs = gateway_io.popen_args

        def popen_args(spec: Any) -> list[str]:
            arguments = execs(spec)
            return [*self.client(), *arguments[1:]] if id(spec) in forked else arguments

        gateway_io.popen_args = popen_args
        self._undo = lambda: setattr(gateway_io, "popen_args", execs)

    def stop(self) -> None:
        """At the controller's end (none of its test processes left by then)."""
        self._undo()
        super().stop()


def usable(config: pytest.Config) -> bool:
    """Whether the zygote imports the plugins' modules as this run's test processes would: it rewrites
    their asserts with pytest's default settings, the run's must be those. `TESTS_ZYGOTE=0` in the
    environment turns it off (every test process a new interpreter, as before), to compare the two."""
    return (
        forkserver.AVAILABLE
        and os.environ.get("TESTS_ZYGOTE") != "0"
        and config.getoption("assertmode") == "rewrite"
        and config.getini("enable_assertion_pass_hook") is False
        and config.getini("python_files") == ["test_*.py", "*_test.py"]
        and not getattr(config.known_args_namespace, "disable_plugin_autoload", False)
        and not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    )


def collected_by(config: pytest.Config) -> list[Path]:
    """The conftests and test modules each of this run's test processes imports while collecting, parents'
    conftests first: those under its paths (all of tests/ by default), when each is a folder or a test
    module of tests/ and nothing is ignored; else none (each test process imports them, as before)."""
    if (
        config.getoption("importmode") != "prepend"
        or config.getini("consider_namespace_packages")
        or config.getoption("ignore")
        or config.getoption("ignore_glob")
        or config.getoption("pyargs")
        or config.getoption("noconftest")
        or config.getoption("confcutdir") not in (None, str(ROOT))
    ):
        return []
    tests = ROOT / "tests"
    conftests: set[Path] = set()
    modules: set[Path] = set()
    for argument in config.args:
        path = (config.invocation_params.dir / argument.split("::")[0]).resolve()
        if path.is_dir() and path.is_relative_to(tests):
            found = [source for source in path.rglob("*.py") if "__pycache__" not in source.parts]
        elif path.is_file() and path.parent.is_relative_to(tests) and path.name.startswith("test_"):
            found = [path]
        else:
            return []
        modules.update(source for source in found if source.name.startswith("test_"))
        conftests.update(source for source in found if source.name == "conftest.py")
        conftests.update(folder / "conftest.py" for folder in path.parents if folder.is_relative_to(tests))
    return sorted(
        (source for source in conftests if source.exists()), key=lambda source: len(source.parts)
    ) + sorted(modules)


def start(
    preimported: tuple[str, ...] = PREIMPORTED,
    collected: list[Path] | None = None,
    env: dict[str, str] | None = None,
) -> Zygote:
    """The zygote, importing `preimported`, then the conftests and test modules `collected` (`collected_by`)
    in the background: the clients that connect meanwhile wait in its backlog.
    Its environment is this process's (`env` None), as execnet's processes get it: the C library's, which
    may hold more than `os.environ` (GNU readline sets LINES and COLUMNS)."""
    return forkserver.start(
        lambda owner, listener: _python(
            ["-u"],
            "zygote.serve_forks(sys.argv[2:])",
            ZYGOTE_MARK,
            str(owner),
            str(listener),
            *preimported,
            "--",
            *map(str, collected or ()),
        ),
        "aadbot-zygote-",
        Zygote,
        env=env,
        process_group=0,  # a Ctrl-C is the test processes' to handle; the zygote ends at its owner's end
    )


# The client's side: `python -I -S -c CODE ADDRESS -u -c BOOTSTRAP`, for one test process.


def run_client(address: str, arguments: list[str]) -> NoReturn:
    """Has the zygote fork the test process, then stands for it: forwards SIGTERM, exits as it does."""
    python = sys.executable
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    # a SIGTERM while asking waits for the test process to relay it to, rather than ending the client alone
    # (its test process then got SIGKILL at the zygote, not SIGTERM)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    answer = _ask(connection, address, arguments)
    if "refused" in answer:  # the test process as execnet would have started it (a SIGTERM held ends it)
        print(f"tests/zygote.py: test process not forked ({answer['refused']})", file=sys.stderr, flush=True)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        os.execv(python, [python, *arguments])
    # The zygote's pidfd, sent with the answer: it names the test process even once reaped (a pid opened
    # here could be gone by then, or another process's), so a signal never reaches another process.
    pidfd = answer["pidfd"]
    # a Ctrl-C reaches the test process from the terminal, as it always did: the client's own would end it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: _relay(pidfd, signal.SIGTERM))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    for stream in (0, 1):  # the test process's ends: execnet reads to the end of them, not the client's
        os.dup2(os.open(os.devnull, os.O_RDWR), stream)
    message = connection.recv(forkserver.MESSAGE_BYTES)
    if not message:
        print("tests/zygote.py: the zygote ended before its test process", file=sys.stderr, flush=True)
        sys.exit(1)
    code = int(json.loads(message)["returncode"])
    if code < 0:  # died of a signal: so does the client, for `Popen.returncode`
        with suppress(OSError):  # SIGKILL's disposition cannot change
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


def _relay(pidfd: int, number: int) -> None:
    with suppress(ProcessLookupError):  # the test process has ended: its status is on its way
        signal.pidfd_send_signal(pidfd, number)


def _ask(connection: socket.socket, address: str, arguments: list[str]) -> dict[str, Any]:
    """The zygote's answer: the test process's `pid` and `pidfd`, or why it `refused`."""
    request = {"arguments": arguments, "env": dict(os.environ), "cwd": os.getcwd(), "pid": os.getpid()}
    try:
        connection.connect(address)
        socket.send_fds(connection, [json.dumps(request).encode()], [0, 1, 2])
        answer, pidfds, _, _ = socket.recv_fds(connection, forkserver.MESSAGE_BYTES, 1)
    except OSError as error:
        return {"refused": f"the zygote at {address}: {error}"}
    if not answer:
        return {"refused": "the zygote closed the connection"}
    answered: dict[str, Any] = json.loads(answer)
    return {**answered, "pidfd": pidfds[0]} if pidfds else answered


# The zygote's side: everything below runs in the zygote, or in a child it forked.


def _run(request: forkserver.Request) -> None:
    """In the forked child: what `python -u -c CODE` would run, with the same streams, environment and
    directory, in a new `__main__`; the interpreter's own exit follows (atexit, threads joined)."""
    request.take()
    sys.argv = ["-c", *request.command[3:]]
    sys.orig_argv = [sys.executable, *request.command]
    main = types.ModuleType("__main__")
    main.__dict__.update(
        __annotations__={}, __builtins__=builtins, __loader__=importlib.machinery.BuiltinImporter
    )
    sys.modules["__main__"] = main
    exec(compile(request.command[2], "<string>", "exec"), main.__dict__)


def _refusal(request: dict[str, Any]) -> str | None:
    """Why a request cannot be forked: what the interpreter reads at its start or the modules on import."""
    if request["arguments"][:2] != ["-u", "-c"] or len(request["arguments"]) < 3:
        return f"not `-u -c CODE`: {request['arguments'][:-1]}"
    differing = sorted(set(request["env"].items()).symmetric_difference(os.environ.items()))
    if differing:
        return f"its environment differs from the zygote's in {sorted({name for name, _ in differing})}"
    if request["cwd"] != os.getcwd():
        return f"its directory {request['cwd']} is not the zygote's {os.getcwd()}"
    if os.getsid(request["pid"]) != os.getsid(0):
        return "another session"
    return None


class _Forking(forkserver.Serving):
    """The zygote's loop: one test process for each client, whose connection carries the answer (the test
    process's pid and pidfd), then its exit status; the client's end (killed by execnet) ends it."""

    def asked(
        self, connection: socket.socket, message: bytes, streams: list[int]
    ) -> forkserver.Request | None:
        request = json.loads(message)
        try:
            refused = "no streams" if len(streams) != 3 else _refusal(request)
            client_group = os.getpgid(request["pid"]) if refused is None else 0
        except ProcessLookupError:  # the client died after asking: nobody to fork for, the others go on
            refused = "the client has gone"
        busy = any(child.reply is connection for child in self.children.values())
        if refused is None and busy:  # the connection is its process's, for the exit status: kept open
            refused = "one process a connection: ask on a new one"
        forked = forkserver.Request(request["arguments"], request["env"], request["cwd"], streams)
        if refused is not None:
            with suppress(OSError):
                connection.send(json.dumps({"refused": refused}).encode())
            if not busy:
                self.drop(connection)
            forked.close()
            return None
        child = self.fork(forked, connection, connection)
        if child is None:
            os.setpgid(0, client_group)  # the controller's group, as execnet's processes: a Ctrl-C reaches it
            return forked
        with suppress(PermissionError):  # the child has set it already
            os.setpgid(child.pid, client_group)
        with suppress(OSError):  # a client gone already: the next select sees it
            socket.send_fds(connection, [json.dumps({"pid": child.pid}).encode()], [child.pidfd])
        return None


def _imports(modules: list[str], collected: list[Path]) -> None:
    """Imports `modules`, then the `collected` conftests and test modules, as a test process would while
    collecting: the modules of pytest's plugins' distributions (hypothesis, anyio, which Starlette imports)
    through pytest's own rewriting hook, as pytest marks them (a test process's pytest refuses to start when
    one was imported otherwise), the collected ones by pytest's own `import_path` (the test process's
    collection then finds them imported: the same modules, rewritten, under the same names), with each
    conftest's `pytest_plugins` marked and imported after it, as pytest registers them; warnings as errors
    (as collecting has them) and their filters dropped afterwards (as collecting drops them). `sys.path` is
    left as it was: the test process's xdist sets it, then its own collection puts the root first."""
    import _pytest.assertion
    from _pytest.config import get_config
    from _pytest.outcomes import OutcomeException
    from _pytest.pathlib import import_path

    config = get_config()
    hook = _pytest.assertion.install_importhook(config)
    config._mark_plugins_for_rewrite(hook, disable_autoload=False)
    path = list(sys.path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for module in modules:
                importlib.import_module(module)
            for source in collected:
                # One that fails (an ImportError, a module-level skip, a warning collecting would not raise)
                # is the test process's to import and report, as pytest does: it ended the zygote for the run.
                # Its side effects before it failed stay in the forks, so a test module fails or skips
                # before it changes anything, as the suite's do.
                try:
                    imported = import_path(source, root=ROOT, consider_namespace_packages=False)
                    for plugin in getattr(imported, "pytest_plugins", ()):
                        hook.mark_rewrite(plugin)
                        importlib.import_module(plugin)
                except (Exception, OutcomeException):
                    continue
                imported_for_collection.append(imported.__name__)
    finally:
        sys.meta_path.remove(hook)
        sys.path[:] = path


def serve_forks(arguments: list[str]) -> None:
    """The zygote: `OWNER LISTENER MODULES... -- COLLECTED...`; in each child it forks, the test process."""
    split = arguments.index("--")
    modules, collected = arguments[2:split], [Path(source) for source in arguments[split + 1 :]]
    forkserver.preimport(lambda: _imports(modules, collected))
    forked = _Forking(int(arguments[0]), int(arguments[1])).serve()
    if forked is not None:
        _run(forked)
