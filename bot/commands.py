"""The console sub-commands: `aadbot demo` and `aadbot chat`."""

from __future__ import annotations

import argparse
import os
import sys

from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser("demo", help="play a whole migration of the bundled example organization")
    demo.set_defaults(run=_demo)
    chat = subparsers.add_parser("chat", help="chat with the bot in the console as a named person")
    chat.add_argument("--as", dest="email", required=True, metavar="EMAIL", help="who you are")
    chat.add_argument(
        "--scenario", metavar="FILE", help="use the sandbox with this scenario (default: the bundled example)"
    )
    chat.set_defaults(run=_chat)


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo(sys.stdout)


def _chat(args: argparse.Namespace) -> int:
    from bot.console.chat import run_chat
    from bot.demo import bundled_scenario
    from bot.runtime import build_runtime

    settings = Settings.from_environment(os.environ)
    if args.scenario or not (settings.sandbox_url or settings.microsoft_environment):
        settings = Settings(
            **{**vars(settings), "sandbox_scenario": args.scenario or str(bundled_scenario())}
        )
    runtime = build_runtime(settings)
    try:
        return run_chat(runtime, args.email, sys.stdin, sys.stdout)
    finally:
        runtime.close()
