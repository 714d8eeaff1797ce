"""Consistent stand-ins for names, addresses and the ids of the tenant, organization and subscription,
so a snapshot can be shared and still plan the same.

The plan matches addresses after trimming and Unicode case-folding, so every address is keyed that way
and replaced by a keyed hash: the same address gets the same stand-in wherever it appears (the
organization, the directory, a proxy address, the administrators), different ones different stand-ins.
Domains are replaced the same way on their own, so "is this a verified domain of the tenant" still
answers alike, and a guest's `#EXT#` name stays a guest's name. The key is random per snapshot and
never written: stand-ins cannot be reversed by hashing guessed addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

_GUEST_MARK = "#ext#"
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class Pseudonyms:
    key: bytes | None

    @classmethod
    def fresh(cls) -> Pseudonyms:
        return cls(secrets.token_bytes(32))

    @classmethod
    def none(cls) -> Pseudonyms:
        """Changes nothing: the same code path writes an unredacted snapshot."""
        return cls(None)

    def address(self, value: str) -> str:
        if self.key is None or not value.strip():
            return value
        folded = value.strip().casefold()
        local, at, domain = folded.rpartition("@")
        if not at:
            return "u" + self._hash("address", folded, 16)
        guest = "#EXT#" if _GUEST_MARK in local else ""
        return f"u{self._hash('address', folded, 16)}{guest}@{self.domain(domain)}"

    def domain(self, value: str) -> str:
        if self.key is None or not value.strip():
            return value
        return f"d{self._hash('domain', value.strip().casefold(), 12)}.example"

    def name(self, value: str) -> str:
        if self.key is None or not value.strip():
            return value
        return f"Person {self._hash('name', value.strip().casefold(), 8)}"

    def organization(self, value: str) -> str:
        if self.key is None:
            return value
        return f"org-{self._hash('organization', value.strip().casefold(), 10)}"

    def identifier(self, value: str | None) -> str | None:
        """A GUID-shaped stand-in for a tenant's, an organization's or a subscription's id: one mapping for
        them all, so a tenant named by a subscription, the organization and the directory stays one
        tenant. The all-zero GUID (no tenant connected) means something and is kept."""
        if self.key is None or not value or not value.strip("0-"):
            return value
        digits = self._hash("identifier", value.strip().casefold(), 32)
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"

    def label(self, kind: str, value: str) -> str:
        """A directory's or a subscription's display name: `Directory 1a2b3c4d`."""
        if self.key is None or not value.strip():
            return value
        return f"{kind} {self._hash(kind, value.strip().casefold(), 8)}"

    def entitlement(self, item: dict[str, Any]) -> dict[str, Any]:
        if self.key is None:
            return item
        user = dict(item.get("user") or {})
        for key in ("principalName", "mailAddress"):
            if isinstance(user.get(key), str):
                user[key] = self.address(user[key])
        if isinstance(user.get("displayName"), str):
            user["displayName"] = self.name(user["displayName"])
        if isinstance(user.get("domain"), str):
            user["domain"] = self._identity_domain(user["domain"])
        if isinstance(user.get("descriptor"), str):
            user["descriptor"] = self._descriptor(user["descriptor"])
        return {**item, "user": user}

    def _identity_domain(self, value: str) -> str:
        """A connected user's identity domain is the tenant's id (a group's ends in the organization's);
        a personal account's `Windows Live ID` names nobody and is kept."""
        prefix, slash, last = value.rpartition("/")
        stand_in = self.identifier(last)
        return f"{prefix}{slash}{stand_in}" if _GUID.fullmatch(last) and stand_in else value

    def _descriptor(self, value: str) -> str:
        """`msa.…`/`aad.…` keep their kind (it says how the user signs in); the rest can encode the
        address or the directory's ids, so it is replaced, one stand-in per descriptor."""
        kind, dot, _ = value.partition(".")
        return f"{kind}.{self._hash('descriptor', value, 32)}" if dot else self._hash("descriptor", value, 32)

    def directory_user(self, item: dict[str, Any]) -> dict[str, Any]:
        if self.key is None:
            return item
        redacted = dict(item)
        for key in ("userPrincipalName", "mail"):
            if isinstance(redacted.get(key), str):
                redacted[key] = self.address(redacted[key])
        if isinstance(redacted.get("displayName"), str):
            redacted["displayName"] = self.name(redacted["displayName"])
        redacted["otherMails"] = [self.address(str(mail)) for mail in item.get("otherMails") or ()]
        redacted["proxyAddresses"] = [self._proxy(str(entry)) for entry in item.get("proxyAddresses") or ()]
        return redacted

    def _proxy(self, entry: str) -> str:
        """`SMTP:addr` keeps its prefix (its case marks the primary address); the address is replaced."""
        prefix, colon, rest = entry.partition(":")
        if not colon:
            return self.address(entry)
        return f"{prefix}:{self.address(rest)}"

    def _hash(self, kind: str, value: str, length: int) -> str:
        assert self.key is not None
        return hmac.new(self.key, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()[:length]
