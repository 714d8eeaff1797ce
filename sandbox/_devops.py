"""The emulated Azure DevOps: entitlements (vsaex), graph, identities, organization (vssps), billing."""

from __future__ import annotations

import base64
import binascii
import bisect
import uuid
from typing import Any

from sandbox._common import (
    Call,
    Reply,
    bearer,
    devops_error,
    page_offset,
    page_token,
    place_token,
    token_place,
)
from sandbox._permissions import DEVOPS_SCOPES, devops_allows
from sandbox._scenario import descriptor_for
from sandbox._state import State


def _devops_auth(state: State, call: Call) -> Reply | None:
    """401 for a missing or unknown credential, and for one without the scope the route needs."""
    scheme, _, value = call.headers.get("authorization", "").partition(" ")
    scopes: frozenset[str] | None = None
    if scheme.lower() == "basic":
        try:
            _, _, secret = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            secret = ""
        if secret:
            scopes = state.credentials.pat_scopes()
    elif scheme.lower() == "bearer":
        token = bearer(state, call, "devops")
        if not isinstance(token, Reply):
            scopes = token.scopes
    if scopes is not None and devops_allows(scopes, DEVOPS_SCOPES.get(_scope_route(call))):
        return None
    # Azure DevOps answers a PAT without the needed scope with 401, as it does a bad PAT.
    return devops_error(
        401, "TF400813: The user is not authorized to access this resource.", "UnauthorizedRequestException"
    )


def _scope_route(call: Call) -> tuple[str, str]:
    """The key of `DEVOPS_SCOPES` for a call: its method and API area."""
    parts = [part.casefold() for part in call.path.strip("/").split("/")]
    area = parts[2] if len(parts) > 2 and parts[1] == "_apis" else ""
    if area == "graph" and call.method == "POST" and parts[3:4] == ["subjectlookup"]:
        area = "graph/subjectlookup"
    return call.method, area


def _devops_common(state: State, call: Call) -> tuple[list[str], Reply | None]:
    parts = call.path.strip("/").split("/")
    if not parts[0] or not state.is_organization(parts[0]):
        return parts, devops_error(
            404, f"VS800075: The organization '{parts[0]}' was not found.", "AccountNotFoundException"
        )
    if len(parts) > 1 and "api-version" not in call.query:
        message = f'No api-version was supplied for the "{call.method}" request, for example api-version=7.1.'
        return parts, devops_error(400, message, "VssVersionNotSpecifiedException")
    return parts, (_devops_auth(state, call) if len(parts) > 1 else None)


def vsaex(state: State, call: Call) -> Reply:
    parts, problem = _devops_common(state, call)
    if problem is not None:
        return problem
    if parts[1:3] != ["_apis", "userentitlements"]:
        return devops_error(404, f"No route for {call.path}.", "RouteNotFound")
    if call.method == "GET" and len(parts) == 3:
        return _entitlement_page(state, call)
    if len(parts) == 4 and call.method in ("GET", "DELETE"):
        index = next(
            (
                i
                for i, item in enumerate(state.entitlements)
                if str(item["id"]).casefold() == parts[3].casefold()
            ),
            None,
        )
        if index is None:
            return devops_error(
                404, f"VS403283: Could not find user with id {parts[3]}.", "UserNotFoundException"
            )
        if call.method == "GET":
            return Reply(200, state.entitlements[index])
        del state.entitlements[index]
        return Reply(200)  # memberEntitlementManagement 7.1: DELETE answers 200
    return devops_error(405, f"{call.method} is not supported here.", "MethodNotAllowed")


def _entitlement_page(state: State, call: Call) -> Reply:
    """A page of the user entitlements, in order of creation or (`$orderBy=lastAccessed desc`) of their last
    access. Its continuation token names the last user it returned, and the next page resumes after that
    user's place, as the service's opaque Cosmos DB tokens do (vsts-rest-api-specs#442), not at an offset:
    someone removed between two pages moves nobody else past the page boundary unread."""
    by_access = call.query.get("$orderBy", "").strip().casefold() == "lastaccessed desc"
    # `state.entitlements` only loses entries, so it stays in order of creation; sorting is stable, so users
    # last seen at the same time stay in that order.
    listing = sorted(state.entitlements, key=_last_access, reverse=True) if by_access else state.entitlements
    start = 0
    token = call.query.get("continuationToken")
    if token:
        after = token_place(token)
        if after is None or len(after) != 2 or after[0].casefold() not in state.listing_order:
            return devops_error(400, "The continuation token is invalid.", "InvalidContinuationToken")
        after_id, after_access = after
        after_rank = state.listing_order[after_id.casefold()]

        def follows(entitlement: dict[str, Any]) -> bool:
            """Whether the listing puts `entitlement` after the place the token resumes from."""
            rank = state.listing_order[str(entitlement["id"]).casefold()]
            if not by_access:
                return rank > after_rank
            access = _last_access(entitlement)
            return access < after_access or (access == after_access and rank > after_rank)

        # The listing holds first who come before the place, then who follow it: a bisection finds the turn.
        start = bisect.bisect_left(listing, True, key=follows)
    page = listing[start : start + state.page_size]
    listed = page
    if not token and not by_access:
        with state.lock:
            listed = state.faults.first_page_listed(page)
    more = len(listing) - start > state.page_size
    return Reply(
        200,
        {
            "items": listed,
            "continuationToken": place_token(_place_of(page[-1])) if more else None,
            "totalCount": len(state.entitlements),
        },
    )


def _last_access(entitlement: dict[str, Any]) -> str:
    return str(entitlement.get("lastAccessedDate") or "")


def _place_of(entitlement: dict[str, Any]) -> list[str]:
    """What a continuation token resuming after `entitlement` holds: its id and last access."""
    return [str(entitlement["id"]), _last_access(entitlement)]


def _admin_tree(state: State) -> dict[str, list[str]]:
    """Group descriptor -> member descriptors, starting at Project Collection Administrators."""
    by_principal = {
        str(e["user"]["principalName"]).casefold(): e["user"]["descriptor"] for e in state.entitlements
    }
    tree: dict[str, list[str]] = {}

    def walk(name: str, members: list[Any]) -> str:
        descriptor = descriptor_for("vssgp", f"[{state.organization['name']}]\\{name}")
        tree[descriptor] = []
        for member in members:
            if isinstance(member, str):
                tree[descriptor].append(
                    by_principal.get(member.strip().casefold()) or descriptor_for("msa", member)
                )
            else:
                tree[descriptor].append(walk(member["displayName"], member["members"]))
        return descriptor

    walk("Project Collection Administrators", state.organization["project_collection_administrators"])
    return tree


def _group_names(state: State) -> dict[str, str]:
    names = {
        descriptor_for(
            "vssgp", f"[{state.organization['name']}]\\Project Collection Administrators"
        ): "Project Collection Administrators"
    }

    def walk(members: list[Any]) -> None:
        for member in members:
            if isinstance(member, dict):
                names[descriptor_for("vssgp", f"[{state.organization['name']}]\\{member['displayName']}")] = (
                    member["displayName"]
                )
                walk(member["members"])

    walk(state.organization["project_collection_administrators"])
    valid_users = "Project Collection Valid Users"
    names[descriptor_for("vssgp", f"[{state.organization['name']}]\\{valid_users}")] = valid_users
    return names


def _group(state: State, descriptor: str, name: str) -> dict[str, Any]:
    org = state.organization
    return {
        "subjectKind": "group",
        "description": f"Members of this group are {name}.",
        "domain": f"vstfs:///Framework/IdentityDomain/{org['id']}",
        "principalName": f"[{org['name']}]\\{name}",
        "mailAddress": None,
        "origin": "vsts",
        "originId": str(uuid.uuid5(uuid.NAMESPACE_URL, descriptor)),
        "displayName": name,
        "descriptor": descriptor,
    }


def _owner_id(state: State) -> str | None:
    owner = state.organization["owner"]
    if not owner:
        return None
    match = next(
        (e for e in state.entitlements if str(e["user"]["principalName"]).casefold() == owner.casefold()),
        None,
    )
    return str(match["id"]) if match else str(uuid.uuid5(uuid.NAMESPACE_URL, f"owner:{owner.casefold()}"))


def vssps(state: State, call: Call) -> Reply:
    parts, problem = _devops_common(state, call)
    if problem is not None:
        if len(parts) == 1 and problem.status == 404:
            return Reply(404, None)
        return problem
    org = state.organization
    if len(parts) == 1:
        # The unauthenticated probe Git Credential Manager and Microsoft's MCP server use.
        return Reply(404, None, {"X-VSS-ResourceTenant": str(org["connected_tenant_id"])})
    route = "/".join(parts[1:4]).casefold()
    if call.method == "GET" and route == "_apis/organization/organizations" and parts[4:] == ["Me"]:
        owner_id = _owner_id(state)
        collection = {"id": org["id"], "name": org["name"], "owner": owner_id, "status": "enabled"}
        body = {
            "id": org["id"],
            "name": org["name"],
            "tenantId": org["connected_tenant_id"],
            "type": "organization",
            "status": "enabled",
            "primaryCollection": collection,
        }
        return Reply(200, body)
    if call.method == "GET" and "/".join(parts[1:3]).casefold() == "_apis/identities":
        return _identities(state, call)
    if call.method == "GET" and route == "_apis/graph/groups":
        names = _group_names(state)
        groups = [_group(state, descriptor, name) for descriptor, name in names.items()]
        return _vssps_page(state, call, groups)
    if call.method == "GET" and route == "_apis/graph/memberships" and len(parts) == 5:
        if call.query.get("direction", "").casefold() != "down":
            return devops_error(400, "Only direction=down is emulated.", "InvalidArgument")
        members = _admin_tree(state).get(parts[4])
        if members is None:
            if parts[4] in _group_names(state):
                members = []
            else:
                return devops_error(404, f"Subject {parts[4]} not found.", "GraphSubjectNotFoundException")
        value = [{"containerDescriptor": parts[4], "memberDescriptor": member} for member in members]
        return Reply(200, {"count": len(value), "value": value})
    if call.method == "POST" and route == "_apis/graph/subjectlookup":
        return _subject_lookup(state, call)
    return devops_error(404, f"No route for {call.method} {call.path}.", "RouteNotFound")


def _vssps_page(state: State, call: Call, items: list[dict[str, Any]]) -> Reply:
    offset = page_offset(call.query.get("continuationToken"))
    if offset is None:
        return devops_error(400, "The continuation token is invalid.", "InvalidContinuationToken")
    page = items[offset : offset + state.page_size]
    headers = {}
    if offset + state.page_size < len(items):
        headers["X-MS-ContinuationToken"] = page_token(offset + state.page_size)
    return Reply(200, {"count": len(page), "value": page}, headers)


def _identities(state: State, call: Call) -> Reply:
    wanted = {
        item.strip().casefold() for item in call.query.get("identityIds", "").split(",") if item.strip()
    }
    owner = state.organization["owner"]
    value = []
    if owner and (owner_id := _owner_id(state)) and owner_id.casefold() in wanted:
        account = {"$type": "System.String", "$value": owner}
        value.append(
            {
                "id": owner_id,
                "providerDisplayName": owner,
                "isActive": True,
                "properties": {"Account": account, "Mail": account},
            }
        )
    return Reply(200, {"count": len(value), "value": value})


def _subject_lookup(state: State, call: Call) -> Reply:
    try:
        keys = [str(key["descriptor"]) for key in call.json()["lookupKeys"]]
    except (ValueError, KeyError, TypeError):
        return devops_error(400, "lookupKeys with descriptors are required.", "InvalidArgument")
    known: dict[str, dict[str, Any]] = {e["user"]["descriptor"]: e["user"] for e in state.entitlements}
    names = _group_names(state)

    def principals(members: list[Any]) -> None:
        for member in members:
            if isinstance(member, str):
                descriptor = descriptor_for("msa", member)
                known.setdefault(
                    descriptor,
                    {
                        "subjectKind": "user",
                        "principalName": member,
                        "mailAddress": member,
                        "displayName": member,
                        "origin": "msa",
                        "descriptor": descriptor,
                    },
                )
            else:
                principals(member["members"])

    principals(state.organization["project_collection_administrators"])
    value = {}
    for key in keys:
        if key in known:
            value[key] = known[key]
        elif key in names:
            value[key] = _group(state, key, names[key])
    return Reply(200, {"count": len(value), "value": value})


def commerce(state: State, call: Call) -> Reply:
    parts = call.path.strip("/").split("/")
    org = state.organization
    if (
        len(parts) != 4
        or parts[0].casefold() != str(org["id"]).casefold()
        or parts[1:] != ["_apis", "AzComm", "BillingSetup"]
    ):
        return devops_error(404, f"No route for {call.path}.", "RouteNotFound")
    problem = _devops_auth(state, call)
    if problem is not None:
        return problem
    subscription = org["billing_subscription_id"]
    return Reply(
        200, {"subscriptionId": subscription, "subscriptionStatus": "active" if subscription else "unknown"}
    )
