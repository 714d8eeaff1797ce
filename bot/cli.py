"""The `aadbot` command: every sub-command of the contract, dispatched to the package that owns it."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot.settings import SettingsError

USAGE_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    from bot import commands as bot_commands
    from faq import commands as faq_commands
    from msapi import commands as plan_commands
    from msapi import snapshot as snapshot_commands
    from sandbox import commands as sandbox_commands

    parser = argparse.ArgumentParser(
        prog="aadbot",
        description="Move an Azure DevOps organization from Microsoft accounts to Entra ID, in chat.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    bot_commands.register(subparsers)
    plan_commands.register(subparsers)
    snapshot_commands.register(subparsers)
    sandbox_commands.register(subparsers)
    faq_commands.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except SettingsError as error:
        print(f"aadbot: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the last line of defence: one line, never a traceback
        logging.getLogger("aadbot").debug("unhandled", exc_info=True)
        print(f"aadbot: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
