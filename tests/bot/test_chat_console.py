"""`aadbot chat`'s own commands (`:as`, `:connect`, `:billing`...): a first-day operator's slips get an
answer that says what went wrong, and the log stays out of the conversation."""

from __future__ import annotations

import io
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import cast

import pytest

from bot.console.chat import _newest_migration, run_chat
from bot.console.portal import in_sandbox
from bot.runtime import Runtime
from sandbox import Sandbox
from storage import Database
from tests.bot.conftest import chatted_at
from tests.fakes.runtimes import runtime_on

APPROVED = [
    "start fabrikam-fiber fabrikam.com",
    "invite",
    "request-approval",
    ":as lee@fabrikam.com",
    "approve 1",
]


@pytest.fixture
def runtime(sqlite_database: Database, box: Sandbox) -> Iterator[Runtime]:
    built = runtime_on(box, sqlite_database)
    try:
        yield built
    finally:
        built.close()


def _chat(runtime: Runtime, typed: list[str]) -> str:
    out = io.StringIO()
    assert run_chat(runtime, "dana@fabrikam.com", io.StringIO("\n".join(typed) + "\n"), out) == 0
    return " ".join(out.getvalue().split())


def test_speaking_as_someone_takes_an_email_address(runtime: Runtime) -> None:
    said = _chat(runtime, [":as nobody", "status"])
    assert "`:as` takes an email address, not `nobody`: `:as ann@fabrikam.com`." in said
    assert "now speaking as" not in said and "Dana <dana@fabrikam.com> in" in said


def test_an_unknown_chat_command_is_named_before_the_help(runtime: Runtime) -> None:
    said = _chat(runtime, [":bogus"])
    assert "unknown chat command :bogus Type what you would type after /aad" in said


def test_connecting_or_moving_billing_twice_says_it_is_already_done(runtime: Runtime) -> None:
    said = _chat(runtime, [*APPROVED, ":connect", ":connect"])
    assert "(portal: fabrikam-fiber connected to Fabrikam; the connection watch will notice)" in said
    assert "(portal: fabrikam-fiber is already connected to Fabrikam; nothing to click.)" in said
    runtime.conversation.watch()
    assert "is already connected to Fabrikam" in _chat(runtime, [":connect"])
    moved = _chat(runtime, [":billing", ":billing"])
    assert moved.count("moved to Fabrikam") == 1
    assert "is already in Fabrikam." in moved


def test_connect_ahead_of_the_approval_clicks_and_the_next_look_raises_the_alarm(runtime: Runtime) -> None:
    """walk33 finding 1 rehearsed: someone connects in the portal while the approval still waits."""
    said = _chat(runtime, ["start fabrikam-fiber fabrikam.com", "request-approval anyway", ":connect"])
    assert said.endswith(
        "(portal: fabrikam-fiber connected to Fabrikam ahead of the approval, which nobody gave: the"
        " connection watch's next look, or `check-connection`, raises the alarm)"
    )
    alarm = _chat(runtime, ["check-connection"])
    assert "🚨 FABRIKAM-FIBER WAS CONNECTED TO FABRIKAM OUTSIDE THE APPROVAL" in alarm
    assert (
        "Someone connected fabrikam-fiber to Fabrikam in the portal while approval #1 was still waiting (it"
        " is void now)."
    ) in alarm
    assert runtime.service.status("fabrikam-fiber").state == "connected"


def test_connect_with_no_migration_says_to_start_one(runtime: Runtime) -> None:
    assert _chat(runtime, [":connect"]).endswith("No migration yet: `start` one first.")


def test_a_mistyped_organization_puts_no_warning_in_the_console(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        said = _chat(runtime, ["start fabrikam-fibre fabrikam.com"])
    assert "I found no organization `fabrikam-fibre` that you administer" in said
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING], caplog.text


def test_the_sandbox_words_act_on_the_newest_migration_in_progress() -> None:
    """`organizations()` lists the newest first: `:signin`, `:billing` and `:connect` took the oldest."""
    statuses = {"contoso": "contoso's status", "fabrikam-fiber": "fabrikam-fiber's status"}
    service = SimpleNamespace(organizations=lambda: ["contoso", "fabrikam-fiber"], status=statuses.get)
    assert _newest_migration(cast(Runtime, SimpleNamespace(service=service))) == "contoso's status"


# The portal step itself (`bot.console.portal`), as `:connect`, `:signin`, `:billing` and the demo take it.
def test_a_step_the_emulator_takes_is_done(runtime: Runtime, box: Sandbox) -> None:
    tenant = str(box.state()["tenant"]["id"])
    body = {"organization": "fabrikam-fiber", "tenantId": tenant}
    assert in_sandbox(runtime, ":connect", "/_sandbox/connect", body) is None
    assert box.state()["organization"]["connected_tenant_id"] == tenant


def test_without_a_sandbox_it_says_how_to_get_one(runtime: Runtime) -> None:
    alone = replace(runtime, sandbox=None, settings=replace(runtime.settings, sandbox_url=None))
    body = {"subscriptionId": "s", "tenantId": "t"}
    refused = in_sandbox(alone, ":billing", "/_sandbox/subscription", body)
    assert refused == (
        "`:billing` only works with the sandbox (--scenario, AADBOT_SANDBOX or AADBOT_SANDBOX_URL)."
    )


def test_a_refusal_names_the_step_and_the_emulator_s_reason(runtime: Runtime) -> None:
    body = {"organization": "no-such-org", "tenantId": "t"}
    refused = in_sandbox(runtime, ":connect", "/_sandbox/connect", body)
    reason = """{"error":"unknown organization 'no-such-org'"}"""
    assert refused == f"The emulator refused :connect (404: {reason})."


def test_an_emulator_that_does_not_answer_is_named(runtime: Runtime) -> None:
    with socket.socket() as closed:  # a port nothing listens on once it is closed
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    gone = replace(runtime, sandbox=None, settings=replace(runtime.settings, sandbox_url=url))
    refused = in_sandbox(gone, ":signin", "/_sandbox/signin", {"organization": "o", "principalName": "p"})
    assert refused is not None
    assert refused.startswith(f"The emulator at {url} did not answer :signin (")
    assert refused.endswith("); is it running?")


@pytest.fixture
def in_california(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This machine's clock set to California time, as the laptop `aadbot chat` runs on may be."""
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("in_california")
def test_tomorrow_is_the_day_after_today_on_the_machines_calendar(
    sqlite_database: Database, box: Sandbox
) -> None:
    typed = ["start fabrikam-fiber fabrikam.com", "announce fabrikam-fiber tomorrow 14:00"]
    thursday_evening_in_california = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # already Friday in UTC
    said = chatted_at(thursday_evening_in_california, box, sqlite_database, typed)
    assert (
        "what is coming for Friday 4 December 2026 14:00 (you wrote “tomorrow 14:00”; I count days in your"
        " time zone, PST)" in said
    ), said
