"""OData literals for Microsoft Graph `$filter` expressions."""

from __future__ import annotations


def odata_string(value: str) -> str:
    """A quoted OData string literal: `O'Brien` -> `'O''Brien'` (httpx then percent-encodes it)."""
    return "'" + value.replace("'", "''") + "'"


def address_filter(email: str) -> str:
    """Graph users holding `email` as UPN, mail, other mail or SMTP proxy address (either prefix case)."""
    literal = odata_string(email)
    return (
        f"userPrincipalName eq {literal} or mail eq {literal} or otherMails/any(x:x eq {literal})"
        f" or proxyAddresses/any(x:x eq {odata_string('smtp:' + email)})"
        f" or proxyAddresses/any(x:x eq {odata_string('SMTP:' + email)})"
    )
