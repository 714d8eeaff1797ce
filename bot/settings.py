"""Configuration, read once from the environment at start-up and validated with messages that name the fix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.delivery.settings import DEFAULT_MAX_RATE, DeliverySettings

DEFAULT_DATABASE_URL = "sqlite:///aadbot.db"


class SettingsError(Exception):
    """A variable is set to something unusable; the message names it and the fix."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    sandbox_scenario: str | None = None
    sandbox_url: str | None = None
    poll_seconds: float = 60.0
    stop_seconds: float = 10.0
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
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        def text(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        return cls(
            database_url=text("AADBOT_DATABASE_URL") or DEFAULT_DATABASE_URL,
            sandbox_scenario=text("AADBOT_SANDBOX"),
            sandbox_url=text("AADBOT_SANDBOX_URL"),
            poll_seconds=_number(environ, "AADBOT_POLL_SECONDS", 60.0, minimum=0.1),
            stop_seconds=_number(environ, "AADBOT_STOP_SECONDS", 10.0, minimum=1.0),
            admin_ids=frozenset(
                part.strip() for part in environ.get("AADBOT_ADMINS", "").split(",") if part.strip()
            ),
            approvers_required=int(_number(environ, "AADBOT_APPROVERS_REQUIRED", 1, minimum=1, whole=True)),
            approval_ttl=timedelta(hours=_number(environ, "AADBOT_APPROVAL_TTL_HOURS", 24.0, minimum=0.01)),
            slack_bot_token=text("SLACK_BOT_TOKEN"),
            slack_signing_secret=text("SLACK_SIGNING_SECRET"),
            slack_app_token=text("SLACK_APP_TOKEN"),
            slack_api_url=text("SLACK_API_URL"),
            delivery=DeliverySettings(
                max_rate_per_second=_number(environ, "AADBOT_SLACK_MAX_RATE", DEFAULT_MAX_RATE, minimum=0.1)
            ),
            microsoft_environment={
                name: value
                for name, value in environ.items()
                if name.startswith("AZURE_") or name == "AADBOT_TOKEN_CACHE"
            },
        )


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
