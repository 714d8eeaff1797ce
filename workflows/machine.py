"""The migration procedure as a `transitions` state machine, rebuilt around the stored row per request.

Pattern: a plain `MigrationFlow` wraps the `Migration` row (pydantic rows refuse the attributes a
Machine adds), its `state` property reads and writes the row, and every transition appends an audit
entry to the same session, so state and audit commit together or not at all.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session
from transitions import EventData, Machine, MachineError

from storage.models import AuditEntry, Migration
from workflows.errors import WorkflowError
from workflows.plan_invitations import INVITATION_CHECKS
from workflows.step_log import stepped

STATES: tuple[str, ...] = (
    "draft",
    "checking_prerequisites",
    "planned",
    "blocked",
    "inviting",
    "waiting_for_invite_settings",
    "removing",
    "awaiting_approval",
    "connecting",
    "connected",
    "inviting_after_connecting",
    "users_notified",
    "billing_checked",
    "completed",
    "cancelled",
    "failed",
    "interrupted",
)


def only_invitations_fail(plan: Mapping[str, Any] | None) -> bool:
    """Whether the stored plan's failing checks are some of `INVITATION_CHECKS` and nothing else."""
    checks = (plan or {}).get("checks", [])
    failing = {check.get("code") for check in checks if check.get("status") == "fail"}
    return bool(failing) and failing <= INVITATION_CHECKS


FINAL_STATES = frozenset({"completed", "cancelled"})
BUSY_STATES = frozenset({"checking_prerequisites", "inviting", "removing"})
"""States in which a step is talking to Microsoft; the migration stays in them only while it runs."""

CONNECTED_STEPS = ("connected", "users_notified", "billing_checked")
"""Connected and not yet completed: people left without a directory account can still be invited."""
INVITING_AFTER_CONNECTING = "inviting_after_connecting"
"""Busy like `inviting`, but it only ever returns to the connected step it began in."""
LEASED_STATES = frozenset({*BUSY_STATES, INVITING_AFTER_CONNECTING})
"""A step runs in them; one silent for `WorkflowSettings.step_lease` is taken as dead: `resume` re-runs it."""
CONNECTED_UNFINISHED = frozenset({*CONNECTED_STEPS, INVITING_AFTER_CONNECTING})
"""Connected and not completed: what the sign-in watch looks at, and nothing there can be cancelled."""
BEFORE_CONNECTING = (
    "planned",
    "blocked",
    "waiting_for_invite_settings",
    "awaiting_approval",
    "failed",
    "interrupted",
)
"""Resting states short of the portal step: the connection watch looks at them too, because someone may
click Connect in the portal without waiting for the bot (`CONNECTED_OUTSIDE_APPROVAL`). The busy states
need no look: each step ends in a prerequisite check, which finds the connection (`CONNECTED_OUTSIDE_APPROVAL`
too once a plan exists, `found_connected` for an organization connected before anything was planned)."""
CONNECTED_OUTSIDE_APPROVAL = "connected_outside_approval"
"""The connection watch (or `check-connection`) saw the organization on the target directory before any
approval let it connect: an event Microsoft reports, never a command, and audited as such."""
CONNECTION_WATCHED = frozenset({"connecting", *BEFORE_CONNECTING})
"""What the connection watch looks at: the portal step, and every state a click in the portal may skip."""
_CANCELLABLE = [state for state in STATES if state not in FINAL_STATES | CONNECTED_UNFINISHED]
"""Once connected there is nothing left to call off: cancelling would only silence the reminders."""

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "check", "source": "draft", "dest": "checking_prerequisites"},
    {"trigger": "prerequisites_passed", "source": "checking_prerequisites", "dest": "planned"},
    {"trigger": "prerequisites_failed", "source": "checking_prerequisites", "dest": "blocked"},
    # Microsoft says the organization is connected to the tenant already (someone clicked Connect in
    # the portal): no approval or portal step is left, whatever the prerequisites of that click say.
    # Found so before anything was planned, it was connected before the migration began; once a plan
    # exists, it is a click no approval let happen (`CONNECTED_OUTSIDE_APPROVAL`, below), which alarms.
    {
        "trigger": "found_connected",
        "source": "checking_prerequisites",
        "dest": "connected",
        "conditions": "nothing_planned",
    },
    {
        "trigger": "recheck",
        "source": ["planned", "blocked", "waiting_for_invite_settings", "awaiting_approval"],
        "dest": "checking_prerequisites",
    },
    {"trigger": "invite", "source": ["planned", "waiting_for_invite_settings"], "dest": "inviting"},
    {"trigger": "invitations_sent", "source": "inviting", "dest": "checking_prerequisites"},
    {"trigger": "invite_denied", "source": "inviting", "dest": "waiting_for_invite_settings"},
    {
        "trigger": "request_approval",
        "source": "planned",
        "dest": "awaiting_approval",
        "conditions": "prerequisites_pass",
    },
    # Blocked only because nobody may invite the people without a directory account: `request-approval
    # ORG anyway` connects without them (they lose access), as it does while they are not invited yet.
    {
        "trigger": "request_approval_anyway",
        "source": "blocked",
        "dest": "awaiting_approval",
        "conditions": "only_invitations_fail",
    },
    {
        "trigger": "remove_users",
        "source": ["planned", "blocked", "waiting_for_invite_settings"],
        "dest": "removing",
    },
    {"trigger": "users_removed", "source": "removing", "dest": "checking_prerequisites"},
    # The service decides whether the approval still holds (its plan and the live one agree).
    {"trigger": "approve", "source": "awaiting_approval", "dest": "connecting"},
    # A request that lapses goes back to where its stored checks put it: to `blocked` after an
    # `anyway` request (or a decision that made a check fail), so `status` offers no plain request.
    *(
        {"trigger": trigger, "source": "awaiting_approval", "dest": dest, guard: "a_check_fails"}
        for trigger in ("reject", "expire", "void_approval")
        for dest, guard in (("blocked", "conditions"), ("planned", "unless"))
    ),
    {"trigger": "connection_confirmed", "source": "connecting", "dest": "connected"},
    # Someone clicked Connect in the portal without (or before) an approval: people are locked out now,
    # so the migration goes on with the to-do lists. Microsoft reports it; no command of the bot's does it.
    {"trigger": CONNECTED_OUTSIDE_APPROVAL, "source": list(BEFORE_CONNECTING), "dest": "connected"},
    # The same click, found by a step's own prerequisite check (a `resume`, the end of an `invite`...).
    {
        "trigger": CONNECTED_OUTSIDE_APPROVAL,
        "source": "checking_prerequisites",
        "dest": "connected",
        "unless": "nothing_planned",
    },
    {"trigger": "notify", "source": "connected", "dest": "users_notified"},
    {"trigger": "billing_confirmed", "source": "users_notified", "dest": "billing_checked"},
    {"trigger": "complete", "source": "billing_checked", "dest": "completed"},
    # Microsoft's procedure adds whoever is missing from the directory as a B2B guest, after connecting
    # too. The step goes back to the connected step it began in, whatever happens: never to a state
    # that could cancel, or to the portal step.
    {"trigger": "invite", "source": list(CONNECTED_STEPS), "dest": INVITING_AFTER_CONNECTING},
    *(
        {
            "trigger": trigger,
            "source": INVITING_AFTER_CONNECTING,
            "dest": step,
            "conditions": "began_there",
        }
        for trigger in ("invitations_sent", "invite_denied", "fail", "interrupt")
        for step in CONNECTED_STEPS
    ),
    {"trigger": "fail", "source": sorted(BUSY_STATES), "dest": "failed"},
    # The process stopping (SIGTERM) stops a step between two people: `resume` carries on at once, where a
    # step left busy would wait for its lease.
    {"trigger": "interrupt", "source": sorted(BUSY_STATES), "dest": "interrupted"},
    {
        "trigger": "resume",
        "source": ["failed", "interrupted"],
        "dest": "checking_prerequisites",
        "conditions": "failed_checking",
    },
    {
        "trigger": "resume",
        "source": ["failed", "interrupted"],
        "dest": "inviting",
        "conditions": "failed_inviting",
    },
    {
        "trigger": "resume",
        "source": ["failed", "interrupted"],
        "dest": "removing",
        "conditions": "failed_removing",
    },
    # A busy state nobody has touched for a while is an interrupted step (a crash): resume re-runs it.
    {
        "trigger": "resume",
        "source": sorted(LEASED_STATES),
        "dest": "=",
        "conditions": "step_abandoned",
    },
    {"trigger": "cancel", "source": _CANCELLABLE, "dest": "cancelled"},
]

COMMAND_WORDS: dict[str, str] = {
    "recheck": "recheck",
    "invite": "invite",
    "request_approval": "request-approval",
    "remove_users": "remove-users",
    "approve": "approve",
    "reject": "reject",
    "notify": "notify",
    "billing_confirmed": "check-billing",
    "complete": "complete",
    "resume": "resume",
    "cancel": "cancel",
}
"""Triggers people can pull, and the chat word for each; the rest are fired by the steps themselves."""

_EXTRA_WORDS: dict[str, tuple[str, ...]] = {"connecting": ("check-connection",)}
"""Words that fit a state without moving it."""
_FIRST_WORDS: dict[str, tuple[str, ...]] = dict.fromkeys(
    ("planned", "blocked", "waiting_for_invite_settings", "awaiting_approval"), ("announce",)
)
"""Words that fit a state without moving it and come before all others: Microsoft's first prerequisite
is to tell users of the change before you begin."""

ACTION_PHRASES: dict[str, str] = {
    "start": "started the migration",
    "announce": "told the users what is coming",
    "check": "started the prerequisite checks",
    "prerequisites_passed": "finished the prerequisite checks",
    "prerequisites_failed": "found a failing prerequisite",
    "found_connected": "found the organization already connected to the tenant",
    "recheck": "re-checked the prerequisites",
    "invite": "started sending invitations",
    "invitations_sent": "sent the invitations",
    "invite_denied": "was refused permission to invite guests",
    "guest_missing": "found an invited guest missing from the directory (invited again)",
    "invitation_link_recovered": "fetched the link of an invitation sent before an interruption (no email)",
    "request_approval": "requested approval",
    "request_approval_anyway": "requested approval to connect without the people nobody may invite",
    "remove_users": "started removing users",
    "users_removed": "finished removing users",
    "approve": "approved the plan",
    "reject": "rejected the plan",
    "expire": "found the approval expired",
    "decision": "recorded an approval decision",
    "connection_confirmed": "confirmed the connection",
    CONNECTED_OUTSIDE_APPROVAL: "found the organization connected in the portal outside the approval (nobody"
    " approved it)",
    "notify": "notified the users",
    "billing_confirmed": "confirmed billing",
    "complete": "completed the migration",
    "fail": "hit a failure",
    "interrupt": "stopped a step part way, as the bot was stopping",
    "resume": "resumed the migration",
    "cancel": "cancelled the migration",
    "remove_user": "removed a user from the organization",
    "void_approval": "voided the pending approval",
    "decide_account": "decided for someone the plan could not place",
    "todo_done": "marked a to-do item done",
}


def next_commands(state: str) -> list[str]:
    """The chat words that make sense in `state`, in procedure order."""
    return list(_next_commands(state))


@functools.cache
def _next_commands(state: str) -> tuple[str, ...]:
    """Worked out once per state: every status names them, and walking the transitions for each status
    cost about 20 µs, 0.15 s of a test run."""
    words: list[str] = []
    for transition in TRANSITIONS:
        word = COMMAND_WORDS.get(transition["trigger"])
        sources = transition["source"]
        applies = state in sources if isinstance(sources, list) else state == sources
        if word and applies and word not in words:
            words.append(word)
    extra = [word for word in _EXTRA_WORDS.get(state, ()) if word not in words]
    at = words.index("cancel") if "cancel" in words else len(words)
    return (*_FIRST_WORDS.get(state, ()), *words[:at], *extra, *words[at:])


_STATE_WORDS = {
    "draft": "a draft",
    "users_notified": "connected, with everyone's to-do list sent",
    "billing_checked": "connected, with billing moved",
}
"""States whose name does not read after "the migration is"."""


def describe_state(state: str) -> str:
    """The state as it reads in "the migration is …"."""
    return _STATE_WORDS.get(state, state.replace("_", " "))


BILLING_UNCONFIRMED = "users_notified"
"""Connected and the lists sent: `complete` waits for billing to be confirmed in the new directory."""
_MISSING = {
    (BILLING_UNCONFIRMED, "complete"): "billing is not yet confirmed in the new directory (`check-billing`"
    " looks now)",
}
"""What a command waits for, where the state's name alone does not say it."""


def refusal(state: str, command: str) -> WorkflowError:
    """The reply to a command that does not fit the state: where the migration is, what is missing when
    the state does not say it, and what can be done."""
    words = next_commands(state)
    options = ", ".join(f"`{word}`" for word in words) if words else "nothing (it has ended)"
    missing = _MISSING.get((state, command))
    where = f"{missing}; the migration is" if missing else "the migration is"
    return WorkflowError(
        f"`{command}` does not fit now: {where} {describe_state(state)}. What you can do next: {options}."
    )


_MACHINE = Machine(
    model=None,
    states=list(STATES),
    transitions=TRANSITIONS,
    initial=None,
    auto_transitions=False,
    send_event=True,
    after_state_change="record",
)
"""One machine for every flow: building it per flow (every command, every watch tick) cost 0.4 ms of CPU,
seconds over the test suite. Unqueued and without models of its own, it keeps no state between events: each
`trigger(flow)` reads the state from the flow and resolves the guards and `record` on it, so threads can
share it."""


class MigrationFlow:
    """The transitions model for one migration row, bound to one session and one actor."""

    def __init__(
        self,
        row: Migration,
        session: Session,
        *,
        actor: tuple[str, str, str],
        now: datetime,
        step_lease: timedelta,
    ) -> None:
        self.row = row
        self.session = session
        self.actor = actor
        self.now = now
        self.step_lease = step_lease
        self.machine = _MACHINE

    @property
    def state(self) -> str:
        return self.row.state

    @state.setter
    def state(self, value: str) -> None:
        self.row.state = value

    def fire(
        self,
        trigger: str,
        *,
        command: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Pull `trigger`; raise `WorkflowError` if the state does not allow it or a guard refuses."""
        before = self.row.state
        word = command or COMMAND_WORDS.get(trigger, trigger.replace("_", "-"))
        try:
            moved = self.machine.events[trigger].trigger(self, details=details or {})
        except MachineError:
            raise refusal(before, word) from None
        if not moved:
            reason = self._lease_reason() if trigger == "resume" else None
            raise WorkflowError(f"`{word}` is not possible yet: {reason or _GUARD_REASONS[trigger]}")

    def _lease_reason(self) -> str | None:
        """Why a busy step cannot be resumed yet, and from when it can: a process that died without a
        word (kill -9, a lost machine) leaves its step busy until the lease runs out."""
        if self.row.state not in LEASED_STATES:
            return None
        ends = self.row.updated_at + self.step_lease
        return (
            f"the step is still running, or its process ended without a word; if so, `resume` re-runs it"
            f" from {ends:%H:%M} UTC, when the step's lease ends."
        )

    def allows(self, trigger: str) -> bool:
        return trigger in self.machine.get_triggers(self.row.state)

    def require(self, trigger: str, *, command: str) -> None:
        """Refuse early, before any Microsoft call, when `trigger` cannot fire from the current state."""
        if not self.allows(trigger):
            raise refusal(self.row.state, command)

    # Guards: the procedure's rules, decided from the stored row alone.
    def prerequisites_pass(self, event: EventData) -> bool:
        plan = self.row.plan
        if not plan or not self.row.plan_fingerprint:
            return False
        return not any(check.get("status") == "fail" for check in plan.get("checks", []))

    def a_check_fails(self, event: EventData) -> bool:
        return any(check.get("status") == "fail" for check in (self.row.plan or {}).get("checks", []))

    def only_invitations_fail(self, event: EventData) -> bool:
        return bool(self.row.plan_fingerprint) and only_invitations_fail(self.row.plan)

    def nothing_planned(self, event: EventData) -> bool:
        return self.row.plan is None

    def step_abandoned(self, event: EventData) -> bool:
        return self.row.updated_at + self.step_lease <= self.now

    def failed_checking(self, event: EventData) -> bool:
        return self.row.previous_state == "checking_prerequisites"

    def failed_inviting(self, event: EventData) -> bool:
        return self.row.previous_state == "inviting"

    def failed_removing(self, event: EventData) -> bool:
        return self.row.previous_state == "removing"

    def began_there(self, event: EventData) -> bool:
        transition = event.transition
        return transition is not None and transition.dest == self.row.previous_state

    def record(self, event: EventData) -> None:
        transition = event.transition
        if transition is None:
            raise RuntimeError("after_state_change always runs with a transition")
        source, dest = transition.source, transition.dest
        if dest in ("failed", "interrupted", INVITING_AFTER_CONNECTING) and source != dest:
            self.row.previous_state = source  # where `resume`, or the end of the step, goes back to
        self.row.updated_at = self.now
        actor_id, actor_email, actor_name = self.actor
        if self.row.id is None:
            raise RuntimeError("the migration row must be flushed before its machine runs")
        self.session.add(
            AuditEntry(
                migration_id=self.row.id,
                at=self.now,
                actor_id=actor_id,
                actor_email=actor_email,
                actor_name=actor_name,
                action=event.event.name,
                state_before=source,
                state_after=dest,
                details=dict(event.kwargs.get("details") or {}),
            )
        )
        who = actor_name or actor_email
        stepped(self.session, self.row.organization, event.event.name, source, dest, who)


_GUARD_REASONS = {
    "request_approval": "a prerequisite check fails (or there is no plan yet); fix it, then run `recheck`.",
    "request_approval_anyway": "a prerequisite other than the guest invitations fails; fix it, then run"
    " `recheck`.",
    "resume": "no interrupted step to resume (it may still be running); look at `status` in a minute.",
    # Never shown to anyone: the prerequisite check fires whichever of the two fits (`apply_plan`).
    "found_connected": "a plan was made, so the connection came without an approval: it is recorded as"
    " connected outside the approval.",
    CONNECTED_OUTSIDE_APPROVAL: "nothing was planned yet: the organization was connected before the"
    " migration began.",
    **dict.fromkeys(
        ("invitations_sent", "invite_denied", "fail", "interrupt"),
        "the invitations do not know which connected step they began in; look at `status`.",
    ),
}
