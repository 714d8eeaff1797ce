"""Arguments typed in chat or on the command line, validated before anything asks Microsoft about them.

Nothing a user types reaches a Microsoft URL unchecked: an organization name follows Azure DevOps'
rules, a tenant is a GUID or a domain, a user id is a GUID. So `..` never becomes a path segment, and
a stranger cannot use the bot to ask Azure DevOps about arbitrary names.
"""

from __future__ import annotations

import re

from workflows.errors import WorkflowError

_ORGANIZATION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?")
"""Azure DevOps: 1-50 letters, digits and hyphens, starting and ending with a letter or digit."""
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"(?=.{3,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")


class ArgumentError(WorkflowError):
    """An argument that cannot be a real name; the message says what to type instead."""


def organization_name(value: str) -> str:
    name = value.strip()
    if not _ORGANIZATION.fullmatch(name):
        raise ArgumentError(
            f"`{name}` is not an Azure DevOps organization name: use the name from "
            "https://dev.azure.com/NAME "
            "(1-50 letters, digits and hyphens, starting and ending with a letter or digit)."
        )
    return name


def tenant_name(value: str) -> str:
    tenant = value.strip()
    if not (_GUID.fullmatch(tenant) or _DOMAIN.fullmatch(tenant)):
        raise ArgumentError(
            # not echoed: what lands here is as often a pasted secret (a PAT, a client secret) as a typo
            "That is not a tenant: give the directory's tenant id (a GUID) or one of its verified "
            "domains (with a dot), e.g. contoso.com."
        )
    return tenant


def user_id(value: str) -> str:
    """An Azure DevOps user entitlement id (a GUID), as `stale-users` lists them."""
    text = value.strip()
    if not _GUID.fullmatch(text):
        raise ArgumentError(f"`{text}` is not a user id: use the ids `stale-users` lists (GUIDs).")
    return text
