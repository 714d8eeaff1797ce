"""Configuration, read once from the environment at start-up and validated with messages that name the fix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.delivery.settings import DEFAULT_MAX_RATE, DeliverySettings

DEFAULT_DATABASE_URL = "sqlite:///aadbot.db"


STOP_SECONDS = 20.0
"""`AADBOT_STOP_SECONDS` by default. Told to stop, the outbox worker hands no other message over and waits
for those on their way: a Teams message handed over at the signal is answered within the connector's
timeout (10 s), and cut short it could only be recorded as possibly delivered (Teams keeps no history to
look in). 20 s leaves that room twice over, and with the 7 s `serve` may take after it (bot/stopping.py)
ends before Kubernetes' default `terminationGracePeriodSeconds` (30 s) would kill the process."""

SANDBOX_FIX = (
    "Set AADBOT_SANDBOX to a scenario file (the source's sandbox/scenarios/ has fabrikam.json), or unset it"
    " to use Microsoft's live services."
)


class SettingsError(Exception):
    """Variables set to something unusable, or missing; the message names each and its fix, all at once:
    an operator who fixes one should not have to start again to learn of the next."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        if len(problems) == 1:
            super().__init__(problems[0])
        else:
            listed = "".join(f"\n- {each}" for each in problems)
            super().__init__(f"{len(problems)} settings to fix:{listed}")


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    sandbox_scenario: str | None = None
    sandbox_url: str | None = None
    poll_seconds: float = 60.0
    stop_seconds: float = STOP_SECONDS
    """How long `serve`, told to stop, gives the work under way (a send, a request) to finish."""
    admin_ids: frozenset[str] = frozenset()
    approvers_required: int = 1
    approval_ttl: timedelta = timedelta(hours=24)
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str | None = None
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    """How the outbox worker paces messages to Slack; `serve` and the notify benchmark both use this."""
    microsoft_environment: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The live Microsoft credentials (`AZURE_*`, `AADBOT_TOKEN_CACHE`), handed to `msapi` as they are."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], problems: list[str] | None = None) -> Settings:
        """SettingsError names every unusable value; with `problems`, they are added there instead, each
        value taken as its default, so that the caller can name them with the rest."""
        found: list[str] = []

        def text(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        def number(name: str, default: float, *, minimum: float, whole: bool = False) -> float:
            return number_or_default(environ, name, default, found, minimum=minimum, whole=whole)

        scenario = text("AADBOT_SANDBOX")
        if scenario and not Path(scenario).is_file():
            found.append(f"AADBOT_SANDBOX={scenario}: there is no such file. {SANDBOX_FIX}")
        settings = cls(
            database_url=text("AADBOT_DATABASE_URL") or DEFAULT_DATABASE_URL,
            sandbox_scenario=scenario,
            sandbox_url=text("AADBOT_SANDBOX_URL"),
            poll_seconds=number("AADBOT_POLL_SECONDS", 60.0, minimum=0.1),
            stop_seconds=number("AADBOT_STOP_SECONDS", STOP_SECONDS, minimum=1.0),
            admin_ids=frozenset(
                part.strip() for part in environ.get("AADBOT_ADMINS", "").split(",") if part.strip()
            ),
            approvers_required=int(number("AADBOT_APPROVERS_REQUIRED", 1, minimum=1, whole=True)),
            approval_ttl=timedelta(hours=number("AADBOT_APPROVAL_TTL_HOURS", 24.0, minimum=0.01)),
            slack_bot_token=text("SLACK_BOT_TOKEN"),
            slack_signing_secret=text("SLACK_SIGNING_SECRET"),
            slack_app_token=text("SLACK_APP_TOKEN"),
            slack_api_url=text("SLACK_API_URL"),
            delivery=DeliverySettings(
                max_rate_per_second=number("AADBOT_SLACK_MAX_RATE", DEFAULT_MAX_RATE, minimum=0.1)
            ),
            microsoft_environment={
                name: value
                for name, value in environ.items()
                if name.startswith("AZURE_") or name == "AADBOT_TOKEN_CACHE"
            },
        )
        reported(found, problems)
        return settings

    def slack_problems(self) -> list[str]:
        """What keeps the Slack variables from being used, each with its fix; none when they are usable."""
        problems: list[str] = []
        token = self.slack_bot_token
        if not token:
            problems.append(
                "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your app's "
                "OAuth & Permissions page after installing it to the workspace."
                + (
                    ""
                    if self.slack_signing_secret or self.slack_app_token
                    else " To serve Microsoft Teams alone, set TEAMS_APP_ID, TEAMS_APP_PASSWORD and"
                    " TEAMS_TENANT_ID instead: no Slack variable is needed then."
                )
            )
        elif not token.startswith("xoxb-"):
            problems.append(
                "SLACK_BOT_TOKEN must be a bot token starting with xoxb-; user tokens (xoxp-) won't do."
            )
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            problems.append(
                "SLACK_APP_TOKEN must be an app-level token starting with xapp-: create one with the"
                " connections:write scope under Basic Information > App-Level Tokens, or unset it to serve"
                " HTTP."
            )
        if not self.slack_app_token and not self.slack_signing_secret:
            problems.append(
                "SLACK_SIGNING_SECRET is not set: copy the Signing Secret from your app's Basic Information "
                "page, or set SLACK_APP_TOKEN to use Socket Mode instead of HTTP."
            )
        return problems


def reported(found: list[str], problems: list[str] | None) -> None:
    """The `found` problems added to the caller's `problems`, or, when it keeps none, raised all at once."""
    if problems is not None:
        problems.extend(found)
    elif found:
        raise SettingsError(*found)


def number_or_default(
    environ: Mapping[str, str],
    name: str,
    default: float,
    found: list[str],
    *,
    minimum: float,
    whole: bool = False,
) -> float:
    """The number `name` is set to, else `default`; an unusable value is added to `found` and the default
    taken, so the other settings are checked too."""
    try:
        return _number(environ, name, default, minimum=minimum, whole=whole)
    except SettingsError as error:
        found.extend(error.problems)
        return default


def _number(
    environ: Mapping[str, str], name: str, default: float, *, minimum: float, whole: bool = False
) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise SettingsError(
            f"{name}={raw!r} is not {kind}; set it to e.g. {default:g} or unset it."
        ) from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} is too small; it must be at least {minimum:g}.")
    return value
