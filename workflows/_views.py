"""Rows turned into the service's result values."""

from __future__ import annotations

from typing import Any

from storage.models import Migration, TodoItem
from workflows import _plan_codec
from workflows.machine import FINAL_STATES, next_commands
from workflows.plan import GROUPS
from workflows.results import Actor, MigrationStatus
from workflows.results_todo_lists import TodoEntry


def migration_status(row: Migration, pending_approval_id: int | None) -> MigrationStatus:
    assert row.id is not None
    return MigrationStatus(
        id=row.id,
        organization=row.organization,
        tenant_id=row.tenant_id,
        tenant_name=row.tenant_name,
        state=row.state,
        active=row.state not in FINAL_STATES,
        blocked_reason=row.blocked_reason,
        blocked_fix=row.blocked_fix,
        plan_fingerprint=row.plan_fingerprint,
        counts=_plan_codec.groups(row.plan) if row.plan else dict.fromkeys(GROUPS, 0),
        checks=_plan_codec.checks(row.plan) if row.plan else (),
        started_by=Actor(row.started_by_id, row.started_by_email, row.started_by_name),
        channel_id=row.channel_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        invite_recheck_at=row.invite_recheck_at,
        pending_approval_id=pending_approval_id,
        next_commands=tuple(next_commands(row.state)),
        version=row.version,
        undecided=_plan_codec.undecided(row.plan) if row.plan else 0,
    )


def todo_entry(item: TodoItem, row: Migration, email: str) -> TodoEntry:
    """`email`: the Azure DevOps address of the person whose list it is."""
    assert item.id is not None and row.id is not None
    return TodoEntry(
        id=item.id,
        affected_user_id=item.affected_user_id,
        migration_id=row.id,
        organization=row.organization,
        key=item.key,
        title=item.title,
        body=item.body,
        link=item.link,
        done_at=item.done_at,
        done_by=item.done_by,
        number=item.position + 1,
        email=email,
        verified=item.verified_at is not None,
    )


def item_payload(item: TodoItem | TodoEntry) -> dict[str, Any]:
    """A to-do item as the direct messages that list it carry it."""
    number = item.position + 1 if isinstance(item, TodoItem) else item.number
    return {
        "id": item.id,
        "number": number,
        "key": item.key,
        "title": item.title,
        "body": item.body,
        "link": item.link,
    }


def item_as_it_stands(item: TodoItem) -> dict[str, Any]:
    """`item_payload`, with when it was done and by whom if it was: an item on a list that goes out after
    some were (an invitation's item reads as seen in a sign-in when the watch saw it)."""
    done = {"done_at": item.done_at.isoformat(), "done_by": item.done_by} if item.done_at else {}
    seen = {"verified": True} if item.verified_at else {}
    return item_payload(item) | done | seen
