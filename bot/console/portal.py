"""The steps a person takes in Microsoft's portals (connect the organization, sign in, map someone by
hand, move billing), and Microsoft Support's mapping of someone again, taken in the sandbox emulator
instead: `chat`'s `:connect`, `:signin`, `:resolve`, `:remap` and `:billing`, and the demo's."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from bot.runtime import Runtime
from msapi import tls_context


def emulator_of(runtime: Runtime) -> str | None:
    """The sandbox emulator's address when the runtime's Microsoft is the sandbox; None for the real one."""
    return runtime.sandbox.url if runtime.sandbox is not None else runtime.settings.sandbox_url


def in_sandbox(runtime: Runtime, word: str, path: str, body: Mapping[str, object]) -> str | None:
    """Do what a person does in Microsoft's portals, in the emulator; None when done, else why not."""
    emulator = emulator_of(runtime)
    if emulator is None:
        return f"`{word}` only works with the sandbox (--scenario, AADBOT_SANDBOX or AADBOT_SANDBOX_URL)."
    try:
        httpx.post(f"{emulator}{path}", json=body, timeout=10, verify=tls_context()).raise_for_status()
    except httpx.HTTPStatusError as error:
        return f"The emulator refused {word} ({error.response.status_code}: {error.response.text[:200]})."
    except httpx.HTTPError as error:
        return f"The emulator at {emulator} did not answer {word} ({error}); is it running?"
    return None
