"""The migration plan: who keeps access, who must be mapped or invited, and the prerequisite checks.

Normative rules: `shared/contracts/plan-and-scenario.md`. The JSON form (`Plan.to_json`) is the
contract; `Plan.fingerprint` is what an approval is bound to. `plan_matching.build_plan` works a plan out
from one snapshot; the checks live in the `plan_*` modules named after what they check.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

Outcome = Literal["auto", "map", "invite", "disabled", "ambiguous"]
OUTCOMES: tuple[Outcome, ...] = ("auto", "map", "invite", "disabled", "ambiguous")
UNDECIDED: tuple[Outcome, ...] = ("disabled", "ambiguous")
"""The outcomes that wait for an admin's decision (`workflows.decisions`)."""
GROUPS = ("auto", "to-accept", "map", "invite", "disabled", "ambiguous", "no-access")
"""How the plan places people, each in exactly one group: the counts every message shows. `to-accept`:
matched to a guest account whose invitation is still pending (whichever migration sent it), not yet
`auto` or `map`; `no-access`: disabled or ambiguous, and an admin decided they lose access."""
CheckStatus = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Match:
    id: str
    user_principal_name: str
    by: str


def awaits_acceptance(invitation_pending: bool, outcome: str) -> bool:
    """Whether someone is in the `to-accept` group: their directory account is a guest whose invitation is
    still pending, and Connect carries them over to it (`auto`) or an admin maps them to it (`map`)."""
    return invitation_pending and outcome in ("auto", "map")


@dataclass(frozen=True)
class PlannedUser:
    id: str
    principal_name: str
    outcome: Outcome
    match: Match | None
    candidates: tuple[str, ...] = ()
    display_name: str = ""
    mail_address: str = ""
    invitation_pending: bool = False
    """Matched to a guest who has not accepted the invitation yet: they keep access only once they do."""
    candidate_names: tuple[str, ...] = ()
    """The sign-in names of `candidates`, in the same order: what an admin recognises them by."""
    decided_by: str = ""
    """The admin who decided for this person (an account of their candidates, or no access): see
    `workflows.decisions`."""
    carried_over: tuple[str, ...] = ()
    """Of `candidates`, the guest holding the person's address as their `mail` or `otherMails`: rule 2's
    guest, whom their own address signs in to, so the identity carries over to it should an admin decide
    it is theirs (`workflows.decisions`). Connect carries an identity to one account at most: of several
    such guests only the one holding it as `mail` is kept, and none when that does not single one out."""
    pending_candidates: tuple[str, ...] = ()
    """Of `candidates`, the guests whose invitation is still pending: the one an admin chooses makes the
    person `invitation_pending`, as when it is their only account."""
    left: bool = False
    """Their account is one others would get too (`plan_shared_account.shared_targets`), and an admin
    (`decided_by`) decided that they are the one left without it: they lose access, their outcome and match
    stay the rules'."""

    @property
    def loses_access(self) -> bool:
        """An admin decided this person knowingly loses access (`decide ... no-access`): someone the plan
        could not place, or someone `left` without the account another person keeps."""
        return (self.outcome in UNDECIDED and bool(self.decided_by)) or self.left

    @property
    def group(self) -> str:
        """Their group among `GROUPS`."""
        if self.loses_access:
            return "no-access"
        if awaits_acceptance(self.invitation_pending, self.outcome):
            return "to-accept"
        return self.outcome

    @property
    def address(self) -> str:
        """Their Azure DevOps address: the mail address, or the principal name when there is none."""
        return (self.mail_address or self.principal_name).strip()

    def to_json(self) -> dict[str, Any]:
        match = None
        if self.match is not None:
            match = {
                "id": self.match.id,
                "user_principal_name": self.match.user_principal_name,
                "by": self.match.by,
            }
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
    policy: str = ""
    """The directory's guest invite setting the check read (`allowInvitesFrom`, as Graph spells it), if it
    read one: what bars the invitations (`plan_invitations.invitation_bar`), whatever the words say. Stored
    with the plan (`_plan_codec`), not part of the checks' JSON form."""

    def __post_init__(self) -> None:
        # What to do is part of what chat and `--json` readers see, not only of the `fix` field.
        if self.fix and not self.message.endswith(self.fix):
            # a service's error may end the message without a full stop
            ended = self.message if self.message.endswith((".", "!", "?")) else f"{self.message}."
            object.__setattr__(self, "message", f"{ended} {self.fix}")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "status": self.status, "message": self.message}
        if self.fix:
            data["fix"] = self.fix
        return data


@dataclass(frozen=True)
class Decision:
    """An admin's decision for one person the plan cannot place: `account` is the object id of the
    directory account that is theirs, or `NO_ACCESS` (they knowingly lose access)."""

    user_id: str
    account: str
    by: str


NO_ACCESS = "no-access"


@dataclass(frozen=True)
class Plan:
    organization: str
    tenant_id: str
    users: tuple[PlannedUser, ...]
    checks: tuple[Check, ...]
    connector: str = ""
    tenant_name: str = ""
    decisions: tuple[Decision, ...] = ()
    """The admins' decisions for ambiguous and disabled people, kept across re-plans."""

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        for user in self.users:
            counts[user.outcome] += 1
        return counts

    @property
    def groups(self) -> dict[str, int]:
        """How many people each of `GROUPS` has: what chat shows (`counts` is the contract's, by outcome)."""
        groups: dict[str, int] = dict.fromkeys(GROUPS, 0)
        for user in self.users:
            groups[user.group] += 1
        return groups

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.status == "fail")

    @property
    def undecided(self) -> tuple[PlannedUser, ...]:
        """The disabled and ambiguous people no admin has decided for yet (`workflows.decisions`)."""
        return tuple(user for user in self.users if user.outcome in UNDECIDED and not user.decided_by)

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

    @functools.cached_property
    def fingerprint(self) -> str:
        """Stable digest of what connecting would do: any change to users, outcomes or checks changes it.

        Worked out once per plan (every field is immutable): a step reads it two or three times, and it
        hashes every user (a tenth of a second at 20,000)."""
        material = {
            "organization": self.organization,
            "tenant_id": self.tenant_id,
            "users": sorted(
                (user.id, user.principal_name.casefold(), user.outcome, user.match.id if user.match else "")
                # Only a decision adds a field: plans without one keep the fingerprint they always had.
                + (("decided",) if user.decided_by else ())
                for user in self.users
            ),
            "checks": sorted((check.code, check.status) for check in self.checks),
        }
        encoded = json.dumps(material, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(encoded).hexdigest()[:16]


def address_key(value: str) -> str:
    """A name or address as the plan compares it: trimmed, case folded."""
    return value.strip().casefold()
