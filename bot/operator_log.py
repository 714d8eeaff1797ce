"""What `aadbot serve` tells its operator on stderr: one line per fact at start-up, one per migration step.

Start-up says what the process acts on (which database, which Slack workspace and bot, Socket Mode or
HTTP, Teams or not) and, loudly, when every Microsoft call goes to an emulator. Never a secret: URLs
without their password, no token, no request body.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from bot.settings import Settings, SettingsError
from workflows import step_log
from workflows.stages.unit import active

if TYPE_CHECKING:  # Slack's libraries: only a `serve` with Slack imports them
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.teams.connector import TeamsApi
    from storage import Database

log = logging.getLogger("aadbot.serve")
OPERATORS_LOGGERS = (log.name, step_log.log.name, "bot.delivery.outages", "bot.slack.sender")
"""The loggers whose INFO lines `serve` shows: its own, the migration's steps, and the ends of what a
WARNING began (an outage's "work again", Slack's member list "read again"), whose beginning alone read as
an outage still going on while thousands were delivered."""
SIGN_IN_AGAIN_AFTER = (30.0, 60.0, 120.0, 300.0)
"""Seconds before each new try of the Teams bot's sign-in at start while Entra gives no verdict; the last
repeats."""


def start_up(settings: Settings, *, database: Database | None, teams_app_id: str | None) -> None:
    """`database`: None without one (requests remembered in memory); its URL is shown without the password,
    and what opening it did to its schema, which an operator rolling out a new version looks for."""
    show_operators_lines()
    log.info("database: %s", database.url if database else "none (requests remembered in memory, no outbox)")
    if database is not None and database.schema_change is not None:
        log.info("database schema %s", database.schema_change)
    if not settings.slack_bot_token:
        log.info("Slack: off (SLACK_BOT_TOKEN is not set)")
    elif settings.slack_app_token:
        log.info("Slack: Socket Mode (SLACK_APP_TOKEN)")
    else:
        log.info("Slack: HTTP, signed requests at POST /slack/events")
    if teams_app_id:
        log.info("Teams: on, app %s, at POST /api/messages", teams_app_id)
    else:
        log.info("Teams: off (TEAMS_APP_ID is not set)")
    if (emulated := emulator(settings.sandbox_scenario, settings.sandbox_url)) is not None:
        log.warning("EMULATOR: %s", emulated)
    else:
        mode = settings.microsoft_environment.get("AZURE_AUTH") or "app"
        log.info("Microsoft: the live services (AZURE_AUTH=%s)", mode)
    log.info("connection watch: every %g s (AADBOT_POLL_SECONDS)", settings.poll_seconds)


def show_operators_lines() -> None:
    """The root logger stays at WARNING (libraries' chatter); `OPERATORS_LOGGERS` are for operators. Each
    is set itself: bolt resets the level of its app's logger, "aadbot", on every request."""
    for name in OPERATORS_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)


def emulator(scenario: str | None, url: str | None) -> str | None:
    """Where every Microsoft call goes instead of Microsoft, or None for the live services: `serve` logs
    it and `doctor` prints it first, so checks that pass against an emulator are never read as real."""
    if scenario:
        where = f"the built-in sandbox of {scenario} (AADBOT_SANDBOX)"
    elif url:
        where = f"{url} (AADBOT_SANDBOX_URL)"
    else:
        return None
    return f"every Microsoft call goes to {where}, not to Microsoft: nothing real is read or changed"


def no_public_url(used: str | None) -> None:
    """Teams' download links (the CSV files) need the address Teams users reach this server at."""
    if used is None:
        log.warning(
            "AADBOT_PUBLIC_URL is not set and serve listens on every address: Teams messages carry no"
            " download links (CSV files). Set it to the public https address of this server."
        )
    else:
        log.warning(
            "AADBOT_PUBLIC_URL is not set: Teams download links (CSV files) point at %s, where serve"
            " listens; people reach them only from where that address works. Set it to the public https"
            " address of this server (the host of the bot's messaging endpoint).",
            used,
        )


async def slack_identity(client: AsyncWebClient) -> None:
    """The workspace and the bot user the token belongs to, from Slack's `auth.test`. A token Slack refuses
    raises SettingsError, which stops `serve` with the fix: every request would fail with bolt's stock
    "reinstall this app" otherwise. No answer, a 5xx or a 429 only warn: they say nothing of the token, and
    may pass."""
    from slack_sdk.errors import SlackApiError

    from bot.slack._errors import RATE_LIMITING, REACHING_SLACK, TOKEN_REFUSED, error_code

    try:
        answer = await client.auth_test()
    except SlackApiError as error:
        status = error.response.status_code
        if status == 429:  # after the client's retries: it has an answer, just not yet
            log.warning("%s auth.test (429): serving goes on, calls wait their turn", RATE_LIMITING)
            return
        if status >= 500:  # Slack's side, or a proxy on the way (often an HTML page): no verdict on the token
            log.warning(
                "Slack did not answer auth.test (HTTP %d from Slack or a proxy on the way): serving goes on;"
                " if it lasts, check status.slack.com and HTTPS_PROXY",
                status,
            )
            return
        code = error_code(error)
        if code in TOKEN_REFUSED:
            raise SettingsError(
                f"Slack refused SLACK_BOT_TOKEN in auth.test ({code}): copy the Bot User OAuth Token"
                " (xoxb-...) from api.slack.com/apps > your app > OAuth & Permissions (reinstall the app"
                " if it was removed). invalid_auth can also mean the workspace allows calls only from"
                " listed IP addresses."
            ) from None
        log.warning("Slack refused auth.test (%s): check SLACK_BOT_TOKEN and SLACK_API_URL", code)
        return
    except Exception as error:  # no answer: serving goes on, the operator is told why
        log.warning("Slack did not answer auth.test (%s): %s", type(error).__name__, REACHING_SLACK)
        return
    log.info(
        "Slack workspace %s (%s), bot user %s (%s)",
        answer.get("team") or "?",
        answer.get("team_id") or "?",
        answer.get("user") or "?",
        answer.get("user_id") or "?",
    )


async def teams_identity(
    api: TeamsApi,
    migrating: Callable[[], int],
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    again_after: Sequence[float] = SIGN_IN_AGAIN_AFTER,
) -> None:
    """The bot's sign-in to Entra at start, as Slack's `auth.test`: credentials Entra refuses at the first
    attempt, with no migration under way (`migrating()`, the count of them), raise SettingsError, which
    stops `serve` (Slack beside it too) with the fix; left running, it answered nobody and said so only in
    its log. With a migration under way, or a refusal coming on a later attempt (serve has been serving
    meanwhile), the refusal is an ERROR and serving goes on, as bot.app_sign_in does for the Azure
    sign-in: stopping would leave the migration's people without their reminders and answers, while the
    Teams messages only wait for the secret (bot.teams.sender). No answer, a 5xx, a 429, or a refusal not
    in Entra's words (a proxy's page) say nothing of the credentials: serving goes on, and the sign-in is
    tried again until Entra gives a verdict."""
    from bot.teams.connector import SignInRefused, TeamsApiError

    for attempt in itertools.count():
        try:
            await api.sign_in()
        except SignInRefused as refused:
            under_way = await asyncio.to_thread(migrating)
            if attempt == 0 and not under_way:
                raise SettingsError(refused.advice) from None
            log.error(
                "%s Serving goes on%s; Teams messages wait until the sign-in works again.",
                refused.advice,
                f" for the {under_way} migration(s) under way" if under_way else "",
            )
            return
        except Exception as error:  # TeamsApiError, or an answer that is no token
            wait = again_after[min(attempt, len(again_after) - 1)]
            if attempt == 0:  # once: an outage of hours would otherwise fill the log
                status = error.status or error.code if isinstance(error, TeamsApiError) else None
                log.warning(
                    "Microsoft Entra ID did not answer the Teams bot's sign-in (%s): serving goes on, and the"
                    " sign-in is tried again in %.0f s, then every few minutes; if it lasts, check that"
                    " login.microsoftonline.com is reachable from here (HTTPS_PROXY)",
                    status or type(error).__name__,
                    wait,
                )
            await sleep(wait)
            continue
        log.info("Teams: app %s signed in to Microsoft Entra ID", api.app_id)
        return


def migrations_under_way(database: Database) -> Callable[[], int]:
    """How many migrations are under way, asked when a refusal comes: what decides whether it stops
    `serve` (`teams_identity`)."""

    def count() -> int:
        with database.session() as session:
            return len(active(session))

    return count
