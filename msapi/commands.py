"""`aadbot plan` (the migration plan, from a scenario or the live services) and `aadbot signin`."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import sys
from typing import TextIO

from msapi._environment import from_environment, signin_from_environment
from sandbox import Sandbox, ScenarioError, load_scenario
from workflows.directory import MicrosoftError, MissingPermission
from workflows.plan import Plan, PlannedUser
from workflows.plan_matching import build_plan

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
    signin = subparsers.add_parser(
        "signin",
        help="sign in as yourself with a device code, for delegated Microsoft Graph and ARM calls",
        description="Show Microsoft's device-code message, wait for the sign-in and keep it in the token "
        "cache (AADBOT_TOKEN_CACHE). Then AZURE_AUTH=device makes every Graph and Azure Resource "
        "Manager call as that person instead of the app registration.",
    )
    signin.add_argument(
        "--tenant", metavar="T", help="tenant id or verified domain (default AZURE_TENANT_ID)"
    )
    signin.add_argument(
        "--client-id",
        metavar="ID",
        help="app registration allowing public client flows (default AZURE_CLIENT_ID)",
    )
    signin.set_defaults(run=run_signin)


def run_plan(args: argparse.Namespace) -> int:
    if args.scenario and (args.org or args.tenant):
        return _usage("give either --scenario or --org with --tenant, not both")
    if not args.scenario and not (args.org and args.tenant):
        return _usage("give --scenario FILE, or --org ORG and --tenant TENANT for the live services")
    if not args.connector.strip() or "@" not in args.connector:
        return _usage(f"--connector must be an email address, got {args.connector!r}")
    box: Sandbox | None = None
    progress = Progress(sys.stderr)
    try:
        if args.scenario:
            scenario = load_scenario(args.scenario)
            box = Sandbox(scenario).start()
            environ = {"AADBOT_SANDBOX_URL": box.url, "AZURE_TENANT_ID": scenario.tenant_id}
            organization, tenant = scenario.organization_name, scenario.tenant_id
        else:
            environ, organization, tenant = dict(os.environ), args.org, args.tenant
        try:
            clients = from_environment(environ, progress=progress)
        except MicrosoftError as error:
            return _usage(str(error))
        with clients:
            snapshot = clients.snapshot(organization, tenant, args.connector.strip())
    except ScenarioError as error:
        return _usage(f"invalid scenario {args.scenario}: {error}")
    except MicrosoftError as error:
        print(_microsoft_failed(error), file=sys.stderr)
        return FAILURE
    finally:
        progress.finish()
        if box is not None:
            box.stop()
    plan = build_plan(snapshot, args.connector.strip())
    if args.csv:
        try:
            with open(args.csv, "w", newline="", encoding="utf-8") as file:
                write_csv(plan, file)
        except OSError as error:
            print(
                f"aadbot plan: the plan was made, but writing its CSV to {args.csv} failed"
                f" ({error.strerror}), so nothing was printed either. Fix: give --csv a file in a directory"
                " you may write to (or leave --csv out), then run it again.",
                file=sys.stderr,
            )
            return FAILURE
    if args.json:
        json.dump(plan.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_plan(plan))
    if plan.failed_checks:  # still exit 0: the plan contract's (a script gates on `doctor`, which exits 1)
        failed = ", ".join(check.code for check in plan.failed_checks)
        print(f"aadbot plan: a prerequisite fails ({failed}): fix it before connecting.", file=sys.stderr)
    return 0


def run_signin(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        try:
            signin = stack.enter_context(
                signin_from_environment(os.environ, tenant=args.tenant, client_id=args.client_id)
            )
        except MicrosoftError as error:
            print(f"aadbot signin: {error}", file=sys.stderr)
            return USAGE_ERROR
        try:
            code = signin.start()
            print(code.message, flush=True)
            sandbox_url = signin.session.router.sandbox_url
            if sandbox_url:
                approve = json.dumps({"user_code": code.user_code, "user": "UPN"})
                print(f"(sandbox: POST {sandbox_url}/_sandbox/device/approve {approve})", file=sys.stderr)
            signed_in = signin.wait(code)
        except MicrosoftError as error:
            print(f"aadbot signin: {error}", file=sys.stderr)
            return FAILURE
    print(
        f"Signed in as {signed_in.username} (tenant {signed_in.tenant_id}); kept in {signin.cache_path}. "
        "Set AZURE_AUTH=device to act as this account."
    )
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
            "candidate_upns",
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
                " ".join(user.candidate_names),
            )
        )


def _cell(value: str) -> str:
    # A leading = + - @ makes spreadsheets evaluate the cell as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _target(user: PlannedUser) -> str:
    if user.match is not None:
        return user.match.user_principal_name
    if user.candidates:
        return " or ".join(user.candidate_names)
    return "(invite as guest)" if user.outcome == "invite" else ""


def _microsoft_failed(error: MicrosoftError) -> str:
    """Exit 1 for reading Microsoft's services as for writing the CSV: the message tells them apart, with
    the fix (a missing permission's own, named by Microsoft's name for it)."""
    said = str(error).rstrip()
    said += "" if said.endswith((".", "!", "?")) else "."
    fix = (
        ""
        if isinstance(error, MissingPermission)
        else " Fix: check the organization and tenant names and the credentials (`aadbot doctor --org ORG"
        " --tenant TENANT` checks each permission the live services need), then run it again; if a"
        " service was down, run it again later."
    )
    return f"aadbot plan: reading Microsoft's services failed, so there is no plan and no CSV: {said}{fix}"


def _usage(reason: str) -> int:
    print(f"aadbot plan: {reason}", file=sys.stderr)
    return USAGE_ERROR


class Progress:
    """A progress bar on a terminal (a running count where the total is unknown); silent on a pipe."""

    def __init__(self, stream: TextIO, *, width: int = 30) -> None:
        self._stream = stream
        self._active = stream.isatty()
        self._width = width
        self._line_open = False

    def __call__(self, what: str, done: int, total: int | None) -> None:
        if not self._active:
            return
        if total:
            filled = self._width * min(done, total) // total
            line = f"fetching {what} [{'#' * filled}{'.' * (self._width - filled)}] {done:,} of {total:,}"
        else:
            line = f"fetching {what}: {done:,}"
        self._stream.write(f"\r{line}\033[K")
        self._line_open = True
        if total is not None and done >= total:
            self.finish()
        self._stream.flush()

    def finish(self) -> None:
        """End the bar's line so what follows starts on a fresh one."""
        if self._line_open:
            self._stream.write("\n")
            self._stream.flush()
            self._line_open = False
