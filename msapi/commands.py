"""`aadbot plan`: the migration plan from a scenario (through the in-process sandbox) or the live services."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from typing import TextIO

from msapi._environment import from_environment
from sandbox import Sandbox, ScenarioError, load_scenario
from workflows.directory import MicrosoftError
from workflows.plan import Plan, PlannedUser, build_plan

USAGE_ERROR = 2
FAILURE = 1
_STATUS_MARK = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="show who keeps access, who must be mapped or invited, and the prerequisite checks",
        description="Compute the migration plan from a scenario file (--scenario) or from the live "
        "services (--org and --tenant, credentials from the environment).",
    )
    parser.add_argument("--scenario", metavar="FILE", help="an aadbot-scenario/1 file, served by the sandbox")
    parser.add_argument("--org", metavar="ORG", help="the Azure DevOps organization (live mode)")
    parser.add_argument("--tenant", metavar="TENANT", help="target tenant id or verified domain (live mode)")
    parser.add_argument("--connector", metavar="EMAIL", required=True, help="who will click Connect")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON (the contract's form)")
    parser.add_argument("--csv", metavar="FILE", help="also write the per-user plan as CSV")
    parser.set_defaults(run=run_plan)


def run_plan(args: argparse.Namespace) -> int:
    if args.scenario and (args.org or args.tenant):
        return _usage("give either --scenario or --org with --tenant, not both")
    if not args.scenario and not (args.org and args.tenant):
        return _usage("give --scenario FILE, or --org ORG and --tenant TENANT for the live services")
    if not args.connector.strip() or "@" not in args.connector:
        return _usage(f"--connector must be an email address, got {args.connector!r}")
    box: Sandbox | None = None
    try:
        if args.scenario:
            scenario = load_scenario(args.scenario)
            box = Sandbox(scenario).start()
            environ = {"AADBOT_SANDBOX_URL": box.url, "AZURE_TENANT_ID": scenario.tenant_id}
            organization, tenant = scenario.organization_name, scenario.tenant_id
        else:
            environ, organization, tenant = dict(os.environ), args.org, args.tenant
        try:
            clients = from_environment(environ, progress=_Progress(sys.stderr))
        except MicrosoftError as error:
            return _usage(str(error))
        with clients:
            snapshot = clients.snapshot(organization, tenant, args.connector.strip())
    except ScenarioError as error:
        return _usage(f"invalid scenario {args.scenario}: {error}")
    except MicrosoftError as error:
        print(f"aadbot plan: {error}", file=sys.stderr)
        return FAILURE
    finally:
        if box is not None:
            box.stop()
    plan = build_plan(snapshot, args.connector.strip())
    if args.csv:
        try:
            with open(args.csv, "w", newline="", encoding="utf-8") as file:
                write_csv(plan, file)
        except OSError as error:
            print(f"aadbot plan: cannot write {args.csv}: {error.strerror}", file=sys.stderr)
            return FAILURE
    if args.json:
        json.dump(plan.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_plan(plan))
    return 0


def render_plan(plan: Plan) -> str:
    """The plan for people: one row per user, the counts, then each check."""
    rows = [("OUTCOME", "USER", "ENTRA ID USER", "BY")]
    for user in plan.users:
        rows.append((user.outcome, user.principal_name, _target(user), user.match.by if user.match else ""))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [f"Plan for {plan.organization} -> tenant {plan.tenant_name or plan.tenant_id}", ""]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines += ["", "  ".join(f"{outcome}: {count}" for outcome, count in plan.counts.items()), ""]
    lines += [f"[{_STATUS_MARK[check.status]}] {check.code}: {check.message}" for check in plan.checks]
    return "\n".join(lines) + "\n"


def write_csv(plan: Plan, file: TextIO) -> None:
    writer = csv.writer(file)
    writer.writerow(
        [
            "id",
            "principal_name",
            "display_name",
            "mail_address",
            "outcome",
            "match_id",
            "match_user_principal_name",
            "match_by",
            "candidates",
        ]
    )
    for user in plan.users:
        match = user.match
        writer.writerow(
            _cell(value)
            for value in (
                user.id,
                user.principal_name,
                user.display_name,
                user.mail_address,
                user.outcome,
                match.id if match else "",
                match.user_principal_name if match else "",
                match.by if match else "",
                " ".join(user.candidates),
            )
        )


def _cell(value: str) -> str:
    # A leading = + - @ makes spreadsheets evaluate the cell as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _target(user: PlannedUser) -> str:
    if user.match is not None:
        return user.match.user_principal_name
    if user.candidates:
        return f"{len(user.candidates)} candidates"
    return "(invite as guest)" if user.outcome == "invite" else ""


def _usage(reason: str) -> int:
    print(f"aadbot plan: {reason}", file=sys.stderr)
    return USAGE_ERROR


class _Progress:
    """A one-line progress counter on a terminal; silent when stderr is a file or pipe."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._active = stream.isatty()

    def __call__(self, what: str, done: int, total: int | None) -> None:
        if not self._active:
            return
        of_total = f" of {total:,}" if total else ""
        self._stream.write(f"\rfetching {what}: {done:,}{of_total}\033[K")
        if total is not None and done >= total:
            self._stream.write("\n")
        self._stream.flush()
