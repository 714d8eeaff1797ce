"""Reading and validating `aadbot-scenario/1` files (contract: `plan-and-scenario.md` §1).

Validation fills in the defaults Microsoft's services would report (zero tenant, descriptors,
empty lists) so the emulator can serve every object without re-checking it.
"""

from __future__ import annotations

import base64
import json
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

FORMAT = "aadbot-scenario/1"
ZERO_TENANT = "00000000-0000-0000-0000-000000000000"
ALLOW_INVITES_FROM = ("everyone", "adminsGuestInvitersAndAllMembers", "adminsAndGuestInviters", "none")


class ScenarioError(ValueError):
    """The scenario breaks the format; the message names the offending path."""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. `data` is the normalized JSON object (Microsoft's field names)."""

    data: dict[str, Any]

    @property
    def organization_name(self) -> str:
        return str(self.data["organization"]["name"])

    @property
    def tenant_id(self) -> str:
        return str(self.data["tenant"]["id"])


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; `ScenarioError` names the problem, not the path, which every
    caller names already."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(
            f"cannot read the file ({error.strerror or error}); give the path of a scenario file, such as"
            " one `aadbot snapshot --out FILE` wrote or the sandbox's own sandbox/scenarios/fabrikam.json"
        ) from None
    except UnicodeDecodeError:
        raise ScenarioError(
            "not a text file (a scenario is UTF-8 JSON, as `aadbot snapshot --out FILE` writes)"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioError(f"not JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    except RecursionError:
        raise ScenarioError("nested far deeper than any scenario (a few levels)") from None
    return parse_scenario(data)


def parse_scenario(data: object) -> Scenario:
    """Validate an already-decoded scenario object."""
    root = _object(data, "(root)")
    if root.get("format") != FORMAT:
        raise ScenarioError(f"format: expected {FORMAT!r}, got {root.get('format')!r}")
    organization = _organization(_object(root.get("organization"), "organization", required=True))
    entitlements = [
        _entitlement(_object(item, f"user_entitlements[{index}]"), f"user_entitlements[{index}]")
        for index, item in enumerate(_list(root, "user_entitlements", ""))
    ]
    _unique(entitlements, lambda item: str(item["id"]).casefold(), "user_entitlements", ".id")
    tenant = _tenant(_object(root.get("tenant"), "tenant", required=True))
    subscriptions = [
        _subscription(_object(item, f"subscriptions[{index}]"), f"subscriptions[{index}]")
        for index, item in enumerate(_list(root, "subscriptions", ""))
    ]
    normalized = dict(root)
    if root.get("credentials") is not None:
        normalized["credentials"] = _credentials(_object(root["credentials"], "credentials"))
    if root.get("teams") is not None:
        normalized["teams"] = _teams(_object(root["teams"], "teams"))
    normalized.update(
        organization=organization, user_entitlements=entitlements, tenant=tenant, subscriptions=subscriptions
    )
    return Scenario(normalized)


def _credentials(raw: dict[str, Any]) -> dict[str, Any]:
    """`credentials`: lists of Microsoft's permission, scope and role names; a missing list grants all."""
    result: dict[str, Any] = {}
    for key in ("graph_app_roles", "graph_delegated_scopes", "devops_pat_scopes"):
        if raw.get(key) is not None:
            result[key] = _names(raw[key], f"credentials.{key}")
    if raw.get("arm_roles") is not None:
        result["arm_roles"] = {
            str(subscription): _names(roles, f"credentials.arm_roles.{subscription}")
            for subscription, roles in _object(raw["arm_roles"], "credentials.arm_roles").items()
        }
    return result


def _teams(raw: dict[str, Any]) -> dict[str, Any]:
    """`teams`: who has the bot installed and who blocked it (UPNs), the channel's name; extensions: each
    person's time zone (`timeZones`, UPN to IANA name) and the tenant's rate limit per second."""
    result = dict(raw)
    for key in ("installed", "blocked"):
        result[key] = _names(raw[key], f"teams.{key}") if raw.get(key) is not None else []
    _optional_string(raw, "channel", "teams")
    zones = raw.get("timeZones")
    if zones is not None:
        for upn, zone in _object(zones, "teams.timeZones").items():
            _time_zone(zone, f"teams.timeZones.{upn}")
    limit = raw.get("tenantLimitPerSecond")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ScenarioError("teams.tenantLimitPerSecond: expected a whole number of messages, 0 or more")
    return result


def _time_zone(value: object, path: str) -> None:
    """An IANA time zone name, as Teams' `clientInfo.timezone` gives it (`Asia/Tokyo`)."""
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{path}: expected an IANA time zone name such as 'Europe/Paris'")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(
            f"{path}: {value!r} is not an IANA time zone name (such as 'Europe/Paris')"
        ) from None


def _names(value: object, path: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ScenarioError(f"{path}: expected a list of names")
    return [item.strip() for item in value]


def descriptor_for(kind: str, name: str) -> str:
    """A stable subject descriptor (`msa.…`, `vssgp.…`) for a principal the scenario names only by name."""
    encoded = base64.urlsafe_b64encode(name.casefold().encode()).decode().rstrip("=")
    return f"{kind}.{encoded}"


def _organization(org: dict[str, Any]) -> dict[str, Any]:
    result = dict(org)
    result["name"] = _string(org, "name", "organization")
    result["id"] = _optional_string(org, "id", "organization") or str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"https://dev.azure.com/{result['name']}")
    )
    result["connected_tenant_id"] = _guid(org, "connected_tenant_id", "organization", default=ZERO_TENANT)
    result["owner"] = _optional_string(org, "owner", "organization")
    result["project_collection_administrators"] = [
        _admin_entry(item, f"organization.project_collection_administrators[{index}]")
        for index, item in enumerate(_list(org, "project_collection_administrators", "organization."))
    ]
    result["billing_subscription_id"] = _optional_string(org, "billing_subscription_id", "organization")
    return result


def _admin_entry(item: object, path: str) -> str | dict[str, Any]:
    """A principal name, or a nested group `{"displayName": ..., "members": [...]}` (an extension)."""
    if isinstance(item, str):
        if not item.strip():
            raise ScenarioError(f"{path}: empty")
        return item
    group = _object(item, path)
    name = _string(group, "displayName", path)
    members = [
        _admin_entry(member, f"{path}.members[{index}]")
        for index, member in enumerate(_list(group, "members", path + "."))
    ]
    return {"displayName": name, "members": members}


def _entitlement(item: dict[str, Any], path: str) -> dict[str, Any]:
    result = dict(item)
    result["id"] = _string(item, "id", path)
    user = dict(_object(item.get("user"), f"{path}.user", required=True))
    principal = _string(user, "principalName", f"{path}.user")
    for key in ("mailAddress", "displayName", "origin", "originId", "descriptor", "domain", "subjectKind"):
        _optional_string(user, key, f"{path}.user")
    user.setdefault("subjectKind", "user")
    user["origin"] = user.get("origin") or "msa"
    user["mailAddress"] = user.get("mailAddress") or ""
    user["displayName"] = user.get("displayName") or principal
    user["descriptor"] = user.get("descriptor") or descriptor_for(user["origin"], principal)
    result["user"] = user
    access = item.get("accessLevel")
    if access is not None:
        access = dict(_object(access, f"{path}.accessLevel"))
        for key in (
            "licensingSource",
            "accountLicenseType",
            "msdnLicenseType",
            "licenseDisplayName",
            "status",
        ):
            _optional_string(access, key, f"{path}.accessLevel")
    result["accessLevel"] = access or {
        "licensingSource": "account",
        "accountLicenseType": "express",
        "msdnLicenseType": "none",
        "licenseDisplayName": "Basic",
        "status": "active",
    }
    for key in ("lastAccessedDate", "dateCreated"):
        _date(item, key, path)
    return result


def _tenant(tenant: dict[str, Any]) -> dict[str, Any]:
    result = dict(tenant)
    result["id"] = _guid(tenant, "id", "tenant")
    result["displayName"] = _optional_string(tenant, "displayName", "tenant") or ""
    domains = []
    for index, item in enumerate(_list(tenant, "verifiedDomains", "tenant.")):
        path = f"tenant.verifiedDomains[{index}]"
        domain = dict(_object(item, path))
        domain["name"] = _string(domain, "name", path)
        for flag in ("isDefault", "isInitial"):
            domain[flag] = _optional_bool(domain, flag, path, default=False)
        domains.append(domain)
    result["verifiedDomains"] = domains
    policy = tenant.get("authorizationPolicy")
    policy = dict(_object(policy, "tenant.authorizationPolicy")) if policy is not None else {}
    allow = policy.get("allowInvitesFrom") or "everyone"
    if allow not in ALLOW_INVITES_FROM:
        raise ScenarioError(
            f"tenant.authorizationPolicy.allowInvitesFrom: {allow!r} is not one of "
            + ", ".join(ALLOW_INVITES_FROM)
        )
    policy["allowInvitesFrom"] = allow
    result["authorizationPolicy"] = policy
    users = [
        _directory_user(_object(item, f"tenant.users[{i}]"), f"tenant.users[{i}]")
        for i, item in enumerate(_list(tenant, "users", "tenant."))
    ]
    _unique(users, lambda user: str(user["id"]).casefold(), "tenant.users", ".id")
    _unique(
        users, lambda user: str(user["userPrincipalName"]).casefold(), "tenant.users", ".userPrincipalName"
    )
    result["users"] = users
    roles = tenant.get("directoryRoles")
    result["directoryRoles"] = {}
    if roles is not None:
        seen: dict[str, str] = {}
        for upn, names in _object(roles, "tenant.directoryRoles").items():
            path = f"tenant.directoryRoles.{upn}"
            if names is None:  # the contract allows null: no roles
                names = []
            if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
                raise ScenarioError(f"{path}: expected a list of role names (or null for none)")
            # matched to a user as `State.roles_of` matches principal names: without case, and here without
            # the spaces a hand-written key may carry
            key = upn.strip()
            if key.casefold() in seen:
                raise ScenarioError(f"{path}: the same user as tenant.directoryRoles.{seen[key.casefold()]}")
            seen[key.casefold()] = upn
            result["directoryRoles"][key] = names
    return result


def _directory_user(user: dict[str, Any], path: str) -> dict[str, Any]:
    result = dict(user)
    result["id"] = _string(user, "id", path)
    result["userPrincipalName"] = _string(user, "userPrincipalName", path)
    for key in ("displayName", "mail", "userType", "externalUserState"):
        _optional_string(user, key, path)
    for key in ("otherMails", "proxyAddresses"):
        values = user.get(key)
        if values is None:
            result[key] = []
        elif not isinstance(values, list) or not all(isinstance(value, str) for value in values):
            raise ScenarioError(f"{path}.{key}: expected a list of strings")
    result["userType"] = user.get("userType") or "Member"
    result["accountEnabled"] = _optional_bool(user, "accountEnabled", path, default=True)
    return result


def _subscription(item: dict[str, Any], path: str) -> dict[str, Any]:
    result = dict(item)
    result["subscriptionId"] = _string(item, "subscriptionId", path)
    result["tenantId"] = _guid(item, "tenantId", path)
    result["displayName"] = _optional_string(item, "displayName", path) or ""
    result["state"] = _optional_string(item, "state", path) or "Enabled"
    return result


def _object(value: object, path: str, *, required: bool = False) -> dict[str, Any]:
    if value is None and required:
        raise ScenarioError(f"{path}: missing")
    if not isinstance(value, dict):
        raise ScenarioError(f"{path}: expected an object")
    return value


def _list(parent: dict[str, Any], key: str, prefix: str) -> list[Any]:
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScenarioError(f"{prefix}{key}: expected a list")
    return value


def _string(parent: dict[str, Any], key: str, path: str) -> str:
    value = parent.get(key)
    if value is None:
        raise ScenarioError(f"{path}.{key}: missing")
    if not isinstance(value, str):
        raise ScenarioError(f"{path}.{key}: expected a string")
    if not value.strip():
        raise ScenarioError(f"{path}.{key}: empty")
    return value


def _optional_string(parent: dict[str, Any], key: str, path: str) -> str | None:
    value = parent.get(key)
    if value is not None and not isinstance(value, str):
        raise ScenarioError(f"{path}.{key}: expected a string")
    return value or None


def _optional_bool(parent: dict[str, Any], key: str, path: str, *, default: bool) -> bool:
    value = parent.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ScenarioError(f"{path}.{key}: expected true or false")
    return value


def _guid(parent: dict[str, Any], key: str, path: str, *, default: str | None = None) -> str:
    value = parent.get(key)
    if value is None and default is not None:
        return default
    text = _string(parent, key, path)
    # Tenant ids are GUIDs in Microsoft's services; canonical form keeps comparisons exact, but a
    # hand-written scenario may use a readable placeholder.
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text


def _date(parent: dict[str, Any], key: str, path: str) -> None:
    value = _optional_string(parent, key, path)
    if value is None:
        return
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ScenarioError(f"{path}.{key}: {value!r} is not an ISO 8601 date") from None


def _unique(items: list[dict[str, Any]], key: Any, path: str, field: str) -> None:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        value = key(item)
        if value in seen:
            raise ScenarioError(f"{path}[{index}]{field}: duplicate of {path}[{seen[value]}]{field}")
        seen[value] = index
