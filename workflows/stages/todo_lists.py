"""Each person's own to-do list: reading it and ticking items off."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from storage import WITHOUT_PLAN, ActiveMigration, AffectedUser, AuditEntry, Migration, SignInWatch, TodoItem
from storage.database import committed
from workflows import waiting
from workflows._views import todo_entry
from workflows.decisions import lost_access_by
from workflows.errors import ConflictError, WorkflowError
from workflows.identities import OwnerShape, owned_by, owner, recognises
from workflows.plan import NO_ACCESS
from workflows.results import Actor
from workflows.results_todo_lists import AccessLost, Closure, MarkDoneResult, TodoEntry
from workflows.stages import interrupted_invitations
from workflows.stages.left_behind_notes import closed_by
from workflows.stages.unit import Context, audit
from workflows.todo import required


def todo_list(ctx: Context, who: Actor | str | int, *, shown: bool = False) -> list[TodoEntry]:
    """A person's to-do items, newest migration first.

    `who` is a chat user (matched like `mark_done` matches the owner: chat id, directory id or any of
    their addresses), an email, or an affected-user id. `shown`: the list is to be shown to them, so the
    newest one, if it is a migration they completed themselves, names the organization's other admins, asked
    of Azure DevOps for it alone (no other reader of the list, `help` or an answer, waits on Azure DevOps).
    """
    with ctx.database.session() as session:
        if isinstance(who, int):
            users = session.exec(_USERS_BY_ID, params={"id": who}).all()
        else:
            shape, values = owner(who)
            users = session.exec(_users_owned(shape), params=values).all()
        if not users:
            return []
        # three statements however many migrations listed them (a fourth for who closed a completed one
        # nothing migrates again), and never the plans (megabytes each)
        listed_in = sorted({user.migration_id for user in users})
        migrations = session.exec(_MIGRATIONS_LISTED, params={"migrations": listed_in}).all()
        rows = {row.id: row for row, _ in migrations}
        items = session.exec(_ITEMS, params={"users": [user.id for user in users]}).all()
        theirs: dict[int | None, list[TodoItem]] = {user.id: [] for user in users}
        for item in items:
            theirs[item.affected_user_id].append(item)
        # a completed migration's list is someone's list once more while their organization migrates again
        closed = [row for row, again in migrations if row.state == "completed" and again is None]
        closers = _closers(session, closed)
        mailed = {row.id: interrupted_invitations.mailed_unlinked(session, row.id or 0) for row in closed}
    entries: list[TodoEntry] = []
    for (
        user
    ) in users:  # out of the session: the closure of the list shown may ask Azure DevOps for the admins
        row, closer = rows[user.migration_id], closers.get(user.migration_id)
        newest = shown and not entries  # the list shown: the first to have items
        closure = _closure(ctx, row, user, closer, shown=newest) if closer else None
        if closure is not None and user.entitlement_id in mailed.get(row.id, ()):
            closure = replace(closure, mailed=True)
        entries.extend(replace(todo_entry(item, row, user.email), closed=closure) for item in theirs[user.id])
    return entries


_USERS_BY_ID = (
    select(AffectedUser)
    .where(col(AffectedUser.id) == bindparam("id"))
    .order_by(col(AffectedUser.migration_id).desc())
)
_MIGRATIONS_LISTED = (
    select(Migration, ActiveMigration.migration_id)
    .outerjoin(ActiveMigration, col(ActiveMigration.organization_key) == func.lower(Migration.organization))
    .options(WITHOUT_PLAN)
    .where(col(Migration.id).in_(bindparam("migrations", expanding=True)))
)
_ITEMS = (
    select(TodoItem)
    .where(col(TodoItem.affected_user_id).in_(bindparam("users", expanding=True)))
    .order_by(col(TodoItem.position))
)
"""`todo_list`'s reads, built once: every list read, `help` and answer makes them, and building them and their
cache keys anew cost about as much as running them."""


@cache
def _users_owned(shape: OwnerShape) -> SelectOfScalar[AffectedUser]:
    """Built once for each way a person is known: every list read, `help` and answer reads it, and building
    it and its cache key anew cost more than running it."""
    return select(AffectedUser).where(owned_by(shape)).order_by(col(AffectedUser.migration_id).desc())


def _closers(session: Session, completed: Sequence[Migration]) -> dict[int, Actor]:
    """Who completed each of these migrations."""
    if not completed:
        return {}
    entries = session.exec(
        select(AuditEntry).where(
            col(AuditEntry.migration_id).in_([row.id for row in completed]), AuditEntry.action == "complete"
        )
    ).all()
    return {
        entry.migration_id: Actor(entry.actor_id, entry.actor_email, entry.actor_name) for entry in entries
    }


def _closure(ctx: Context, row: Migration, user: AffectedUser, closer: Actor, *, shown: bool) -> Closure:
    """Whom the person a completed migration listed asks now: who completed it, as their last word from it
    said; who completed it themselves, the organization's other admins (asked of Azure DevOps only for the
    list `shown`)."""
    by = closed_by(closer)
    if not recognises(closer, user):
        return Closure(by, by_them=False)
    if not shown:
        return Closure(by, by_them=True)
    own = {user.email, user.principal_name, user.directory_account or "", closer.email.strip()}
    mine = {address.casefold() for address in own}
    others = tuple(admin for admin in ctx.admins.who_can_act(row.organization) if admin not in mine)
    return Closure(by, by_them=True, other_admins=others)


def access_lost(ctx: Context, who: Actor) -> list[AccessLost]:
    """The migrations, newest first, in which an admin decided `who` loses access and they were told so
    (`notifying.tell_lost_access`): why they have no list. Each one's plan is read for who decided, as the
    notice named them: megabytes, paid only by someone who lost access asking for their list."""
    shape, values = owner(who)
    with ctx.database.session() as session:
        lost = session.exec(
            select(AffectedUser, Migration)
            .join(Migration, col(Migration.id) == AffectedUser.migration_id)
            .where(owned_by(shape), AffectedUser.outcome == NO_ACCESS)
            .order_by(col(AffectedUser.migration_id).desc()),
            params=values,
        ).all()
        return [
            AccessLost(row.organization, lost_access_by(row.plan).get(user.entitlement_id, ""))
            for user, row in lost
        ]


def mark_done(ctx: Context, item_id: int, actor: Actor) -> MarkDoneResult:
    with ctx.database.session() as session:
        item = session.get(TodoItem, item_id)
        user = session.get(AffectedUser, item.affected_user_id) if item is not None else None
        # Someone else's item reads like a missing one: whose list it is stays private.
        if item is None or user is None or not recognises(actor, user):
            raise WorkflowError(not_on_list("", todo_list(ctx, actor)))
        row = session.get(Migration, user.migration_id, options=[WITHOUT_PLAN])
        assert row is not None
        already = item.done_at is not None
        if not already:
            now = ctx.now()
            item.done_at, item.done_by = now, actor.id
            if user.chat_user_id is None:
                user.chat_user_id = actor.id
            details: dict[str, object] = {"item": item.key, "user": user.principal_name}
            session.add(audit(ctx.now(), row, actor, "todo_done", row.state, row.state, details))
            if not committed(session):
                raise ConflictError(
                    f"“{item.title}” changed at this very moment (marked done twice?); here is your"
                    " list as it is now."
                ) from None
        open_items = session.exec(
            select(TodoItem).where(TodoItem.affected_user_id == user.id, col(TodoItem.done_at).is_(None))
        ).all()
        # ticked before the admins mapped them: not done-and-fine, which their answer says
        unmapped = item.key == waiting.SIGN_IN_ITEM and waiting.awaits_mapping(
            user.outcome,
            [item],
            user.entitlement_id,
            waiting.still_personal_ids(session.get(SignInWatch, row.id)),
        )
        return MarkDoneResult(
            item=todo_entry(item, row, user.email),
            already_done=already,
            remaining=len(required(open_items)),
            awaits_mapping=unmapped,
        )


def newest_list(entries: Sequence[TodoEntry]) -> list[TodoEntry]:
    """The list of the person's newest migration (`todo_list` puts it first), which a typed number means."""
    return [entry for entry in entries if entry.migration_id == entries[0].migration_id] if entries else []


def not_on_list(typed: str, own: list[TodoEntry], word: str = "done") -> str:
    """Names the numbers that would work: the ones in front of the open items of the person's newest list."""
    numbers = [entry.number for entry in newest_list(own) if entry.done_at is None and entry.number]
    open_numbers = [f"`{word} {number}`" for number in numbers]
    missing = f"There is no item {typed} on your list" if typed.isdigit() else "That item is not on your list"
    if not own:
        return f"{missing}: you have no to-do items."
    if not open_numbers:
        return f"{missing}, and everything on it is done."
    choices = (
        open_numbers[0] if len(open_numbers) == 1 else f"{', '.join(open_numbers[:-1])} or {open_numbers[-1]}"
    )
    return f"{missing}. Say {choices}: the number in front of the item, or use its button."
