"""`aadbot chat --as EMAIL`: type as a named admin or user, through the same handlers Slack uses."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TextIO

from bot.console import rehearsal
from bot.console.portal import emulator_of, in_sandbox
from bot.console.rehearsal import RehearsalClock
from bot.console.render import links_withheld, render
from bot.console.surface import ConsoleSurface, console_actor
from bot.conversation.messages import Message, Outgoing
from bot.runtime import Runtime
from workflows.arguments import is_email
from workflows.directory import MicrosoftError
from workflows.machine import CONNECTED_UNFINISHED, CONNECTION_WATCHED, describe_state
from workflows.results import Actor, MigrationStatus

HELP = """Type what you would type after /aad (`start fabrikam-fiber fabrikam.com`, `status`, `help`...).
A button shows the words to type instead of clicking it; right after an answer, `Not helpful` rates it.
  :as EMAIL      speak as someone else
  :dm TEXT       send TEXT as a direct message to the bot (questions, `todo`, `done N`)
  :connect       (sandbox) click Connect in the portal for the migration waiting for it (or ahead of
                 its approval, as someone may)
  :signin EMAIL  (sandbox) that person signs in to the organization with their work account
  :resolve EMAIL ACCOUNT  (sandbox) an admin maps that person's identity to the directory ACCOUNT
                 (Organization settings > Microsoft Entra ID > Resolve)
  :remap EMAIL ACCOUNT  (sandbox) Microsoft Support maps again the identity Azure DevOps shows as EMAIL
                 (mapped already) to the directory ACCOUNT
  :billing       (sandbox) move the billing subscription into the directory, as in the Azure portal
  :later 1d      (sandbox) move the clock on (3h, 1d, 1w) and see what everyone receives meanwhile
  :now           the rehearsal's time
  :quit          leave"""


def run_chat(
    runtime: Runtime,
    email: str,
    lines: TextIO,
    out: TextIO,
    *,
    renderer: Callable[[Message], str] = render,
    clock: RehearsalClock | None = None,
    stride: timedelta | None = None,
) -> int:
    """`ConsoleChat`, from its greeting to the last line or `:quit`, with the background watch."""
    chat = ConsoleChat(runtime, email, out, renderer=renderer, clock=clock, stride=stride)
    with chat.watching():
        chat.type(lines)
    return 0


class ConsoleChat:
    """One chat: who speaks now, what the console printed, and the rehearsal clock. `type` takes the lines
    in as many parts as they come; a test restores a first part and types the rest (tests/bot/replays.py).

    `renderer`: how messages are printed (`bot.teams.text.message_text` for `--surface teams`); against the
    real Microsoft, without the links of link buttons (`links_withheld`).
    `clock`: the runtime's clock when the chat has a database of its own that `:later` may move on;
    None where the database is one that outlives the chat (moving time there would outlast it).
    `stride`: the longest `:later` goes between two looks (`rehearsal.live_through`)."""

    def __init__(
        self,
        runtime: Runtime,
        email: str,
        out: TextIO,
        *,
        renderer: Callable[[Message], str] = render,
        clock: RehearsalClock | None = None,
        stride: timedelta | None = None,
    ) -> None:
        self.runtime = runtime
        if emulator_of(runtime) is None:
            renderer = _without_links(renderer)
        self.surface = ConsoleSurface(runtime.conversation, out, renderer=renderer)
        self.actor = console_actor(email)
        self.clock = clock
        self.stride = stride
        self._looking = threading.Lock()  # the background watch and `:later` never look at once
        out.write(f"aadbot chat as {self.actor.name} <{self.actor.email}>. {HELP}\n")

    @contextmanager
    def watching(self) -> Iterator[None]:
        """The look `serve` runs in the background, every `poll_seconds`, while the block runs."""
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(stop,), daemon=True)
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join(timeout=5)

    def _watch(self, stop: threading.Event) -> None:
        while not stop.wait(self.runtime.settings.poll_seconds):
            with self._looking:
                self.surface.deliver(self.runtime.conversation.watch())

    def type(self, lines: Iterable[str]) -> bool:
        """Each line as typed; False once one leaves the chat (`:quit`)."""
        out, runtime = self.surface.out, self.runtime
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            if line in (":quit", ":q", ":exit"):
                return False
            if line == ":as" or line.startswith(":as "):
                who = line.removeprefix(":as").strip()
                if is_email(who):
                    self.actor = console_actor(who)
                    out.write(f"(now speaking as {self.actor.name} <{self.actor.email}>)\n")
                else:
                    out.write(f"`:as` takes an email address, not `{who}`: `:as ann@fabrikam.com`.\n")
            elif line.startswith(":dm "):
                self.surface.say(self._speaking(), line[4:], in_dm=True)
            elif line == ":connect":
                out.write(_simulate_connect(runtime) + "\n")
            elif line.startswith(":signin"):
                out.write(_simulate_sign_in(runtime, line.removeprefix(":signin").strip()) + "\n")
            elif line.startswith(":resolve"):
                out.write(_simulate_resolve(runtime, line.removeprefix(":resolve").split()) + "\n")
            elif line.startswith(":remap"):
                words = line.removeprefix(":remap").split()
                out.write(_simulate_resolve(runtime, words, support=True) + "\n")
            elif line == ":billing":
                out.write(_simulate_billing(runtime) + "\n")
            elif line == ":now" or line.startswith(":later"):
                with self._looking:
                    span = line.removeprefix(":later")
                    out.write(_move_clock(runtime, self.surface, self.clock, span, self.stride) + "\n")
            elif line.startswith(":"):
                out.write(f"unknown chat command {line.split()[0]}\n{HELP}\n")
            else:
                self.surface.say(self._speaking(), line)
        return True

    def _speaking(self) -> Actor:
        """Who speaks, on this machine's calendar: the chat runs where its user sits, so their `tomorrow` is
        the day after the machine's today (summer time as it stands at the rehearsal's time)."""
        now = self.clock() if self.clock is not None else datetime.now(UTC)
        local = now.astimezone().tzinfo
        assert local is not None  # astimezone() without a zone always gives the machine's
        return replace(self.actor, zone=local)


def _without_links(renderer: Callable[[Message], str]) -> Callable[[Message], str]:
    return lambda message: renderer(links_withheld(message))


def _move_clock(
    runtime: Runtime,
    surface: ConsoleSurface,
    clock: RehearsalClock | None,
    span: str,
    stride: timedelta | None,
) -> str:
    """`:now` (`span` is `:now`) or `:later SPAN`: the rehearsal's time, or a span lived through."""
    if clock is None:
        return (
            "The rehearsal clock only moves in a chat with a database of its own (`aadbot chat --scenario"
            f" FILE`): this chat uses {runtime.database.url}, which outlives it, and reminders sent in"
            " the future there would stay in the future. Rehearse with `--scenario` to move time."
        )
    if span == ":now":
        ahead = rehearsal.duration(clock.ahead)
        return f"(rehearsal time: {rehearsal.when(clock())}, {ahead} ahead of the real clock)"
    try:
        by = rehearsal.span_of(span)
    except ValueError as error:
        return str(error)

    surface.out.write(
        f"(the clock moves on {rehearsal.duration(by)} from {rehearsal.when(clock())}: what people"
        " receive meanwhile, as `serve` would send it)\n"
    )
    headings: list[str] = []

    def show(moment: datetime, arrived: list[Outgoing]) -> None:
        heading = rehearsal.when(moment)
        if heading not in headings:  # two looks within a minute read as one moment
            surface.out.write(f"\n── {heading} ──\n")
            headings.append(heading)
        surface.deliver(arrived)

    received = rehearsal.live_through(
        clock,
        by,
        look=runtime.conversation.watch,
        next_due=runtime.service.next_due,
        show=show,
        look_every=timedelta(seconds=runtime.settings.poll_seconds),
        stride=stride,
    )
    return "\n" + rehearsal.summary(received, by, clock())


def _simulate_connect(runtime: Runtime) -> str:
    """The click at the portal step, or ahead of the approval, as someone may (walk33 finding 1): the bot
    notices either at its next look."""
    connecting = runtime.service.organizations(state="connecting")
    status = runtime.service.status(connecting[0]) if connecting else _newest_migration(runtime)
    if status is None:
        return "No migration yet: `start` one first."
    organization, target = status.organization, status.directory_name
    if status.state in CONNECTED_UNFINISHED or _connected(runtime, status):  # the watch may not know yet
        return f"(portal: {organization} is already connected to {target}; nothing to click.)"
    if status.state not in CONNECTION_WATCHED:
        return f"No migration can be connected now: {organization}'s is {describe_state(status.state)}."
    body = {"organization": organization, "tenantId": status.tenant_id}
    refused = in_sandbox(runtime, ":connect", "/_sandbox/connect", body)
    if refused:
        return refused
    if connecting:
        return f"(portal: {organization} connected to {target}; the connection watch will notice)"
    return (
        f"(portal: {organization} connected to {target} ahead of the approval, which nobody gave: the"
        " connection watch's next look, or `check-connection`, raises the alarm)"
    )


def _connected(runtime: Runtime, status: MigrationStatus) -> bool:
    try:
        tenant = runtime.microsoft.organization_tenant_id(status.organization)
    except MicrosoftError:
        return False  # then the click tells
    return tenant.casefold() == status.tenant_id.casefold()


def _simulate_sign_in(runtime: Runtime, email: str) -> str:
    if "@" not in email:
        return "Say who signs in: `:signin ann@fabrikam.com`."
    status = _newest_migration(runtime)
    if status is None:
        return "No migration yet: `start` one first."
    body = {"organization": status.organization, "principalName": email}
    refused = in_sandbox(runtime, ":signin", "/_sandbox/signin", body)
    return refused or f"({email} signed in to {status.organization}; the sign-in checks will notice)"


def _simulate_resolve(runtime: Runtime, words: list[str], *, support: bool = False) -> str:
    """An admin's *Resolve* in the portal, or (`support`) Microsoft Support's mapping of someone mapped."""
    if support:
        word, example, who = ":remap", "max@fabrikam.com kim@fabrikam.com", "Microsoft Support"
        # the short reads ask only for people not seen mapped yet (`workflows.stages.mapped_identities`)
        noticed = "the daily full read of the sign-ins will notice, or `check-sign-ins` now, or their sign-in"
    else:
        word, example, who = ":resolve", "kim@fabrikam-old.com kim@fabrikam.com", "portal"
        noticed = "the sign-in checks ask Azure DevOps for it each quarter hour, or `check-sign-ins` now"
    if len(words) != 2 or not all("@" in each for each in words):
        return f"Say whom to map, and to which account: `{word} {example}`."
    status = _newest_migration(runtime)
    if status is None:
        return "No migration yet: `start` one first."
    person, account = words
    body = {"organization": status.organization, "principalName": person, "account": account}
    refused = in_sandbox(runtime, word, "/_sandbox/resolve", {**body, "support": True} if support else body)
    return refused or f"({who}: {person} mapped to {account} in {status.organization}; {noticed})"


def _simulate_billing(runtime: Runtime) -> str:
    status = _newest_migration(runtime)
    if status is None:
        return "No migration yet: `start` one first."
    subscription = runtime.microsoft.billing_subscription_id(status.organization)
    if subscription is None:
        return f"{status.organization} has no billing subscription to move."
    try:
        found = runtime.microsoft.subscription(subscription, status.tenant_id)
    except MicrosoftError:
        found = None  # then the move tells
    if found is not None and found.tenant_id.casefold() == status.tenant_id.casefold():
        return f"(Azure portal: subscription {subscription} is already in {status.directory_name}.)"
    body = {"subscriptionId": subscription, "tenantId": status.tenant_id}
    refused = in_sandbox(runtime, ":billing", "/_sandbox/subscription", body)
    moved = f"(Azure portal: subscription {subscription} moved to {status.directory_name};"
    return refused or f"{moved} `check-billing` or the billing reminder will notice)"


def _newest_migration(runtime: Runtime) -> MigrationStatus | None:
    organizations = runtime.service.organizations()
    return runtime.service.status(organizations[0]) if organizations else None  # newest first
