"""The emulated token endpoint's refusals of an app's sign-in (client credentials), switched on as a fault.

What an admin installing the bot meets: the app not in the tenant, its secret expired, the app disabled,
blocked by Conditional Access, a resource the tenant lacks. Each is answered as Entra answers it: the
`error`, the AADSTS code and the words of Microsoft's samples and of the bodies quoted in public issues,
the ids and time that end the description and repeat in fields of their own. Sources per code below;
the body's shape is the one in MicrosoftDocs/entra-docs docs/identity-platform/v2-oauth2-client-creds-grant-
flow.md ("Error response") and reference-error-codes.md (tests/msapi/published/identity/).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sandbox._common import Reply
from sandbox._state import State


@dataclass(frozen=True)
class _Refusal:
    status: int
    error: str
    description: str
    """Entra's words; `{client}`, `{tenant_name}` and `{resource}` are filled in."""


_REFUSALS: dict[int, _Refusal] = {
    # Body as Microsoft's "Troubleshoot Azure fence agent issues in an RHEL Pacemaker cluster" quotes it for a
    # service principal's token request (and Azure/login#561): 400 unauthorized_client.
    700016: _Refusal(
        400,
        "unauthorized_client",
        "AADSTS700016: Application with identifier '{client}' was not found in the directory '{tenant_name}'."
        " This can happen if the application has not been installed by the administrator of the tenant or"
        " consented to by any user in the tenant. You may have sent your authentication request to the"
        " wrong tenant.",
    ),
    # liprec/vsts-release-aas#119 quotes the whole body: 401 invalid_client.
    7000222: _Refusal(
        401,
        "invalid_client",
        "AADSTS7000222: The provided client secret keys for app '{client}' are expired. Visit the Azure"
        " portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using"
        " certificate credentials for added security: https://aka.ms/certCreds.",
    ),
    # Wording of Microsoft's troubleshooting article "Error AADSTS7000112 - Application is disabled" (the
    # service principal disabled in the tenant), less the app's name, which a scenario does not have;
    # `unauthorized_client` as the code's name, UnauthorizedClientApplicationDisabled, says.
    7000112: _Refusal(400, "unauthorized_client", "AADSTS7000112: Application '{client}' is disabled."),
    # Words of AADSTS53003 as public issues quote them for client-credentials sign-ins (microsoft/botbuilder-
    # dotnet#6759, AzureAD/microsoft-identity-web#2419), which do not show the `error`: invalid_grant is
    # inferred, as MSAL for Java raises the interaction-required error it makes of invalid_grant for the
    # kindred AADSTS53005 (AzureAD/microsoft-authentication-library-for-java#597).
    53003: _Refusal(
        400,
        "invalid_grant",
        "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not"
        " allow token issuance.",
    ),
    # Azure PowerShell's ADAL log quotes the body: 400 invalid_resource. Only Resource Manager is refused:
    # Graph's principal is in every tenant, Resource Manager's can be missing (Azure/azure-cli#16850).
    500011: _Refusal(
        400,
        "invalid_resource",
        "AADSTS500011: The resource principal named {resource} was not found in the tenant named"
        " {tenant_name}. This can happen if the application has not been installed by the administrator of"
        " the tenant or consented to by any user in the tenant. You might have sent your authentication"
        " request to the wrong tenant.",
    ),
}
CODES = tuple(_REFUSALS)
_ONE_RESOURCE = {500011: "https://management.azure.com"}


def refusal_code(value: Any) -> int:
    """`sign_in_refusal` of the fault settings (7000222, "7000222" or "AADSTS7000222"): one of `CODES`, or 0
    (none)."""
    text = str(value or 0).strip()
    digits = text.removeprefix("AADSTS")
    code = int(digits) if digits.isdecimal() else -1
    if code and code not in _REFUSALS:
        raise ValueError(
            f"sign_in_refusal is one of {', '.join(map(str, CODES))} (AADSTS codes), not {text!r}"
        )
    return code


def refused(state: State, form: dict[str, str], resource: str) -> Reply | None:
    """The refusal the faults ask for of this client-credentials request for `resource`, if any.

    An expired secret is met only by a request with a secret; Resource Manager's missing principal only
    by a request for it; a refusal of one client id (`sign_in_refusal_client`) only by that app's requests,
    so that the Teams bot's registration, say, still signs in."""
    faults = state.faults
    code = faults.sign_in_refusal
    refusal = _REFUSALS.get(code)
    if refusal is None or (code == 7000222 and "client_secret" not in form):
        return None
    if faults.sign_in_refusal_client and form["client_id"] != faults.sign_in_refusal_client:
        return None
    if code in _ONE_RESOURCE and resource != _ONE_RESOURCE[code]:
        return None
    tenant = state.tenant
    description = refusal.description.format(
        client=form["client_id"], tenant_name=tenant.get("displayName") or tenant["id"], resource=resource
    )
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(state.clock()))
    body = {
        "error": refusal.error,
        "error_description": f"{description}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\n"
        f"Timestamp: {stamp}",
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return Reply(refusal.status, body)
