"""The `aadbot` command: every sub-command of the contract, dispatched to the package that owns it."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from bot.settings import SettingsError

USAGE_ERROR = 2
REGISTERED_BY = {
    "demo": "bot.commands",
    "chat": "bot.commands",
    "serve": "bot.commands",
    "doctor": "bot.doctor",
    "teams-package": "bot.teams.package",
    "plan": "msapi.commands",
    "signin": "msapi.commands",
    "snapshot": "msapi.snapshot",
    "sandbox": "sandbox.commands",
    "ask": "faq.commands",
}
"""The module whose `register` adds each sub-command. A command imports only its own module: each costs
up to a second of CPU to import (the database, Slack, Microsoft's libraries), which `aadbot sandbox` or
`aadbot doctor` never use."""


def build_parser(
    command: str | None = None,
) -> tuple[argparse.ArgumentParser, Mapping[str, argparse.ArgumentParser]]:
    """The parser for `command` alone when it is known, else for all (help, mistyped commands), and each
    sub-command's own parser by name (its usage is the one to show for an option it does not know)."""
    parser = argparse.ArgumentParser(
        prog="aadbot",
        description="Move an Azure DevOps organization from Microsoft accounts to Entra ID, in chat.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    owners = [REGISTERED_BY[command]] if command in REGISTERED_BY else REGISTERED_BY.values()
    for module in dict.fromkeys(owners):
        importlib.import_module(module).register(subparsers)
    return parser, subparsers.choices


def _refuse_unknown(
    parser: argparse.ArgumentParser,
    commands: Mapping[str, argparse.ArgumentParser],
    arguments: Sequence[str],
    command: str,
    unknown: Sequence[str],
) -> None:
    """Exits naming what was not understood, with the usage of whoever should have understood it: the top
    level's for what comes before the command (it knows only --help), else the command's own (argparse
    would give the top level's for both)."""
    early = [argument for argument in arguments[: arguments.index(command)] if argument in unknown]
    if early:
        parser.error(f"unrecognized arguments: {' '.join(early)}")
    commands[command].error(f"unrecognized arguments: {' '.join(unknown)}")


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser, commands = build_parser(arguments[0] if arguments else None)
    args, unknown = parser.parse_known_args(arguments)
    if unknown:
        _refuse_unknown(parser, commands, arguments, args.command, unknown)
    try:
        code = int(args.run(args))
        sys.stdout.flush()  # here, where a reader that left (`| head`) can still be answered quietly
        return code
    except SettingsError as error:
        print(f"aadbot: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader (`| head`) has what it wanted; the interpreter's own flush at exit must not complain
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # the last line of defence: one line, never a traceback
        logging.getLogger("aadbot").debug("unhandled", exc_info=True)
        print(f"aadbot: failed unexpectedly: {error or 'no details'}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
