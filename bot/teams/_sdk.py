"""The pieces of Microsoft's Teams SDK (`microsoft-teams-*` 2.1.1) this surface uses, imported in one place.

Importing `microsoft_teams.apps` instantiates a preview class (the HTML widget security policy) and so
emits an `ExperimentalWarning` on every import; nothing here uses that preview API, so exactly that
warning is silenced, by category and message, and every other warning still reaches the caller.
"""

from __future__ import annotations

import warnings

from microsoft_teams.common.experimental import ExperimentalWarning

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=ExperimentalWarning, message=r"HtmlWidgetSecurityPolicy ")
    from microsoft_teams.apps.auth.token_validator import JwtValidationOptions, TokenValidator

__all__ = ["JwtValidationOptions", "TokenValidator"]
