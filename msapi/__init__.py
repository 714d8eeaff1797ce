"""Clients for Azure DevOps, Microsoft Graph and Azure Resource Manager (httpx, tokens through msal)."""

from msapi._auth import AppCredential, MsalHttpClient
from msapi._clients import MicrosoftClients
from msapi._cookieless import CookielessAsyncClient
from msapi._device import DeviceCode, DeviceSignIn, SignedIn
from msapi._environment import (
    environment_problems,
    from_environment,
    missing_credentials,
    signin_from_environment,
)
from msapi._http import HttpSession, Redactor, error_code, error_message
from msapi._odata import odata_string
from msapi._refusals import SignInRefused
from msapi._routing import Router
from msapi._tls import tls_context
from workflows.directory import MicrosoftError

__all__ = [
    "AppCredential",
    "CookielessAsyncClient",
    "DeviceCode",
    "DeviceSignIn",
    "HttpSession",
    "MicrosoftClients",
    "MicrosoftError",
    "MsalHttpClient",
    "Redactor",
    "Router",
    "SignInRefused",
    "SignedIn",
    "environment_problems",
    "error_code",
    "error_message",
    "from_environment",
    "missing_credentials",
    "odata_string",
    "signin_from_environment",
    "tls_context",
]
