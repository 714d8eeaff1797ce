"""The migration plan: who keeps access, who must be mapped or invited, and the prerequisite checks.

Normative rules: `shared/contracts/plan-and-scenario.md`. The JSON form (`Plan.to_json`) is the
contract; `Plan.fingerprint` is what an approval is bound to.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from workflows.directory import DirectorySnapshot

Outcome = Literal["auto", "map", "invite", "disabled", "ambiguous"]
OUTCOMES: tuple[Outcome, ...] = ("auto", "map", "invite", "disabled", "ambiguous")
CheckStatus = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Match:
    id: str
    user_principal_name: str
    by: str


@dataclass(frozen=True)
class PlannedUser:
    id: str
    principal_name: str
    outcome: Outcome
    match: Match | None
    candidates: tuple[str, ...] = ()
    display_name: str = ""
    mail_address: str = ""

    def to_json(self) -> dict[str, Any]:
        match = None
        if self.match is not None:
            match = {"id": self.match.id, "user_principal_name": self.match.user_principal_name, "by": self.match.by}
        return {
            "id": self.id,
            "principal_name": self.principal_name,
            "outcome": self.outcome,
            "match": match,
            "candidates": list(self.candidates),
        }


@dataclass(frozen=True)
class Check:
    code: str
    status: CheckStatus
    message: str
    fix: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "status": self.status, "message": self.message}
        if self.fix:
            data["fix"] = self.fix
        return data


@dataclass(frozen=True)
class Plan:
    organization: str
    tenant_id: str
    users: tuple[PlannedUser, ...]
    checks: tuple[Check, ...]
    connector: str = ""
    tenant_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for user in self.users:
            counts[user.outcome] += 1
        return counts

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.status == "fail")

    def users_with(self, outcome: Outcome) -> tuple[PlannedUser, ...]:
        return tuple(user for user in self.users if user.outcome == outcome)

    def to_json(self) -> dict[str, Any]:
        return {
            "organization": self.organization,
            "tenant_id": self.tenant_id,
            "users": [user.to_json() for user in self.users],
            "counts": self.counts,
            "checks": [check.to_json() for check in self.checks],
        }

    @property
    def fingerprint(self) -> str:
        """Stable digest of what connecting would do; any change to users or outcomes changes it."""
        material = {
            "organization": self.organization,
            "tenant_id": self.tenant_id,
            "users": sorted(
                (user.id, user.principal_name.casefold(), user.outcome, user.match.id if user.match else "")
                for user in self.users
            ),
        }
        encoded = json.dumps(material, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(encoded).hexdigest()[:16]


def build_plan(snapshot: DirectorySnapshot, connector: str) -> Plan:
    """Apply the contract's matching rules and checks to one snapshot."""
    raise NotImplementedError
