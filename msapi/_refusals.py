"""Microsoft Entra ID's refusals of the app's own sign-in (client credentials), each with what to change.

An admin installing the bot meets these, not protocol errors: a wrong AZURE_CLIENT_ID, a secret that
expired or was copied by its id, the app disabled or blocked in the tenant. Entra's `error` field
(`invalid_client`, `unauthorized_client`) does not tell them apart; its AADSTS code does. Microsoft says
codes are for diagnosis and may change ("Microsoft Entra authentication and authorization error codes",
MicrosoftDocs/entra-docs docs/identity-platform/reference-error-codes.md, vendored in tests/msapi/published/
identity/): so an unknown code is never guessed at, it is reported as Entra words it.

Not here: AADSTS65001 (consent to delegated permissions; an app-only token without admin consent comes all
the same, without `roles`, and `graph-invite` reports what it lacks) and AADSTS7000114 (on-behalf-of calls),
which app-only sign-ins do not meet; AADSTS650057 (a resource missing from the registration's permissions),
seen in public issues for old `resource=` requests, not found for the `/.default` requests the bot makes:
should it come, it is reported in Entra's own words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflows.directory import MicrosoftError

_REGISTRATIONS = "Microsoft Entra admin center > Identity > Applications > App registrations"
_ENTERPRISE_APPS = "Microsoft Entra admin center > Identity > Applications > Enterprise applications"
_SECRETS = (
    f"{_REGISTRATIONS} > the app > Certificates & secrets > New client secret; put its Value (not its"
    " Secret ID) in AZURE_CLIENT_SECRET and restart the bot"
)


@dataclass(frozen=True)
class _Meaning:
    what: str
    """What is wrong, in the admin's terms; `{client}`, `{tenant}` and `{resource}` are filled in."""
    fix: str
    """Which setting or portal page changes it."""
    whole_app: bool = True
    """No token for anything: `serve` cannot work at all. False when only one resource is refused."""
    by_tenant: bool = False
    """The tenant signed in to refuses the app (another tenant may not): a wrong tenant is one cause."""


_MEANINGS: dict[int, _Meaning] = {
    700016: _Meaning(
        "tenant {tenant} has no application with client id {client}",
        f"Check AZURE_CLIENT_ID: it is the Application (client) ID on {_REGISTRATIONS} > the app > Overview."
        " Or, as Entra says, the request was sent to the wrong tenant: check that {tenant} is the one you"
        " meant. An app registered in another tenant must be multitenant, and an admin of {tenant} must"
        " consent to it there; or register the app in {tenant} itself",
        by_tenant=True,
    ),
    7000215: _Meaning(
        "AZURE_CLIENT_SECRET is not a secret of app {client}",
        f"Copy a current secret's Value, not its Secret ID: {_SECRETS}",
    ),
    7000222: _Meaning(
        "the client secret in AZURE_CLIENT_SECRET has expired",
        f"{_SECRETS}; or sign in with a certificate instead (AZURE_CLIENT_CERTIFICATE_PATH), which the same"
        " page uploads",
    ),
    # Entra's words are the same whether an admin disabled the app or Microsoft did (the application's
    # disabledByMicrosoftStatus, for abuse or a breach of the Microsoft Services Agreement), and the bot
    # cannot read which without a token: both ways out are named.
    7000112: _Meaning(
        "app {client} is disabled in tenant {tenant}",
        f"An admin of {{tenant}} re-enables it: {_ENTERPRISE_APPS} > the app > Properties > Enabled for"
        " users to sign-in? > Yes, then Save (the service principal's accountEnabled). If Microsoft disabled"
        " it (the app's disabledByMicrosoftStatus is DisabledDueToViolationOfServicesAgreement), it cannot"
        f" be re-enabled: register a new app ({_REGISTRATIONS} > New registration) and put its ids in"
        " AZURE_CLIENT_ID and AZURE_CLIENT_SECRET",
        by_tenant=True,
    ),
    53003: _Meaning(
        "a Conditional Access policy for workload identities blocks app {client} (from this server's"
        " address, or for its risk)",
        "A Conditional Access Administrator of {tenant} finds the policy under Microsoft Entra admin center"
        " > Identity > Monitoring & health > Sign-in logs > Service principal sign-ins > the failed"
        " sign-in > Conditional Access, then excludes the app or adds this server's public IP address to"
        " the policy's allowed named locations (Protection > Conditional Access)",
        by_tenant=True,
    ),
}
# AADSTS500011 means by the resource it names: Resource Manager's principal can be missing (Azure/azure-cli
# #16850), and only the billing check needs it; Microsoft Graph's, which every step needs, is missing only
# from a tenant that is not the one meant.
_ARM = "https://management.azure.com"
_MISSING_ARM = _Meaning(
    "tenant {tenant} has no service principal for Azure Resource Manager ({resource})",
    "Check that {tenant} is the tenant you meant. A tenant that never had an Azure subscription lacks"
    " Resource Manager; the bot reads it only to see which directory bills the organization, so the"
    " billing check warns and the migration goes on: check billing by hand in Azure DevOps (Organization"
    " settings > Billing)",
    whole_app=False,
    by_tenant=True,
)
_MISSING_SERVICE = _Meaning(
    "tenant {tenant} has no service principal for {resource}",
    "Check that {tenant} is the tenant you meant: Microsoft's own {resource} has one in every Microsoft"
    " Entra tenant, so a tenant without it is seldom the organization's",
    by_tenant=True,
)
_CODE = re.compile(r"AADSTS(\d+)")


class SignInRefused(MicrosoftError):
    """Entra refused the app's token request for a reason an admin must fix; the message names the code,
    what is wrong and what to do, never the secret."""

    needs_change = True

    def __init__(self, code: int, what: str, fix: str, *, whole_app: bool, by_tenant: bool) -> None:
        super().__init__(f"Microsoft Entra ID refused the bot's sign-in (AADSTS{code}): {what}. {fix}.")
        self.code = code
        self.reason = what
        self.fix = f"{fix}."
        self.whole_app = whole_app
        self.by_tenant = by_tenant


def sign_in_refusal(
    result: Mapping[str, Any], *, client_id: str, tenant: str, scope: str
) -> SignInRefused | None:
    """The refusal msal's `result` (Entra's error body) stands for, or None when it is none of the known.

    The code comes from `error_codes`, or else the description's first `AADSTS` number (msal passes the
    body through; some proxies keep only the description)."""
    codes = result.get("error_codes")
    found = [int(code) for code in codes if isinstance(code, int)] if isinstance(codes, list) else []
    if not found:
        match = _CODE.search(str(result.get("error_description") or ""))
        found = [int(match[1])] if match else []
    known = next((code for code in found if code in _MEANINGS or code == 500011), None)
    if known is None:
        return None
    resource = scope.removesuffix("/.default")
    if known == 500011:
        meaning = _MISSING_ARM if resource == _ARM else _MISSING_SERVICE
    else:
        meaning = _MEANINGS[known]
    names = {"client": client_id, "tenant": tenant, "resource": resource}
    refused = SignInRefused(
        known,
        meaning.what.format(**names),
        meaning.fix.format(**names),
        whole_app=meaning.whole_app,
        by_tenant=meaning.by_tenant,
    )
    refused.lacks_resource_manager = meaning is _MISSING_ARM
    return refused
