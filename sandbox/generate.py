"""Generate a large synthetic scenario: `python -m sandbox.generate --users N --directory M --seed S -o FILE`.

The mix follows a real migration: most users sign in with their work address (auto), some with a
personal account that a guest or a proxy address matches, a few disabled, ambiguous or unknown.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from collections.abc import Sequence
from typing import Any

from sandbox._scenario import FORMAT, ZERO_TENANT

_DOMAIN = "contoso.com"
_PERSONAL = ("outlook.com", "gmail.com", "hotmail.com", "live.com")


def generate(users: int, directory: int, seed: int, *, admins: int = 2) -> dict[str, Any]:
    """A scenario of `users` organization users and `directory` directory users, reproducible by seed; the
    first `admins` of the users administer it (two by default: an approval is another admin's)."""
    rng = random.Random(seed)

    def guid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    tenant_id = guid()
    members: list[dict[str, Any]] = []
    entitlements: list[dict[str, Any]] = []
    for index in range(users):
        work = f"user{index}@{_DOMAIN}"
        personal = f"user{index}@{rng.choice(_PERSONAL)}"
        kind = rng.random()
        principal, mail = work, work
        if kind < 0.10:
            principal = mail = personal  # a guest with this mail, or nobody (invite)
        elif kind < 0.15:
            principal = personal  # map: the directory knows the work mail address
        entitlements.append(_entitlement(guid(), principal, mail, f"User {index}", rng))
        if len(members) >= directory:
            continue
        if kind < 0.05:
            members.append(
                _directory_user(guid(), f"user{index}_x#EXT#@contoso.onmicrosoft.com", personal, "Guest")
            )
        elif kind >= 0.10:
            enabled = rng.random() > 0.01
            members.append(_directory_user(guid(), work, work, "Member", enabled=enabled))
    while len(members) < directory:
        index = len(members)
        address = f"staff{index}@{_DOMAIN}"
        members.append(_directory_user(guid(), address, address, "Member"))
    administrators = [entitlement["user"]["principalName"] for entitlement in entitlements[:admins]]
    return {
        "format": FORMAT,
        "organization": {
            "name": "contoso-synthetic",
            "id": guid(),
            "connected_tenant_id": ZERO_TENANT,
            "owner": administrators[0] if administrators else None,
            "project_collection_administrators": administrators,
            "billing_subscription_id": None,
        },
        "user_entitlements": entitlements,
        "tenant": {
            "id": tenant_id,
            "displayName": "Contoso (synthetic)",
            "verifiedDomains": [{"name": _DOMAIN, "isDefault": True, "isInitial": False}],
            "authorizationPolicy": {"allowInvitesFrom": "adminsGuestInvitersAndAllMembers"},
            "users": members,
        },
        "subscriptions": [],
    }


def _entitlement(id_: str, principal: str, mail: str, name: str, rng: random.Random) -> dict[str, Any]:
    return {
        "id": id_,
        "user": {
            "subjectKind": "user",
            "origin": "msa",
            "originId": f"{rng.getrandbits(64):016x}",
            "principalName": principal,
            "mailAddress": mail,
            "displayName": name,
            "descriptor": f"msa.{rng.getrandbits(96):024x}",
            "domain": "Windows Live ID",
        },
        "accessLevel": {
            "licensingSource": "account",
            "accountLicenseType": "express",
            "msdnLicenseType": "none",
            "licenseDisplayName": "Basic",
            "status": "active",
        },
        "lastAccessedDate": f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}T09:00:00Z",
        "dateCreated": "2024-01-01T09:00:00Z",
    }


def _directory_user(id_: str, upn: str, mail: str, user_type: str, *, enabled: bool = True) -> dict[str, Any]:
    return {
        "id": id_,
        "displayName": upn.split("@")[0],
        "userPrincipalName": upn,
        "mail": mail,
        "otherMails": [mail] if user_type == "Guest" else [],
        "proxyAddresses": [f"SMTP:{mail}"],
        "userType": user_type,
        "accountEnabled": enabled,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.generate", description=__doc__)
    parser.add_argument("--users", type=int, required=True, help="organization users")
    parser.add_argument("--directory", type=int, required=True, help="directory users")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--admins", type=int, default=2, help="how many of the users administer it (default 2: one approves)"
    )
    parser.add_argument("-o", "--output", required=True, metavar="FILE")
    args = parser.parse_args(argv)
    if args.users < 0 or args.directory < 0 or args.admins < 0:
        parser.error("--users, --directory and --admins must not be negative")
    try:
        with open(args.output, "w", encoding="utf-8") as file:
            json.dump(
                generate(args.users, args.directory, args.seed, admins=args.admins),
                file,
                separators=(",", ":"),
            )
    except OSError as error:
        print(f"cannot write {args.output}: {error.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
