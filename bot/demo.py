"""`aadbot demo`: a whole migration of the bundled example organization, played in the console.

Everything is real except the people: a SQLite database in a temporary folder, the sandbox tenant over
loopback HTTP, the same conversation handlers Slack uses. Admins and users "type" scripted lines.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TextIO

from bot.console.portal import in_sandbox
from bot.console.surface import ConsoleSurface, console_actor
from bot.conversation.messages import DirectMessage, Outgoing
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from workflows.results import Actor

ORGANIZATION = "fabrikam-fiber"
TENANT_DOMAIN = "fabrikam.com"
SHOWN_IN_FULL = frozenset({"ann@fabrikam.com", "kim@fabrikam.com", "erin.eng@gmail.com", "ivan@fabrikam.com"})
"""One to-do list per kind of user is printed whole; the others by their first line."""


def bundled_scenario() -> Path:
    return Path(str(resources.files("sandbox") / "scenarios" / "fabrikam.json"))


def run_demo(out: TextIO, scenario: Path | None = None) -> int:
    """The whole migration of fabrikam-fiber; `scenario` may restrict it (e.g. its `credentials`)."""
    with tempfile.TemporaryDirectory(prefix="aadbot-demo-") as folder:
        settings = Settings(
            database_url=f"sqlite:///{Path(folder) / 'demo.db'}",
            sandbox_scenario=str(scenario or bundled_scenario()),
        )
        runtime = build_runtime(settings)
        try:
            return _play(runtime, out)
        finally:
            runtime.close()


class _Demo:
    def __init__(self, runtime: Runtime, out: TextIO) -> None:
        self.runtime = runtime
        self.out = out
        self.surface = ConsoleSurface(runtime.conversation, out)
        state = runtime.sandbox.state() if runtime.sandbox else {}
        self.names = {
            str(user["userPrincipalName"]).lower(): str(user.get("displayName") or "")
            for user in state.get("tenant", {}).get("users", [])
        }
        self.tenant_id = str(state.get("tenant", {}).get("id", ""))

    def person(self, email: str) -> Actor:
        return console_actor(email, self.names)

    def stage(self, title: str) -> None:
        self.out.write(f"\n{'=' * 100}\n== {title}\n{'=' * 100}\n")

    def narrate(self, text: str) -> None:
        self.out.write(f"\n   ({text})\n")

    def click(
        self, actor: Actor, outgoing: list[Outgoing], label: str, *, last: bool = False
    ) -> list[Outgoing]:
        buttons = [
            button for message in outgoing for button in message.message.buttons if button.label == label
        ]
        if not buttons:
            raise RuntimeError(f"the demo expected a [{label}] button and there was none")
        button = buttons[-1] if last else buttons[0]
        return self.surface.click(actor, label, button.action, button.value)

    def sandbox_post(self, path: str, body: dict[str, str]) -> None:
        refused = in_sandbox(self.runtime, path, path, body)
        if refused is not None:
            raise RuntimeError(f"the demo's portal step failed: {refused}")


def _play(runtime: Runtime, out: TextIO) -> int:
    demo = _Demo(runtime, out)
    say = demo.surface.say
    dana, lee = demo.person("dana@fabrikam.com"), demo.person("lee@fabrikam.com")
    out.write(
        "aadbot demo: moving the Azure DevOps organization fabrikam-fiber from Microsoft accounts to the"
        " Fabrikam directory (Microsoft Entra ID).\nDana owns the organization, Lee is a second admin; the"
        " tenant, the organization and its users live in the built-in sandbox.\n"
    )

    demo.stage("1. Anyone can ask first")
    say(demo.person("ann@fabrikam.com"), "ask will there be any downtime during the switch?", in_dm=True)

    demo.stage("2. Dana starts: prerequisite checks and the plan")
    say(dana, f"/aad start {ORGANIZATION} {TENANT_DOMAIN}")
    say(dana, "/aad plan")
    demo.narrate(
        "the procedure's first prerequisite: tell users before the change; each hears their own case"
    )
    demo.surface.brief = _brief
    say(dana, f"/aad announce {ORGANIZATION} Friday 14:00 UTC")
    demo.surface.brief = ConsoleSurface.show_everything

    demo.stage("3. Someone who is not an admin tries to invite")
    say(demo.person("ann@fabrikam.com"), "/aad invite")

    demo.stage("4. Dana invites the users missing from the directory as B2B guests")
    say(dana, "/aad invite")
    demo.narrate("running it again is safe: nobody is invited twice")
    say(dana, "/aad invite")

    demo.stage("5. Approval before connecting, with a refused self-approval")
    requested = say(dana, "/aad request-approval")
    demo.click(dana, requested, "Approve")
    demo.click(lee, requested, "Approve")

    demo.stage("6. The portal step, then the bot's watch")
    say(lee, "/aad check-connection")
    demo.narrate("Lee follows the steps in the portal and clicks Connect (simulated in the sandbox)")
    demo.sandbox_post("/_sandbox/connect", {"organization": ORGANIZATION, "tenantId": demo.tenant_id})
    demo.narrate("the bot's connection watch looks again")
    demo.surface.deliver(runtime.conversation.watch())

    demo.stage("7. Every affected user gets their own to-do list")
    demo.surface.brief = _brief
    notified = say(dana, "/aad notify")
    demo.surface.brief = ConsoleSurface.show_everything
    kim = demo.person("kim@fabrikam.com")
    kims_list = [m for m in notified if isinstance(m.to, DirectMessage) and m.to.email == kim.email]
    demo.narrate(f"{kim.name} (kim@fabrikam-old.com in Azure DevOps) works through their list")
    demo.click(kim, kims_list, "Done")
    demo.click(kim, kims_list, "I need help", last=True)
    say(kim, "do I really have to make new personal access tokens?", in_dm=True)
    say(demo.person("ivan@fabrikam.com"), "do I keep my visual studio subscription?", in_dm=True)
    demo.narrate("Ann signs in to Azure DevOps with her work account (simulated in the sandbox)")
    demo.sandbox_post("/_sandbox/signin", {"organization": ORGANIZATION, "principalName": "ann@fabrikam.com"})
    demo.narrate("the bot's watch reads the organization's sign-ins: no need for Ann to press Done")
    demo.surface.deliver(runtime.conversation.watch())
    demo.narrate("Dana looks at how far everyone is: verified, self-reported and open apart")
    say(dana, "/aad progress")

    demo.stage("8. Billing moves to the new directory")
    say(dana, "/aad check-billing")
    demo.narrate("Dana changes the subscription's directory in the Azure portal (simulated in the sandbox)")
    billing = _billing_subscription(runtime)
    if billing:
        demo.sandbox_post("/_sandbox/subscription", {"subscriptionId": billing, "tenantId": demo.tenant_id})
    say(dana, "/aad check-billing")

    demo.stage("9. Done")
    say(dana, "/aad complete")
    demo.narrate("Nobody is chased once it is complete, so the bot names who is not done yet and asks first")
    say(dana, f"/aad complete {ORGANIZATION} confirm")
    _summary(demo)
    return 0


def _brief(message: Outgoing) -> bool:
    return (
        isinstance(message.to, DirectMessage)
        and message.updates is None
        and message.to.email not in SHOWN_IN_FULL
    )


def _billing_subscription(runtime: Runtime) -> str | None:
    return runtime.microsoft.billing_subscription_id(ORGANIZATION)


def _summary(demo: _Demo) -> None:
    service = demo.runtime.service
    status = service.status(ORGANIZATION)
    trail = service.audit_trail(ORGANIZATION)
    stages = [
        entry.state_after for entry in trail if entry.state_after and entry.state_after != entry.state_before
    ]
    people = _people(
        message.to.addresses for _, message in demo.surface.delivered if isinstance(message.to, DirectMessage)
    )
    demo.stage("Summary")
    lines = [
        f"Organization      {status.organization} -> {status.directory_name}",
        f"Final stage       {status.state}",
        f"Stages passed     {' -> '.join(dict.fromkeys(stages))}",
        "Users             "
        + ", ".join(f"{count} {outcome}" for outcome, count in status.counts.items() if count),
        f"Direct messages   to {len(people)} people: {', '.join(people)}",
        f"Audit entries     {len(trail)}",
    ]
    demo.out.write("\n".join(lines) + "\n")


def _people(recipients: Iterable[tuple[str, ...]]) -> list[str]:
    """Each person once, however many of their addresses were written to (Kim's Azure DevOps address before
    connecting, her directory account after): a message's addresses are one person's, so addresses that
    share a message are that person's. Each is named by all their addresses, sorted."""
    groups: list[set[str]] = []
    for addresses in recipients:
        merged = set(addresses)
        for group in [group for group in groups if group & merged]:
            merged |= group
            groups.remove(group)
        groups.append(merged)
    return sorted(" / ".join(sorted(group)) for group in groups)
