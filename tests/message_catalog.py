"""Every message the bot can send, by name, for 10 people and for 20,000 with names as long as real ones get.

The organizations come from `sandbox.generate`, the plan from the real planner, to-do items from the real
templates and answers from the real FAQ: what each surface's size checks render (tests/slack's against
slack_sdk's models and Slack's limits, tests/teams' against the sandbox's Teams).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.conversation import (
    announcement_views,
    approval_views,
    closing_views,
    decision_views,
    faq_views,
    help_views,
    invitation_views,
    item_help_views,
    progress_views,
    reminder_views,
    removal_views,
    sign_in_views,
    starting_views,
    status_views,
    todo_views,
)
from bot.conversation.commands import USAGES
from bot.conversation.faq_review import REVIEW_PAGE
from bot.conversation.messages import Message, Outgoing, say
from bot.conversation.understanding import Suggestion
from bot.delivery.notices import CHAT_MESSAGE, ChatNotice
from bot.delivery.render import envelope_of
from faq import AskerContext, default_answerer
from faq.feedback import FeedbackItem, Paging
from sandbox.generate import generate
from storage import OutboundMessage
from workflows import invitation_wait, notices
from workflows._codec import encode
from workflows._views import item_payload
from workflows.directory import DirectorySnapshot, DirectoryUser, Organization, OrgUser, Tenant
from workflows.errors import NotInvitedYet
from workflows.help_requests import CHOICE_SETTLED, HELP_MESSAGE
from workflows.informing import advance_notice
from workflows.machine import STATES, next_commands
from workflows.plan import Check, Plan
from workflows.plan_matching import build_plan
from workflows.progress import ItemProgress, Progress, UserProgress
from workflows.reminders import BILLING_MESSAGE, BILLING_MOVED_MESSAGE, DIGEST_MESSAGE
from workflows.results import Actor, InvitationOutcome, InviteResult, MigrationStatus
from workflows.results_approving import (
    AdminUnreached,
    Affected,
    ApprovalRequest,
    ConnectionResult,
    DecisionResult,
)
from workflows.results_closing import BillingResult, CalledOff, CalledOffDelivery, Completion, LeftBehind
from workflows.results_preparing import AccountDecision, AnnounceResult, RemovalResult
from workflows.results_todo_lists import MarkDoneResult, NotifiedUser, NotifyResult, TodoEntry
from workflows.snoozing import Snoozed
from workflows.stages.left_behind_notes import LEFT_BEHIND_MESSAGE
from workflows.stages.list_messages import (
    ACCESS_KEPT_MESSAGE,
    DECIDED_MESSAGE,
    INVITED_MESSAGE,
    LOST_ACCESS_MESSAGE,
    REMINDER_MESSAGE,
)
from workflows.stages.told_early import ACCESS_BACK_MESSAGE
from workflows.stages.verification import SignInCheck
from workflows.todo import CHOOSING_ITEM, ENABLE_ACCOUNT, INVITATION_IN_DOUBT, todo_items

SIZES = (10, 20_000)
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
LONG_ORGANIZATION = "contoso-platform-engineering-emea-subsidiary-2026"  # 49: Azure DevOps allows 50
LONG_DOMAIN = "engineering.emea.subsidiary-holdings.contoso-enterprise.com"
LONG_ACCOUNT = f"maximiliana.alexandrina.wiesenthal-kolmogorova@{LONG_DOMAIN}"
LONG_TENANT = "Contoso Enterprise Holdings (EMEA Subsidiaries, Platform Engineering and Operations Division)"
MISSING_PERMISSION = Check(
    "graph-invite",
    "fail",
    "The app registration lacks User.Invite.All.",
    "Grant User.Invite.All, then consent.",
)
DELIVERIES = ("sent", "queued", "failed", "not-in-chat", "sending", "sent", "sent")
WAITING_LISTS = (
    "sent",
    "queued",
    "waiting",
    "sending",
    "failed",
    "maybe-sent",
    "not-in-chat",
    "left-chat",
    "in-chat",
)
"""Every way the list of someone who waits for the admins may stand, in a digest."""
WAITS = (CHOOSING_ITEM, ENABLE_ACCOUNT, INVITATION_IN_DOUBT)


@dataclass(frozen=True)
class World:
    snapshot: DirectorySnapshot
    plan: Plan
    admin: Actor
    fingerprint: str
    """The plan's, computed once: it hashes every user (a tenth of a second at 20,000 users)."""


@functools.cache
def world(size: int) -> World:
    scenario = generate(size, size * 19 // 20, seed=2026)
    if size > 100:  # names as long as real directories have them
        text = json.dumps(scenario)
        # a prefix put before the number, which is left where it is: no template to fill per name
        text = re.sub(r"\buser(?=\d)", "maximiliana.alexandrina.wiesenthal-kolmogorova.user", text)
        text = re.sub(
            r'"User (?=\d+")',
            '"Maximiliana Alexandrina von Wiesenthal-Kolmogorova (Platform Reliability, EMEA) ',
            text,
        )
        text = text.replace("contoso.com", LONG_DOMAIN).replace(
            '"contoso-synthetic"', f'"{LONG_ORGANIZATION}"'
        )
        text = text.replace('"Contoso (synthetic)"', f'"{LONG_TENANT}"')
        scenario = json.loads(text)
    snapshot = _snapshot(scenario)
    connector = snapshot.organization.administrators[0]
    admin = Actor("U1", connector, "Maximiliana Alexandrina von Wiesenthal-Kolmogorova")
    plan = build_plan(snapshot, connector)
    return World(snapshot, plan, admin, plan.fingerprint)


def _snapshot(scenario: dict[str, Any]) -> DirectorySnapshot:
    organization, tenant = scenario["organization"], scenario["tenant"]
    return DirectorySnapshot(
        organization=Organization(
            name=organization["name"],
            owner=organization["owner"],
            administrators=tuple(organization["project_collection_administrators"]),
        ),
        users=tuple(
            OrgUser(
                id=entry["id"],
                principal_name=entry["user"]["principalName"],
                mail_address=entry["user"]["mailAddress"],
                display_name=entry["user"]["displayName"],
                last_accessed=datetime.fromisoformat(entry["lastAccessedDate"]),
            )
            for entry in scenario["user_entitlements"]
        ),
        tenant=Tenant(
            id=tenant["id"],
            display_name=tenant["displayName"],
            verified_domains=tuple(domain["name"] for domain in tenant["verifiedDomains"]),
        ),
        directory_users=tuple(
            DirectoryUser(
                id=user["id"],
                user_principal_name=user["userPrincipalName"],
                display_name=user["displayName"],
                mail=user["mail"],
                other_mails=tuple(user["otherMails"]),
                proxy_addresses=tuple(user["proxyAddresses"]),
                user_type=user["userType"],
                account_enabled=user["accountEnabled"],
            )
            for user in tenant["users"]
        ),
        allow_invites_from=tenant["authorizationPolicy"]["allowInvitesFrom"],
    )


def status(world: World, state: str) -> MigrationStatus:
    plan, tenant = world.plan, world.snapshot.tenant
    return MigrationStatus(
        id=1,
        organization=plan.organization,
        tenant_id=tenant.id,
        tenant_name=tenant.display_name,
        state=state,
        active=state not in ("completed", "cancelled"),
        blocked_reason="The directory refused: " + "x" * 500 if state in ("blocked", "failed") else None,
        blocked_fix="Fix it in the Microsoft Entra admin center, then `recheck`.",
        plan_fingerprint=world.fingerprint,
        counts=plan.counts,
        checks=plan.checks,
        started_by=world.admin,
        channel_id="CMIGRATE",
        created_at=NOW,
        updated_at=NOW,
        invite_recheck_at=NOW,
        pending_approval_id=7 if state == "awaiting_approval" else None,
        next_commands=tuple(next_commands(state)),
        version=3,
    )


def entries(world: World) -> list[TodoEntry]:
    user = (
        next(user for user in world.plan.users if user.outcome == "map")
        if any(user.outcome == "map" for user in world.plan.users)
        else world.plan.users[0]
    )
    templates = todo_items(
        user, False, organization=world.plan.organization, tenant=world.snapshot.tenant, invited_as=None
    )
    return [
        TodoEntry(
            id=1_000_000 + index,
            affected_user_id=5,
            migration_id=1,
            organization=world.plan.organization,
            key=template.key,
            title=template.title,
            body=template.body,
            link=template.link,
            done_at=NOW if index == 0 else None,
            done_by=None,
        )
        for index, template in enumerate(templates)
    ]


def progress(world: World, items: list[TodoEntry]) -> Progress:
    users = tuple(
        UserProgress(
            affected_user_id=index,
            email=user.principal_name,
            display_name=user.principal_name.split("@")[0],
            outcome=user.outcome,
            done=index % (len(items) + 1),
            total=len(items),
            delivery=(delivery := DELIVERIES[index % len(DELIVERIES)]),
            delivery_error="channel_not_found: " + "y" * 200 if delivery == "failed" else None,
        )
        for index, user in enumerate(world.plan.users)
    )
    item_rows = tuple(ItemProgress(item.key, item.title, len(users) // 2, len(users)) for item in items)
    return Progress(1, world.plan.organization, "CMIGRATE", item_rows, users)


@functools.cache
def catalog(size: int) -> dict[str, Message]:
    """Every message the conversation and the outbox send, by name, for an organization of `size`."""
    return catalog_of(world(size))


def catalog_of(world: World) -> dict[str, Message]:
    plan, admin = world.plan, world.admin
    organization, tenant = plan.organization, world.snapshot.tenant
    items = entries(world)
    report = progress(world, items)
    answerer = default_answerer()
    context = AskerContext(outcome="map", stage="connecting", organization=organization, is_admin=True)
    invitees = plan.users_with("invite") or plan.users
    outcomes = tuple(
        InvitationOutcome(
            user.principal_name,
            user.principal_name.split("@")[0],
            ("sent", "failed", "already-invited")[index % 3],
            "Graph answered 400 Bad Request: " + "z" * 300 if index % 3 == 1 else "",
        )
        for index, user in enumerate(invitees)
    )
    stale = list(world.snapshot.users)
    addresses = tuple(user.principal_name for user in plan.users)
    everyone_left = LeftBehind(len(addresses), addresses, addresses, addresses, addresses)
    called_off = tuple(
        CalledOff(address, "x" * 200, organization, tenant.display_name, "r" * 500, "Friday 14:00", True)
        for address in addresses
    )
    found: dict[str, Message | Outgoing | list[Outgoing]] = {
        f"status {state}": status_views.status(status(world, state), report) for state in STATES
    }
    planned = status(world, "planned")
    found |= {
        "started": notice(notices.STARTED, status=planned, actor=admin),
        "checked": starting_views.checked(planned),
        "plan": starting_views.plan(plan, planned),
        "invited": invitation_views.invited(
            InviteResult(planned, outcomes, denied=True, message="Invited some.")
        ),
        # the workflow's notices, rendered from their stored form as the outbox worker renders them
        "approval prompt": notice(notices.APPROVAL_PROMPT, request=approval_request(world)),
        "approval people": notice(notices.APPROVAL_PEOPLE, request=approval_request(world)),
        "portal steps": notice(notices.PORTAL_STEPS, status=planned, connector=admin),
        "connection": notice(
            notices.CONNECTION, result=ConnectionResult("connected", tenant.id, planned, "Connected.")
        ),
        "other directory": notice(
            notices.CONNECTION, result=ConnectionResult("other-tenant", "x" * 36, planned, "Another one.")
        ),
        "completed": notice(notices.COMPLETED, status=planned, actor=admin, left=everyone_left),
        "confirm complete": closing_views.confirm_complete(Completion(planned, everyone_left, False)),
        "confirm cancel": closing_views.confirm_cancel(planned),
        "not invited yet": approval_views.not_invited_yet(NotInvitedYet("n" * 2000, organization, addresses)),
        "cancelled": notice(notices.CANCELLED, status=planned, actor=admin, told=called_off),
        "cancelled, by name": closing_views.cancelled(planned, admin, called_off),
        "cancelled, by name apart": closing_views.cancelled_named(planned, called_off),
        "not told it is off, by name": closing_views.called_off_named(
            organization, CalledOffDelivery((), addresses, tuple((a, "z" * 300) for a in addresses))
        ),
        "called off": notice(notices.CALLED_OFF, person=called_off[0]),
        "portal withdrawn": notice(notices.PORTAL_WITHDRAWN, status=planned),
        "admin unreached": notice(
            notices.ADMIN_UNREACHED,
            unreached=AdminUnreached(
                "approval_prompt", "e" * 200 + "@x", "w" * 1000, organization, 4, tenant.display_name
            ),
        ),
        "queued": progress_views.queued(
            NotifyResult(
                planned,
                tuple(
                    NotifiedUser(i, u.principal_name, u.principal_name, u.outcome, (), i)
                    for i, u in enumerate(plan.users)
                ),
                addresses,
            )
        ),
        "announced": announcement_views.announced(
            AnnounceResult(planned, len(plan.users), len(plan.users), "Friday 14:00", planned.created_at)
        )[0],
        "progress": progress_views.progress(report),
        "live report": progress_views.delivery_update(report),
        "retried": progress_views.retried(organization, len(plan.users), len(plan.users)),
        "snoozed": reminder_views.snoozed(Snoozed(NOW + timedelta(days=1), "Europe/Berlin")),
        "to-do list": todo_views.todo_list(items, admin),
        "marked done": todo_views.marked_done(MarkDoneResult(items[1], False, 3), items, admin),
        "help for item": item_help_views.help_for_item(
            items[1], answerer.explain("git-credential-cache", context).answer, [admin.email], True
        ),
        "billing": closing_views.billing(
            BillingResult(False, "sub", "tenant", ("Step one.", "Step two."), planned, "No.")
        ),
        "stale users": removal_views.stale_users(planned, stale, 90, "0123456789abcdef"),
        "removed": removal_views.removed(
            RemovalResult(
                tuple(u.principal_name for u in stale),
                tuple((u.principal_name, "403") for u in stale[:500]),
                planned,
            )
        ),
        "answer": faq_views.answer(answerer.answer("I get a 403 when inviting a guest", context)),
        "declined": faq_views.answer(answerer.answer("what's the best pizza topping?", context)),
        "help now": help_views.help_now([status(world, state) for state in STATES], items),
        "help all": help_views.help_all(),
        "did you mean": help_views.did_you_mean("progres", [Suggestion("progress", organization)]),
        "not understood": help_views.not_understood("frobnicate"),
        "doctor": say(starting_views.doctor([*plan.checks, MISSING_PERMISSION])),
        **{f"help {usage.word}": help_views.help_word(usage) for usage in USAGES},
    }
    for outcome in ("approved", "recorded", "rejected", "expired", "void"):
        result = DecisionResult(7, outcome, 1, 2, planned, "Because.", admin)  # type: ignore[arg-type]
        found[f"decision {outcome}"] = approval_views.decision(result, admin)
        found[f"decided {outcome}"] = notice(notices.APPROVAL_DECISION, result=result, decider=admin)
        found[f"people settled {outcome}"] = notice(
            notices.PEOPLE_SETTLED, result=result, decider=admin, at=NOW
        )
    found["approved"] = notice(notices.APPROVED, result=result, decider=admin)
    found |= {name: envelope_of(row).message for name, row in outbox_rows(world).items()}
    found |= replies(world)
    messages: dict[str, Message] = {}
    for name, value in found.items():
        for index, outgoing in enumerate(value if isinstance(value, list) else [value]):
            messages[f"{name} {index}" if index else name] = (
                outgoing.message if isinstance(outgoing, Outgoing) else outgoing
            )
    return messages


def approval_request(world: World) -> ApprovalRequest:
    plan, tenant = world.plan, world.snapshot.tenant
    return ApprovalRequest(
        7,
        plan.organization,
        tenant.id,
        tenant.display_name,
        plan.fingerprint,
        plan.counts,
        plan.checks,
        world.admin,
        1,
        NOW,
        status(world, "planned"),
        Affected.of(plan),
    )


def outbox_rows(world: World) -> dict[str, OutboundMessage]:
    """A message of every kind the outbox delivers to people and channels, as the workflows store it."""
    plan, admin = world.plan, world.admin
    organization, tenant = plan.organization, world.snapshot.tenant.display_name
    items = [item_payload(entry) for entry in entries(world)]
    person = {
        "organization": organization,
        "tenant": tenant,
        "display_name": admin.name,
        "email": admin.email,
    }
    users = plan.users
    waiting = [u for u in users if u.outcome in ("ambiguous", "disabled")] or users[:3]
    admins = [user.principal_name for user in users[:40]]  # an organization with many administrators
    rows: dict[str, tuple[str, dict[str, Any]]] = {
        "advance notice": (
            "advance_notice",
            {
                **person,
                "when": "Friday 14:00 UTC",
                "lines": advance_notice(users[0], organization=organization, tenant=tenant),
            },
        ),
        "to-do list dm": (
            "todo_list",
            {**person, "notes": ["Your identity is mapped by hand."], "items": items},
        ),
        "invited after connecting": (INVITED_MESSAGE, {**person, "items": items, "invited": True}),
        "found after connecting": (INVITED_MESSAGE, {**person, "items": items, "invited": False}),
        "account decided dm": (DECIDED_MESSAGE, {**person, "account": LONG_ACCOUNT, "items": items}),
        "access kept": (
            ACCESS_KEPT_MESSAGE,
            {**person, "account": LONG_ACCOUNT, "corrects": True, "items": items},
        ),
        "access kept, never told": (
            ACCESS_KEPT_MESSAGE,
            {**person, "account": LONG_ACCOUNT, "corrects": False, "items": items},
        ),
        "lost access": (
            LOST_ACCESS_MESSAGE,
            {**person, "decided_by": admin.name, "case": "ambiguous", "outcome": "no-access"},
        ),
        "lost access, told before the lists": (
            LOST_ACCESS_MESSAGE,
            {
                **person,
                "decided_by": admin.name,
                "case": "disabled",
                "outcome": "no-access",
                "told_early": True,
                "connected": False,
            },
        ),
        "lost access taken back before the lists": (
            ACCESS_BACK_MESSAGE,
            {**person, "account": LONG_ACCOUNT, "connected": False},
        ),
        "to-do reminder": (
            REMINDER_MESSAGE,
            {**person, "items": items, "total": len(items), "reminder_id": 99, "sender": admin.name},
        ),
        "waiting reminder": (
            REMINDER_MESSAGE,
            {
                **person,
                "items": [],
                "total": 3,
                "reminder_id": 99,
                "sender": admin.name,
                "waiting_on": "decide",
                "waiting_item": "choose-work-account",
                "admins": admins,
            },
        ),
        "digest": (
            DIGEST_MESSAGE,
            {
                "organization": organization,
                "users": len(users),
                "stragglers": [[u.principal_name, u.principal_name.split("@")[0], 2, 5] for u in users],
                "unreachable": len(users) // 7,
                "not_signed_in": [[u.principal_name, u.principal_name.split("@")[0]] for u in users],
                "grace_working_days": 3,
                "still_personal": [[u.principal_name, u.outcome, "map"] for u in users],
                "waiting": [
                    [
                        u.principal_name,
                        u.principal_name.split("@")[0],
                        "decide",
                        WAITS[n % len(WAITS)],  # both tables of who wait, the widest step among them
                        u.principal_name,
                        n % 2 == 0,
                        WAITING_LISTS[n % len(WAITING_LISTS)],
                    ]
                    for n, u in enumerate(waiting)
                ],
                "maybe_sent": [u.principal_name for u in users[::3]],
                "failed": [u.principal_name for u in users[1::3]],
                "lost_access": [[u.principal_name, admin.name] for u in users[::10]],
            },
        ),
        "left behind at completion": (
            LEFT_BEHIND_MESSAGE,
            {**person, "closed_by": f"{admin.name} ({admin.email})", "items": items},
        ),
        "left behind with no way in": (
            LEFT_BEHIND_MESSAGE,
            {
                **person,
                "closed_by": f"{admin.name} ({admin.email})",
                "items": items,
                "waiting_item": "choose-work-account",
            },
        ),
        "sign-in verified": (
            "sign_in_verified",
            {**person, "title": "Sign in with your work account", "account": LONG_ACCOUNT},
        ),
        "identity mapped": (
            "identity_mapped",
            {**person, "account": LONG_ACCOUNT, "planned": LONG_ACCOUNT, "items": items},
        ),
        "identity mapped to another account": (
            "identity_mapped",
            {**person, "account": LONG_ACCOUNT, "planned": admin.email, "items": items},
        ),
        "identity mapped to another account, to each admin": (
            "identity_mapped_elsewhere",
            {**person, "principal_name": LONG_ACCOUNT, "account": LONG_ACCOUNT, "planned": admin.email},
        ),
        "billing reminder": (
            BILLING_MESSAGE,
            {
                "organization": organization,
                "message": "Billing is still in the old directory.",
                "steps": ["Open the Azure portal.", "Change the directory."],
                "deadline": "2026-11-30",
            },
        ),
        "billing overdue": (
            BILLING_MESSAGE,
            {
                "organization": organization,
                "message": "Billing is still in the old directory.",
                "steps": ["Open the Azure portal."],
                "deadline": "2026-12-31",
                "missed": "2026-11-30",
            },
        ),
        "billing moved": (
            BILLING_MOVED_MESSAGE,
            {"organization": organization, "message": "Billing subscription 1234 is already in Fabrikam."},
        ),
        "invitations' wait over, to the admin": (
            invitation_wait.WAIT_OVER_MESSAGE,
            {
                "organization": organization,
                "count": len(users),
                "people": [u.principal_name for u in users],
                "command": "invite",
                "state": "planned",
            },
        ),
        "invitations' wait over, in a channel": (
            invitation_wait.WAIT_OVER_MESSAGE,
            {
                "organization": organization,
                "count": len(users),
                "people": [],
                "command": "",
                "state": "blocked",
            },
        ),
        "help request": (
            HELP_MESSAGE,
            {
                "name": admin.name,
                "email": admin.email,
                "title": items[1]["title"],
                "key": "accept-invitation",
            },
        ),
        "a decision for someone, on the admins' card": (
            CHOICE_SETTLED,
            {
                "name": admin.name,
                "email": admin.email,
                "organization": organization,
                "person_address": admin.email,
                "account": admin.email,
                "decided_by": admin.name,
                "chose": admin.email,
                "updates": "account-choice:1:e-1:k",
            },
        ),
        "question to the admins": (
            HELP_MESSAGE,
            {"name": admin.name, "email": admin.email, "question": "q" * 5000},
        ),
        "chat notice": (
            CHAT_MESSAGE,
            ChatNotice(starting_views.plan(plan, status(world, "planned")).message).to_payload(),
        ),
    }
    rows["digest in a channel"] = rows["digest"]  # counted: people's names are their addresses
    return {
        name: OutboundMessage(
            idempotency_key=name,
            # the digest named goes to who started the migration in a direct message
            recipient="channel:C1" if name == "digest in a channel" else admin.email,
            kind=kind,
            payload={"migration_id": 1, "affected_user_id": 5, **payload},
            not_before=NOW,
            created_at=NOW,
        )
        for name, (kind, payload) in rows.items()
    }


def replies(world: World) -> dict[str, Message | Outgoing]:
    """Replies the conversation gives that no other entry of the catalog makes."""
    plan, admin = world.plan, world.admin
    organization, planned = plan.organization, status(world, "planned")
    addresses = tuple(user.principal_name for user in plan.users)
    ambiguous = next((u for u in plan.users if u.outcome == "ambiguous"), plan.users[0])
    question = FeedbackItem(
        7, organization, "why " * 400, "declined", None, ("git-credential-cache", "ssh-keys"), "open", NOW
    )
    return {
        "account decided": decision_views.account_decided(AccountDecision(ambiguous, planned, 7, True)),
        "decided out": decision_views.account_decided(
            AccountDecision(replace(ambiguous, decided_by=admin.name), planned, None, True)
        ),
        "confirm removal": removal_views.confirm_removal(
            organization, [user.id for user in plan.users[:200]], {u.id: u.principal_name for u in plan.users}
        ),
        "rehearse": sign_in_views.rehearse(organization, LONG_DOMAIN, admin.email),
        "sign-ins checked": sign_in_views.sign_ins_checked(
            SignInCheck(organization, True, len(addresses), addresses)
        ),
        "passed on": faq_views.passed_on(organization, addresses[:40], again=False),
        "rated": faq_views.rated(question, helpful=False, admins=True),
        "review": faq_views.review(  # the first page of 200 waiting, with the button to the next
            [replace(question, id=i) for i in range(REVIEW_PAGE)],
            organization,
            total=200,
            later=190,
            last=Paging(10**12 - 1, 0, REVIEW_PAGE - 1),  # the longest words to the next page
        ),
        "resolved": faq_views.resolved(replace(question, status="attached", resolution_topic="ssh-keys")),
        "stale button": help_views.stale_button(),
        "requested": approval_views.requested(approval_request(world)),
    }


def notice(kind: str, **told: object) -> Message:
    """A notice as the workflow stores it (as JSON) and the outbox worker renders it."""
    stored = json.loads(json.dumps({name: encode(value) for name, value in told.items()}))
    row = OutboundMessage(
        idempotency_key=kind,
        recipient="channel:C1",
        kind=kind,
        payload=stored,
        not_before=NOW,
        created_at=NOW,
    )
    return envelope_of(row).message
