"""`aadbot snapshot`: the live organization and directory, read-only, into an `aadbot-scenario/1` file.

The file is written as the pages arrive: one page of entitlements or directory users is in memory at
a time, so 100,000 users cost no more than a hundred. What the credentials were actually granted goes
into `credentials`, so a rehearsal in the sandbox meets the same refusals as the real run would.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from msapi._clients import MicrosoftClients
from msapi._devops import EntitlementTally
from msapi._environment import from_environment
from msapi._graph import USER_FIELDS
from msapi._pseudonyms import Pseudonyms
from msapi.commands import FAILURE, USAGE_ERROR, Progress
from workflows.directory import MicrosoftError

FORMAT = "aadbot-scenario/1"
_ENTITLEMENT_USER_FIELDS = (
    "subjectKind",
    "metaType",
    "origin",
    "originId",
    "principalName",
    "mailAddress",
    "displayName",
    "descriptor",
    "domain",
)
_DIRECTORY_USER_FIELDS = tuple(USER_FIELDS.split(","))
"""Exactly what the plan reads of a directory user (Graph's `$select`)."""
PAT_SCOPES_VARIABLE = "AZURE_DEVOPS_PAT_SCOPES"
"""A PAT cannot read its own scopes; whoever made it can list them here (comma-separated scope ids)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "snapshot",
        help="read the live organization and directory (read-only) into a scenario file to rehearse with",
        description="Write an aadbot-scenario/1 file from the live services (credentials from the "
        "environment, or a sandbox through AADBOT_SANDBOX_URL). Rehearse with `aadbot chat --as ADMIN "
        "--scenario FILE`; `aadbot plan --scenario FILE` gives every user the live plan's outcome.",
    )
    parser.add_argument("--org", metavar="ORG", required=True, help="the Azure DevOps organization")
    parser.add_argument(
        "--tenant", metavar="TENANT", required=True, help="target tenant id or verified domain"
    )
    parser.add_argument("--out", metavar="FILE", required=True, help="where to write the scenario")
    parser.add_argument(
        "--redact",
        action="store_true",
        help="replace names, addresses and the tenant's, organization's and subscription's ids with"
        " consistent stand-ins, so the file can be shared",
    )
    parser.set_defaults(run=run_snapshot)


def run_snapshot(args: argparse.Namespace) -> int:
    organization, tenant = args.org.strip(), args.tenant.strip()
    if not organization or not tenant:
        return _fail("give --org ORG and --tenant TENANT", USAGE_ERROR)
    out = Path(args.out)
    if out.is_dir():
        return _fail(
            f"--out {out} is a folder; give a file name such as {out / 'rehearsal.json'}", USAGE_ERROR
        )
    progress = Progress(sys.stderr)
    partial = out.with_name(out.name + ".partial")
    try:
        clients = from_environment(os.environ, progress=progress)
    except MicrosoftError as error:
        return _fail(str(error), USAGE_ERROR)
    pseudonyms = Pseudonyms.fresh() if args.redact else None
    try:
        with clients, partial.open("w", encoding="utf-8") as file:
            summary = write_snapshot(
                clients,
                organization,
                tenant,
                file,
                pseudonyms=pseudonyms,
                progress=progress,
                environ=os.environ,
            )
        partial.replace(out)  # a half-written file never carries the final name
    except MicrosoftError as error:
        partial.unlink(missing_ok=True)
        return _fail(str(error), FAILURE)
    except OSError as error:
        partial.unlink(missing_ok=True)
        return _fail(f"cannot write {out}: {error.strerror or error}", FAILURE)
    except BaseException:  # interrupted (Ctrl-C) or worse: no half-written file stays behind
        partial.unlink(missing_ok=True)
        raise
    finally:
        progress.finish()
    print(summary.describe(out), file=sys.stderr)
    return 0


@dataclass
class SnapshotSummary:
    organization: str
    tenant_id: str
    entitlements: int = 0
    directory_users: int = 0
    admins: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    def describe(self, out: Path) -> str:
        admin = self.admins[0] if self.admins else "ADMIN@EXAMPLE.COM"
        lines = [
            f"Wrote {out}: {self.entitlements:,} organization users,"
            f" {self.directory_users:,} directory users.",
            *self.notes,
            "Rehearse it in the sandbox, nothing real is touched:",
            f"  aadbot plan --scenario {out} --connector {admin}",
            f"  aadbot chat --as {admin} --scenario {out}   then: start {self.organization} {self.tenant_id}",
        ]
        if len(self.admins) > 1:
            lines.insert(-3, f"Administrators in the file: {', '.join(self.admins)}.")
        return "\n".join(lines)


def write_snapshot(
    clients: MicrosoftClients,
    organization: str,
    tenant: str,
    out: TextIO,
    *,
    pseudonyms: Pseudonyms | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> SnapshotSummary:
    """Stream the scenario into `out`. Read-only: GETs, and the administrators' subject lookup (a read
    despite its POST)."""
    redact = pseudonyms or Pseudonyms.none()
    found = clients.organization(organization)  # owner, administrators (groups walked), billing
    directory = clients.tenant(tenant)
    summary = SnapshotSummary(redact.organization(found.name), redact.identifier(directory.id) or "")
    writer = _JsonObjectWriter(out)
    writer.value("format", FORMAT)

    owner, administrators = found.owner, found.administrators
    entitlements, tally = writer.array("user_entitlements"), EntitlementTally()
    for items, total in clients.entitlement_pages(organization):
        for item in tally.new(items, total):
            entitlements.item(redact.entitlement(_entitlement(item)))
            summary.entitlements += 1
        if progress is not None:
            progress("organization users", summary.entitlements, total)
    # streamed as read, so not read again
    tally.check(
        organization, again=False, harm="a rehearsal from this file would leave out whoever is missing"
    )
    entitlements.close()

    writer.key("tenant")
    tenant_writer = _JsonObjectWriter(out)
    tenant_writer.value("id", summary.tenant_id)
    tenant_writer.value("displayName", redact.label("Directory", directory.display_name))
    tenant_writer.value(
        "verifiedDomains",
        [
            {"name": redact.domain(name), "isDefault": name == directory.default_domain, "isInitial": False}
            for name in directory.verified_domains
        ],
    )
    tenant_writer.value("authorizationPolicy", {"allowInvitesFrom": clients.allow_invites_from(directory.id)})
    roles = {}
    for admin in dict.fromkeys(filter(None, (owner, *administrators))):
        try:
            held = clients.directory_roles(directory.id, admin)
        except (
            MicrosoftError
        ) as error:  # e.g. an app without Directory.Read.All: the plan reads them live too
            summary.notes.append(f"The administrators' directory roles could not be read ({error}).")
            break
        if held:
            roles[redact.address(admin)] = held
    tenant_writer.value("directoryRoles", roles)
    users = tenant_writer.array("users")
    for items, total in clients.directory_user_pages(directory.id):
        for item in items:
            users.item(redact.directory_user({key: item.get(key) for key in _DIRECTORY_USER_FIELDS}))
            summary.directory_users += 1
        if progress is not None:
            progress("directory users", summary.directory_users, total)
    users.close()
    tenant_writer.close()

    billing_id = found.billing_subscription_id
    subscription, readable = None, True
    if billing_id:
        try:
            subscription = clients.subscription(billing_id, directory.id)
        except MicrosoftError as error:  # a role missing: the rehearsal must meet the same refusal
            readable = False
            summary.notes.append(f"Recorded as no Azure role on {billing_id}: {error}")
    summary.admins = tuple(
        redact.address(admin) for admin in dict.fromkeys(filter(None, (owner, *administrators)))
    )
    writer.value(
        "organization",
        {
            "name": summary.organization,
            "id": redact.identifier(found.id),
            "connected_tenant_id": redact.identifier(found.connected_tenant_id),
            "owner": redact.address(owner) if owner else None,
            "project_collection_administrators": [redact.address(admin) for admin in administrators],
            "billing_subscription_id": redact.identifier(billing_id),
        },
    )
    writer.value(
        "subscriptions",
        [
            {
                "subscriptionId": redact.identifier(subscription.id),
                "displayName": redact.label("Subscription", subscription.display_name),
                "tenantId": redact.identifier(subscription.tenant_id),
                "state": subscription.state or "Enabled",
            }
        ]
        if subscription is not None
        else [],
    )
    credentials, notes = _granted(
        clients, directory.id, redact.identifier(billing_id), readable, environ or {}
    )
    summary.notes.extend(notes)
    if credentials:
        writer.value("credentials", credentials)
    writer.value(
        "snapshot",
        {
            "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "redacted": pseudonyms is not None,
            "entitlements": summary.entitlements,
            "directory_users": summary.directory_users,
        },
    )
    writer.close()
    out.write("\n")
    return summary


def _entitlement(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of an entitlement the bot reads, in Microsoft's shape (no project or group lists)."""
    user = item.get("user") or {}
    return {
        "id": item.get("id"),
        "user": {key: user[key] for key in _ENTITLEMENT_USER_FIELDS if key in user},
        "accessLevel": item.get("accessLevel") or {},
        "lastAccessedDate": item.get("lastAccessedDate"),
        "dateCreated": item.get("dateCreated"),
    }


def _granted(
    clients: MicrosoftClients,
    tenant_id: str,
    billing_id: str | None,
    subscription_read: bool,
    environ: Mapping[str, str],
) -> tuple[dict[str, Any], list[str]]:
    """What the credentials may do, as far as it can be seen without trying a write."""
    credentials: dict[str, Any] = {}
    notes: list[str] = []
    claims = clients.graph_token_claims(tenant_id)
    if isinstance(claims.get("roles"), list):
        credentials["graph_app_roles"] = sorted(str(role) for role in claims["roles"])
    elif isinstance(claims.get("scp"), str):
        credentials["graph_delegated_scopes"] = sorted(claims["scp"].split())
    else:
        notes.append("The Graph token does not show its permissions; the file grants every Graph permission.")
    pat_scopes = [scope.strip() for scope in environ.get(PAT_SCOPES_VARIABLE, "").split(",") if scope.strip()]
    if pat_scopes:
        credentials["devops_pat_scopes"] = sorted(set(pat_scopes))
    else:
        notes.append(
            f"A PAT cannot read its own scopes: set {PAT_SCOPES_VARIABLE} (e.g."
            " vso.memberentitlementmanagement_write,vso.graph) to record them; the file grants every scope."
        )
    if billing_id and not subscription_read:
        credentials["arm_roles"] = {billing_id: []}
    return credentials, notes


class _JsonObjectWriter:
    """Writes one JSON object member by member, so big arrays can be streamed into it."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._first = True
        out.write("{")

    def key(self, name: str) -> None:
        self._out.write(("\n" if self._first else ",\n") + json.dumps(name) + ": ")
        self._first = False

    def value(self, name: str, value: object) -> None:
        self.key(name)
        self._out.write(json.dumps(value, ensure_ascii=False))

    def array(self, name: str) -> _JsonArrayWriter:
        self.key(name)
        return _JsonArrayWriter(self._out)

    def close(self) -> None:
        self._out.write("\n}")


class _JsonArrayWriter:
    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._first = True
        out.write("[")

    def item(self, value: object) -> None:
        self._out.write(("\n" if self._first else ",\n") + json.dumps(value, ensure_ascii=False))
        self._first = False

    def close(self) -> None:
        self._out.write("\n]")


def _fail(reason: str, code: int) -> int:
    print(f"aadbot snapshot: {reason}", file=sys.stderr)
    return code
