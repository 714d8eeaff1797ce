"""The `aadbot` command: every sub-command of the contract, dispatched to the package that owns it."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for `command` alone when it is known, else for all (help, mistyped commands)."""
    parser = argparse.ArgumentParser(
        prog="aadbot",
        description="Move an Azure DevOps organization from Microsoft accounts to Entra ID, in chat.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    owners = [REGISTERED_BY[command]] if command in REGISTERED_BY else REGISTERED_BY.values()
    for module in dict.fromkeys(owners):
        importlib.import_module(module).register(subparsers)
    return parser


def _command_parser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """The sub-command's own parser (`aadbot ask`'s for `ask`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]  # type: ignore[no-any-return]
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments[0] if arguments else None)
    args, unknown = parser.parse_known_args(arguments)
    if unknown:  # said with the command's own usage, which argparse would give the top level's
        _command_parser(parser, args.command).error(f"unrecognized arguments: {' '.join(unknown)}")
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
