"""`aadbot chat --as EMAIL`: type as a named admin or user, through the same handlers Slack uses."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TextIO

import httpx

from bot.console.render import render
from bot.console.surface import ConsoleSurface, console_actor
from bot.conversation.messages import Message
from bot.runtime import Runtime

HELP = """Type what you would type after /aad (`start fabrikam-fiber fabrikam.com`, `status`, `help`...).
A button shows the words to type instead of clicking it; right after an answer, `Not helpful` rates it.
  :as EMAIL   speak as someone else
  :dm TEXT    send TEXT as a direct message to the bot (questions, `todo`, `done N`)
  :connect    (sandbox) click Connect in the portal for the migration waiting for it
  :quit       leave"""


def run_chat(
    runtime: Runtime, email: str, lines: TextIO, out: TextIO, *, renderer: Callable[[Message], str] = render
) -> int:
    """`renderer`: how messages are printed (`bot.teams.text.message_text` for `--surface teams`)."""
    surface = ConsoleSurface(runtime.conversation, out, renderer=renderer)
    actor = console_actor(email)
    out.write(f"aadbot chat as {actor.name} <{actor.email}>. {HELP}\n")
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(runtime, surface, stop), daemon=True)
    watcher.start()
    try:
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            if line in (":quit", ":q", ":exit"):
                break
            if line.startswith(":as "):
                actor = console_actor(line[4:])
                out.write(f"(now speaking as {actor.name} <{actor.email}>)\n")
            elif line.startswith(":dm "):
                surface.say(actor, line[4:], in_dm=True)
            elif line == ":connect":
                out.write(_simulate_connect(runtime) + "\n")
            elif line.startswith(":"):
                out.write(HELP + "\n")
            else:
                surface.say(actor, line)
    finally:
        stop.set()
        watcher.join(timeout=5)
    return 0


def _watch(runtime: Runtime, surface: ConsoleSurface, stop: threading.Event) -> None:
    while not stop.wait(runtime.settings.poll_seconds):
        surface.deliver(runtime.conversation.watch())


def _simulate_connect(runtime: Runtime) -> str:
    emulator = runtime.sandbox.url if runtime.sandbox is not None else runtime.settings.sandbox_url
    if emulator is None:
        return "`:connect` only works with the sandbox (--scenario, AADBOT_SANDBOX or AADBOT_SANDBOX_URL)."
    connecting = runtime.service.organizations(state="connecting")
    if not connecting:
        return "No migration is waiting for the portal step (it needs an approval first)."
    status = runtime.service.status(connecting[0])
    body = {"organization": status.organization, "tenantId": status.tenant_id}
    try:
        httpx.post(f"{emulator}/_sandbox/connect", json=body, timeout=10).raise_for_status()
    except httpx.HTTPError as error:
        return f"The emulator at {emulator} did not connect {status.organization} ({error}); is it running?"
    target = status.directory_name
    return f"(portal: {status.organization} connected to {target}; the connection watch will notice)"
