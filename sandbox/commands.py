"""`aadbot sandbox`: serve a scenario until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from sandbox._scenario import ScenarioError, load_scenario
from sandbox._server import Sandbox

USAGE_ERROR = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run the Microsoft emulator on a scenario file",
        description="Serve Azure DevOps, Microsoft Graph, Azure Resource Manager and sign-in for one "
        "scenario, each under {base}/{real host}/...; control endpoints under {base}/_sandbox/ "
        "(connect, device/approve, subscription, faults, requests, state).",
    )
    parser.add_argument("--scenario", metavar="FILE", required=True, help="an aadbot-scenario/1 file")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    parser.add_argument(
        "--page-size",
        type=int,
        default=100,
        help="Azure DevOps page size (entitlements, groups; default 100)",
    )
    parser.set_defaults(run=run_sandbox)


def run_sandbox(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        print(f"aadbot sandbox: --port {args.port} is not a TCP port", file=sys.stderr)
        return USAGE_ERROR
    if args.page_size < 1:
        print("aadbot sandbox: --page-size must be at least 1", file=sys.stderr)
        return USAGE_ERROR
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as error:
        print(f"aadbot sandbox: invalid scenario {args.scenario}: {error}", file=sys.stderr)
        return USAGE_ERROR
    try:
        box = Sandbox(scenario, host=args.host, port=args.port, page_size=args.page_size).start()
    except RuntimeError as error:
        print(
            f"aadbot sandbox: {error}; give --host an address of this machine (127.0.0.1 unless told) and"
            " a --port nothing else listens on (0 picks a free one)",
            file=sys.stderr,
        )
        return USAGE_ERROR
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"listening on {box.url}", flush=True)
        stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        box.stop()
    return 0
