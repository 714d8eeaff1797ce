"""The approval rules as properties over random sequences of commands and outside changes.

Hypothesis drives a migration with whatever admins type (in any order, by any of them) while the
directory and the organization change under it and time passes. After every step:
- the migration reaches `connecting` only through an approval that was valid when it was given:
  requested by someone else, not expired, for exactly the live plan, no check failing (a request
  `anyway`, which connects without the people without a directory account, gets past the one about
  inviting them, and only that one); anything after it too, but for the one exception: Microsoft
  already reports the organization on the target tenant (someone clicked Connect in the portal), and
  then the migration is connected at that very step (the checks' `found_connected`, or the watch's
  `connected_outside_approval`, audited with no approver);
- once connected it stays connected (inviting after connecting included): nothing leads back to
  cancelling, approving or the portal step;
- an approval never survives a change to the plan or its checks (an admin's decision for someone the
  plan could not place included): a decision on a plan that changed since the request does not connect;
- a pending approval exists only while the migration awaits it, and only for the stored plan;
- a migration is `planned` only while none of its stored checks fails (else it is `blocked`).
"""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import select

from storage import Approval, Database
from tests.storage.databases import replace_sqlite_file
from tests.workflows.fakes import DANA, LEE, OTHER_TENANT_ID, TENANT_ID, FakeClock, FakeMicrosoft
from workflows import decisions
from workflows.directory import DirectoryUser, OrgUser
from workflows.errors import WorkflowError
from workflows.plan import NO_ACCESS, Plan
from workflows.plan_matching import build_plan
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.settings import WorkflowSettings

PAT = "pat@fabrikam.com"
ACTORS = {
    DANA: Actor(id="U-DANA", email=DANA, name="Dana"),
    LEE: Actor(id="U-LEE", email=LEE, name="Lee"),
    PAT: Actor(id="U-PAT", email=PAT, name="Pat"),
}
PEOPLE = ("bob@outlook.com", "cy@gmail.com", "ann@fabrikam.com", "new@fabrikam.com", LEE)
world_changes = st.tuples(
    st.sampled_from(
        ("joins-directory", "second-account", "disabled", "joins-organization", "policy", "portal", "time")
    ),
    st.sampled_from(PEOPLE),
    st.sampled_from(("Member", "Guest")),
    st.sampled_from(("none", "adminsAndGuestInviters", "everyone")),
    st.sampled_from((TENANT_ID, OTHER_TENANT_ID)),
    st.sampled_from((1, 12, 25)),
)
CONNECTED = frozenset(
    {"connected", "inviting_after_connecting", "users_notified", "billing_checked", "completed"}
)
AFTER_APPROVAL = frozenset({"connecting", *CONNECTED})


@dataclass(frozen=True)
class Requested:
    approval_id: int
    fingerprint: str
    requester: str
    expires_at: datetime
    anyway: bool


class ApprovalRules(RuleBasedStateMachine):
    approvals = Bundle("approvals")

    def __init__(self, template: Path, process_sqlite: Database) -> None:
        super().__init__()
        self.template = template
        self.process_sqlite = process_sqlite
        self.database: Database | None = None
        self.microsoft = FakeMicrosoft()
        self.microsoft.org = replace(self.microsoft.org, administrators=(DANA, LEE, PAT))
        self.microsoft.directory.append(DirectoryUser(id="g-pat", user_principal_name=PAT, mail=PAT))
        self.clock = FakeClock()
        self.validly_approved = False
        self.found_connected = False
        self.was_connected = False
        self.accounts = itertools.count()

    @initialize(approvers=st.sampled_from((1, 1, 2)), starter=st.sampled_from((DANA, LEE)))
    def start(self, approvers: int, starter: str) -> None:
        # A fresh copy of the template under the test process's engine, whose compiled statements every
        # example reuses: a new engine per example compiled them all again. Nothing closes the engine after
        # an example: its connections close once the next copy is in place, so SQLite does not first copy
        # the example's log into the file thrown away.
        replace_sqlite_file(self.process_sqlite, self.template)
        self.database = self.process_sqlite
        self.service = MigrationService(
            self.database,
            self.microsoft,
            clock=self.clock,
            settings=WorkflowSettings(approvers_required=approvers),
        )
        self.starter = starter
        self.service.start("fabrikam", "fabrikam.com", ACTORS[starter])

    # ---------------------------------------------------------------- what admins type
    @rule(who=st.sampled_from(sorted(ACTORS)))
    def invite(self, who: str) -> None:
        _refusal_allowed(lambda: self.service.invite("fabrikam", ACTORS[who]))

    @rule(who=st.sampled_from(sorted(ACTORS)))
    def recheck(self, who: str) -> None:
        _refusal_allowed(lambda: self.service.recheck("fabrikam", ACTORS[who]))

    @rule(target=approvals, who=st.sampled_from(sorted(ACTORS)), anyway=st.booleans())
    def request_approval(self, who: str, anyway: bool) -> object:
        try:
            request = self.service.request_approval("fabrikam", ACTORS[who], anyway=anyway)
        except WorkflowError:
            return multiple()
        assert request.status.state == "awaiting_approval"
        failing = {check.code for check in request.status.checks if check.status == "fail"}
        assert failing <= ({"invite-permission"} if anyway else set()), failing
        return Requested(request.approval_id, request.plan_fingerprint, who, request.expires_at, anyway)

    @rule(who=st.sampled_from(sorted(ACTORS)), person=st.sampled_from(PEOPLE), pick=st.integers(-1, 2))
    def decide_account(self, who: str, person: str, pick: int) -> None:
        """An admin decides for someone the plan cannot place: one of their accounts, or no access (-1)."""
        try:
            planned = next(
                user for user in self.service.plan("fabrikam").users if user.principal_name == person
            )
        except (WorkflowError, StopIteration):
            return
        accounts = [*planned.candidate_names, person]  # the last one is never theirs: refused
        choice = NO_ACCESS if pick < 0 else accounts[min(pick, len(accounts) - 1)]
        _refusal_allowed(lambda: self.service.decide_account("fabrikam", person, choice, ACTORS[who]))

    def live_plan(self) -> Plan:
        """What approving compares with: the directory read now, with the admins' decisions so far."""
        snapshot = self.microsoft.snapshot("fabrikam", TENANT_ID, self.starter)
        return decisions.apply(build_plan(snapshot, self.starter), self.service.plan("fabrikam").decisions)

    @rule(requested=approvals, who=st.sampled_from(sorted(ACTORS)), approve=st.booleans())
    def decide(self, requested: Requested, who: str, approve: bool) -> None:
        before = self.service.status("fabrikam").state
        live = self.live_plan()
        try:
            result = self.service.decide(requested.approval_id, ACTORS[who], approve=approve)
        except WorkflowError:
            assert self.service.status("fabrikam").state == before
            return
        if result.outcome == "approved":
            assert approve
            assert who.casefold() != requested.requester.casefold(), "four eyes"
            assert self.clock.now < requested.expires_at, "approved after it expired"
            assert requested.fingerprint == live.fingerprint, "approved a plan that changed"
            assert not (blocking(live) if requested.anyway else live.failed_checks), (
                "approved while a check fails"
            )
            assert result.status.state == "connecting"
            self.validly_approved = True
        else:
            assert (
                result.status.state not in AFTER_APPROVAL
                or before in AFTER_APPROVAL
                or (result.outcome == "void" and self.connected_in_the_portal())
            )

    @rule(
        target=approvals,
        requester=st.sampled_from(sorted(ACTORS)),
        deciders=st.lists(st.sampled_from(sorted(ACTORS)), min_size=1, max_size=2),
        approve=st.booleans(),
        between=st.none() | world_changes,
        anyway=st.booleans(),
    )
    def request_then_decide(
        self,
        requester: str,
        deciders: list[str],
        approve: bool,
        between: tuple[str, str, str, str, str, int] | None,
        anyway: bool,
    ) -> object:
        """Requests usually get an answer soon (sometimes after a change): without this, random steps
        seldom reach a decision."""
        requested = self.request_approval(requester, anyway)
        if isinstance(requested, Requested):
            if between is not None:
                self.the_world_changes(between)
            for decider in deciders:
                self.decide(requested, decider, approve)
        return requested

    @rule(who=st.sampled_from(sorted(ACTORS)), now=st.integers(0, 9))
    def cancel(self, who: str, now: int) -> None:
        """Rarely: a cancelled migration ends the run's interest."""
        if now == 0:
            _refusal_allowed(lambda: self.service.cancel("fabrikam", ACTORS[who]))

    @rule(who=st.sampled_from(sorted(ACTORS)))
    def notify(self, who: str) -> None:
        _refusal_allowed(lambda: self.service.notify("fabrikam", ACTORS[who]))

    @rule()
    def check_connection(self) -> None:
        """The watch's look (or an admin's `check-connection`), at the portal step or short of it: a click in
        the portal before any approval is recorded as its own event, which names no approver."""
        before = self.service.status("fabrikam").state
        _refusal_allowed(lambda: self.service.check_connection("fabrikam"))
        after = self.service.status("fabrikam").state
        if before in CONNECTED or after == before:
            return
        assert after == "connected" and self.connected_in_the_portal(), (before, after)
        (entry,) = [e for e in self.service.audit_trail("fabrikam") if e.state_after == "connected"][-1:]
        action = "connection_confirmed" if before == "connecting" else "connected_outside_approval"
        assert (entry.action, entry.actor_id, entry.state_before) == (action, "aadbot", before)
        if action == "connected_outside_approval":
            assert entry.details["approved_by"] is None
            self.found_connected = True  # Microsoft reported it, at this very step

    # ---------------------------------------------------------------- the world changes under it
    @rule(change=world_changes)
    def the_world_changes(self, change: tuple[str, str, str, str, str, int]) -> None:
        """One rule for every outside change, so that admins' commands get most of the steps."""
        kind, email, user_type, policy, tenant, hours = change
        microsoft = self.microsoft
        if kind == "joins-directory":
            if not any(user.user_principal_name == email for user in microsoft.directory):
                microsoft.add_directory_user(email, user_type=user_type)
        elif kind == "second-account":  # another account carrying the address: two make them ambiguous
            number = next(self.accounts)
            microsoft.directory.append(
                DirectoryUser(id=f"g-{number}", user_principal_name=f"{number}.{email}", other_mails=(email,))
            )
        elif kind == "disabled":
            microsoft.directory = [
                replace(user, account_enabled=False) if user.user_principal_name == email else user
                for user in microsoft.directory
            ]
        elif kind == "joins-organization":
            if not any(user.principal_name == email for user in microsoft.users):
                microsoft.users.append(OrgUser(id=f"e-{email}", principal_name=email, mail_address=email))
        elif kind == "policy":
            microsoft.allow_invites = policy
        elif kind == "portal":
            microsoft.connect(tenant)
        else:
            self.clock.advance(hours=hours)

    def connected_in_the_portal(self) -> bool:
        return self.microsoft.org.connected_tenant_id == TENANT_ID

    # ---------------------------------------------------------------- after every step
    @invariant()
    def the_approval_rules_hold(self) -> None:
        """Both rules after every step, from one look at the status (a look costs a third of a step)."""
        assert self.database is not None
        with self.database.session() as session:
            pending = session.exec(select(Approval).where(Approval.status == "pending")).all()
        status = self.service.status("fabrikam")
        # Nothing after the approval without a valid one, unless Microsoft said the portal step was done
        # at the step that got there (a later disconnect does not undo what was found).
        if status.state in AFTER_APPROVAL and not (self.validly_approved or self.found_connected):
            assert status.state == "connected" and self.connected_in_the_portal(), status.state
            self.found_connected = True
        # Once connected, always connected (or completed).
        assert status.state in CONNECTED or not self.was_connected, status.state
        self.was_connected |= status.state in CONNECTED
        # A pending approval is for the stored plan, and only while the migration awaits it.
        if status.state != "awaiting_approval":
            assert pending == [] or all(p.expires_at <= self.clock.now for p in pending), status.state
        else:
            assert len(pending) <= 1
            assert all(p.plan_fingerprint == status.plan_fingerprint for p in pending)
        # `planned` offers a plain request and `invite`: both refused while a stored check fails.
        failing = [check.code for check in status.checks if check.status == "fail"]
        assert status.state != "planned" or not failing, failing


def blocking(plan: Plan) -> tuple[str, ...]:
    """The failing checks a request `anyway` does not get past: all but the one about inviting."""
    return tuple(check.code for check in plan.failed_checks if check.code != "invite-permission")


def _refusal_allowed(command: object) -> None:
    """A refusal is a fine answer to any command; any other exception is a bug."""
    with contextlib.suppress(WorkflowError):
        command()  # type: ignore[operator]


def test_no_sequence_of_commands_connects_without_a_valid_approval(
    sqlite_template: Path, process_sqlite: Database
) -> None:
    run_state_machine_as_test(
        lambda: ApprovalRules(sqlite_template, process_sqlite),
        settings=settings(settings.default, max_examples=settings.default.max_examples * 3 // 8),
    )


@pytest.mark.parametrize("approvers", [1, 2])
def test_the_machine_can_reach_connecting(
    sqlite_template: Path, process_sqlite: Database, approvers: int
) -> None:
    """The properties above would hold trivially if approving never worked: one valid path, checked."""
    machine = ApprovalRules(sqlite_template, process_sqlite)
    machine.start(approvers=approvers, starter=DANA)
    machine.invite(DANA)
    requested = machine.request_approval(DANA, anyway=False)
    assert isinstance(requested, Requested)
    machine.decide(requested, LEE, approve=True)
    if approvers == 2:
        assert machine.service.status().state == "awaiting_approval"
        machine.decide(requested, PAT, approve=True)
    assert machine.service.status().state == "connecting"
    assert machine.validly_approved
    machine.the_approval_rules_hold()


def test_an_approval_never_survives_a_change_to_the_plan_or_its_checks(
    sqlite_template: Path, process_sqlite: Database
) -> None:
    """Request, change one thing outside, approve: it connects exactly when the live plan is unchanged."""

    @settings(settings.default, max_examples=settings.default.max_examples * 5 // 8)
    @given(change=world_changes, invited_first=st.booleans(), decided=st.booleans())
    def approve_after(
        change: tuple[str, str, str, str, str, int], invited_first: bool, decided: bool
    ) -> None:
        machine = ApprovalRules(sqlite_template, process_sqlite)
        machine.start(approvers=1, starter=DANA)
        if decided:  # Cy's address on two accounts: the plan waits for an admin's decision on her
            for _ in range(2):
                machine.the_world_changes(("second-account", "cy@gmail.com", "Member", "", TENANT_ID, 1))
            machine.recheck(DANA)
        if invited_first:
            machine.invite(DANA)
        requested = machine.request_approval(DANA, anyway=True)
        assert isinstance(requested, Requested)
        machine.the_world_changes(change)
        if decided:
            machine.decide_account(LEE, "cy@gmail.com", 0)
        live = machine.live_plan()
        unchanged = live.fingerprint == requested.fingerprint and not blocking(live)
        in_time = machine.clock.now < requested.expires_at

        try:
            result = machine.service.decide(requested.approval_id, ACTORS[LEE], approve=True)
        except WorkflowError as refused:  # the decision changed the plan and voided it at once
            assert decided and not unchanged and "already void" in str(refused)
            assert machine.service.status().state in ("planned", "blocked")
            machine.the_approval_rules_hold()
            return

        assert result.outcome == ("approved" if unchanged and in_time else "void" if in_time else "expired")
        assert (result.status.state == "connecting") == (unchanged and in_time)

    approve_after()


def test_microsoft_reporting_the_portal_step_done_is_the_one_way_around_the_approval(
    sqlite_template: Path, process_sqlite: Database
) -> None:
    """The exception the properties allow, taken on purpose; inviting afterwards stays connected."""
    machine = ApprovalRules(sqlite_template, process_sqlite)
    machine.start(approvers=1, starter=DANA)
    machine.the_world_changes(("portal", DANA, "Member", "none", OTHER_TENANT_ID, 1))
    machine.recheck(DANA)
    machine.the_approval_rules_hold()
    assert machine.service.status().state == "blocked"  # connected elsewhere is no shortcut
    machine.the_world_changes(("portal", DANA, "Member", "none", TENANT_ID, 1))
    machine.recheck(DANA)
    machine.the_approval_rules_hold()
    assert machine.service.status().state == "connected" and not machine.validly_approved
    for step in (machine.invite, machine.notify, machine.invite):
        step(LEE)
        machine.the_approval_rules_hold()
    machine.cancel(DANA, 0)
    machine.the_approval_rules_hold()
    assert machine.service.status().state == "users_notified"


@pytest.mark.parametrize("anyway", [False, True])
def test_only_a_request_anyway_gets_past_invite_permission_and_its_end_leaves_the_migration_blocked(
    sqlite_template: Path, process_sqlite: Database, anyway: bool
) -> None:
    """The path random runs seldom take (blocked by the invite policy, a request, a rejection), with the
    invariants after each step."""
    machine = ApprovalRules(sqlite_template, process_sqlite)
    machine.start(approvers=1, starter=DANA)
    machine.the_world_changes(("policy", DANA, "Member", "none", TENANT_ID, 1))
    machine.recheck(DANA)
    machine.the_approval_rules_hold()
    requested = machine.request_approval(DANA, anyway)
    assert isinstance(requested, Requested) == anyway
    if isinstance(requested, Requested):
        machine.decide(requested, LEE, approve=False)
    machine.the_approval_rules_hold()
    assert machine.service.status().state == "blocked"


def test_the_watch_finding_a_click_in_the_portal_while_the_approval_waits_records_it_outside_the_approval(
    sqlite_template: Path, process_sqlite: Database
) -> None:
    """The watch's side of the exception, taken on purpose: the pending request is void, nothing is left
    to approve, and the audit names no approver."""
    machine = ApprovalRules(sqlite_template, process_sqlite)
    machine.start(approvers=1, starter=DANA)
    requested = machine.request_approval(DANA, anyway=True)
    assert isinstance(requested, Requested)
    machine.check_connection()  # nothing clicked yet: it stays where it was
    assert machine.service.status().state == "awaiting_approval"
    machine.the_world_changes(("portal", DANA, "Member", "none", TENANT_ID, 1))
    machine.check_connection()
    machine.the_approval_rules_hold()
    assert machine.service.status().state == "connected" and not machine.validly_approved
    machine.decide(requested, LEE, approve=True)
    machine.the_approval_rules_hold()
    assert machine.service.status().state == "connected"
