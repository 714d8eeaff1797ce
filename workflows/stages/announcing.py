"""The advance notice (the procedure's first prerequisite): before connecting, every affected user hears
what will happen to them and when."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import AuditEntry, Migration, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from workflows import _plan_codec
from workflows.arguments import announcement_when, passed
from workflows.errors import WorkflowError
from workflows.identities import planned_reach
from workflows.informing import advance_notice
from workflows.machine import refusal
from workflows.plan import Plan, PlannedUser
from workflows.plan_invitations import invitation_bar
from workflows.plan_shared_account import shared_targets
from workflows.results import Actor
from workflows.results_preparing import AnnounceResult, Told, Unreached
from workflows.stages import ignored_invitations, interrupted_invitations
from workflows.stages.invited import as_invited, to_accept
from workflows.stages.unit import Context, Unit, audit, find, status
from workflows.tokens import case_of

ANNOUNCEMENT = "advance_notice"
"""The outbox kind of each person's advance notice: a cancel tells those it reached that it is off."""
_ANNOUNCE_STATES = frozenset({"planned", "blocked", "waiting_for_invite_settings", "awaiting_approval"})


def announce(ctx: Context, organization: str | None, actor: Actor, when: str = "") -> AnnounceResult:
    """Tell every affected user, before connecting, what will happen to them and when (`to_tell`).

    Announcing again the `when` the last announcement named sends nothing new (but to people the plan has
    gained since), and so does one without a `when` after a dated one: a notice without the date would read
    as if it were withdrawn. Any other `when`, an earlier one too, reaches everyone again: they hear the
    date that now stands, once.
    """
    when = " ".join(when.split())
    with ctx.database.session() as session:
        row = find(session, organization)
        if row.state not in _ANNOUNCE_STATES or row.plan is None:
            raise refusal(row.state, "announce")
        assert row.id is not None
        now = ctx.now()
        usage = f"announce {row.organization}"
        typed, when = when, announcement_when(when, now=now, usage=usage, zone=actor.zone)
        plan = _plan_codec.decode(row.plan)
        earlier = announcements(session, row.id)
        if not when and earlier and earlier[-1][0]:  # a bare `announce` (or its button) keeps the date
            when = rounds([when for when, _ in earlier])[-1][0]
            if passed(when, now=now):
                raise WorkflowError(
                    f"The day last announced, “{when}”, has passed, so I announced nothing: whoever joined"
                    f" the plan since would read “Coming {when}”. Give the new day, e.g. `{usage} Friday"
                    " 14:00 UTC`: everyone hears it."
                )
        this, occurrence = rounds([*(when for when, _ in earlier), when])[-1]
        keys = {user.id: notice_key(row.id, this, occurrence, user.id) for user in to_tell(plan.users)}
        sent_before = _queued(session, keys.values())
        notice = _Notice(session, row, plan, ctx.admins.who_can_act(row.organization), when)
        messages = [
            notice.to(user, keys[user.id]) for user in to_tell(plan.users) if keys[user.id] not in sent_before
        ]
        # Flushed only at commit: a concurrent identical announce then shows as one IntegrityError there.
        enqueue_all(session, messages, now=now)
        queued = len(keys) - len(sent_before)
        session.add(
            audit(ctx.now(), row, actor, "announce", row.state, row.state, {"when": when, "users": queued})
        )
        name = row.organization
        try:
            session.commit()
        except IntegrityError:  # another admin's identical announce committed first: theirs went out
            session.rollback()
            raise WorkflowError(
                f"{name} was just announced for {when or 'this date'} by someone else at the"
                " same moment; everyone gets that notice once. Nothing more was sent."
            ) from None
        return AnnounceResult(
            status(session, row),
            queued,
            len(keys),
            when,
            round_began(earlier, when) or now,
            left_out=tuple(user.address for user in plan.users if _left(user)),
            held_back=tuple(
                (account, tuple(user.address for user in people)) for account, people in held_back(plan.users)
            ),
            typed=typed,
            days_in=str(actor.zone),
        )


class _Notice:
    """The advance notice of one round (`when`), as each person of `plan` reads it."""

    def __init__(
        self, session: Session, row: Migration, plan: Plan, admins: Sequence[str], when: str
    ) -> None:
        assert row.id is not None
        self.row, self.admins, self.when = row, admins, when
        self.invited = to_accept(session, row.id, plan.users)
        self.taken_back = ignored_invitations.withdraw(session, row, plan.users, self.invited)
        self.unconfirmed = interrupted_invitations.in_doubt(session, row.id)
        self.case, self.barred = case_of(plan.checks), invitation_bar(plan.checks)

    def to(self, user: PlannedUser, key: str, tried: Collection[str] = ()) -> NewMessage:
        """`tried`: addresses (lower case) chat could not reach them at, left out."""
        row, reach = self.row, planned_reach(user, connected=False)
        untried = tuple(address for address in reach.addresses if address.casefold() not in tried)
        reach = replace(reach, addresses=untried or reach.addresses)
        taken_back = self.taken_back.get(user.id, ignored_invitations.TakenBack())
        lines = advance_notice(
            as_invited(user, self.invited),
            organization=row.organization,
            tenant=row.directory_name,
            invited_as=self.invited.get(user.id),
            unconfirmed=user.id in self.unconfirmed,
            case=self.case,
            barred=self.barred,
            admins=[admin for admin in self.admins if admin != user.address.lower()],
            taken_back=taken_back.words,
        )
        payload = {
            **reach.payload(),
            "migration_id": row.id,
            "organization": row.organization,
            "tenant": row.directory_name,
            "email": user.address,
            "display_name": user.display_name,
            "when": self.when,
            "lines": lines,
            **taken_back.follows,
        }
        return NewMessage(key, reach.recipient, ANNOUNCEMENT, payload, row.id)


def reach_again(unit: Unit, plan: Plan, person: PlannedUser) -> bool:
    """An admin's decision gave `person` an account: when the newest round's notice to them failed for good
    and the decision gives chat an address it did not try, that notice goes there, once per round
    (`caught_up_key`), as it reads now. Whether it was queued."""
    row, session = unit.row, unit.session
    assert row.id is not None
    whens = announced_whens(session, row.id)
    if not whens or person.loses_access:
        return False  # never announced, or told the decision instead (`told_early`)
    when, occurrence = rounds(whens)[-1]
    key = notice_key(row.id, when, occurrence, person.id)
    missed = session.exec(select(OutboundMessage).where(OutboundMessage.idempotency_key == key)).first()
    if missed is None or missed.status != "failed":
        return False
    tried = {address.casefold() for address in (missed.recipient, *(missed.payload.get("also") or ()))}
    if all(address.casefold() in tried for address in planned_reach(person, connected=False).addresses):
        return False  # nowhere new to reach them
    again = caught_up_key(key)
    if session.exec(select(OutboundMessage.id).where(OutboundMessage.idempotency_key == again)).first():
        return False
    notice = _Notice(session, row, plan, unit.ctx.admins.who_can_act(row.organization), when)
    enqueue_all(session, [notice.to(person, again, tried)], now=unit.flow.now)
    return True


def tell_held_back(unit: Unit, plan: Plan, sharing: Sequence[PlannedUser]) -> None:
    """An admin's decision settled which of `sharing` (people who would all get one directory account) keeps
    it: whoever the newest round's notice left out for that reason (`held_back`) and may now be told gets it,
    as `announce` of the same date would give it."""
    row, session = unit.row, unit.session
    assert row.id is not None
    whens = announced_whens(session, row.id)
    if not whens or row.state not in _ANNOUNCE_STATES:
        return
    when, occurrence = rounds(whens)[-1]
    wanted = {user.id for user in sharing} & {user.id for user in to_tell(plan.users)}
    keys = {user_id: notice_key(row.id, when, occurrence, user_id) for user_id in wanted}
    sent = _queued(session, keys.values())
    notice = _Notice(session, row, plan, unit.ctx.admins.who_can_act(row.organization), when)
    told = [
        notice.to(user, keys[user.id]) for user in plan.users if user.id in keys and keys[user.id] not in sent
    ]
    enqueue_all(session, told, now=unit.flow.now)


def _queued(session: Session, keys: Collection[str]) -> set[str]:
    """Which of these notices' keys are in the outbox already: those notices went, or go, once."""
    return set(
        session.exec(
            select(OutboundMessage.idempotency_key).where(
                col(OutboundMessage.idempotency_key).in_(list(keys))
            )
        ).all()
    )


def caught_up_key(key: str) -> str:
    """The idempotency key of the notice of key `key` sent again after a decision (`reach_again`)."""
    return f"{key}-reached-again"


def told(ctx: Context, migration_id: int) -> Told | None:
    """How the migration's advance notice went out, from its delivery records; None while nobody was
    announced to. `plan`, `status` and every step before connecting ask, mostly before any `announce`: then
    one statement answers, and the migration's row is read only once there is a notice to tell of."""
    with ctx.database.session() as session:
        earlier = announcements(session, migration_id)
        if not earlier:
            return None
        return _told(session, session.get_one(Migration, migration_id), earlier)


def told_in(session: Session, row: Migration) -> Told | None:
    assert row.id is not None
    earlier = announcements(session, row.id)
    return _told(session, row, earlier) if earlier else None


def _told(session: Session, row: Migration, earlier: Sequence[tuple[str, datetime]]) -> Told | None:
    """`told_in` once the migration's announcements (`earlier`, at least one) are read."""
    assert row.id is not None
    if row.plan is None:
        return None
    when, occurrence = rounds([when for when, _ in earlier])[-1]
    people = {
        notice_key(row.id, when, occurrence, user.id): user
        for user in to_tell(_plan_codec.decode(row.plan).users)
    }
    again = {caught_up_key(key): key for key in people}
    found = session.exec(
        select(
            OutboundMessage.idempotency_key,
            OutboundMessage.status,
            OutboundMessage.last_error,
            OutboundMessage.error_code,
        ).where(col(OutboundMessage.idempotency_key).in_([*people, *again]))
    ).all()
    # a notice sent again after a decision stands for the one that missed them: until it reached them, they
    # stay unreached
    newest = {
        again.get(key, key): (outcome, why, code)
        for key, outcome, why, code in sorted(found, key=lambda f: f[0] in again)
    }
    outcomes = [(key, outcome, why) for key, (outcome, why, _) in newest.items()]
    unreached = tuple(
        Unreached(people[key].address, people[key].group, why or "", bool(people[key].decided_by))
        for key, outcome, why in outcomes
        if outcome == "failed"
    )
    return Told(
        when,
        round_began(earlier, when) or earlier[-1][1],
        len(people),
        sum(outcome == "sent" for _, outcome, _ in outcomes),
        sum(outcome == "pending" for _, outcome, _ in outcomes),
        unreached,
        # tried: a code says why the last try did not deliver it
        tuple(why or "" for outcome, why, code in newest.values() if outcome == "pending" and code),
    )


def to_tell(users: Sequence[PlannedUser]) -> list[PlannedUser]:
    """Whom a notice asking them to get ready is for: not someone decided to lose access, who hears that
    decision instead (at `decide` if a notice reached them, else at `notify`), nor someone who left, nor
    someone held back (`held_back`) until an admin settles whose account it is."""
    sharing = {user.id for _, people in held_back(users) for user in people}
    return [user for user in users if not user.loses_access and not _left(user) and user.id not in sharing]


def held_back(users: Sequence[PlannedUser]) -> tuple[tuple[str, tuple[PlannedUser, ...]], ...]:
    """Each directory account two or more people would get (`shared-directory-account` fails), with them:
    only one can keep it, so whatever a notice told them now (keep your tokens, or be mapped by hand)
    would be wrong for the others. They are told once an admin has settled it (`decide ... no-access`),
    at the next `announce` of the same date."""
    return tuple((name, tuple(people)) for (_, name), people in shared_targets(users).items())


def _left(user: PlannedUser) -> bool:
    """Their only directory account is disabled and no admin decided for them: Microsoft's FAQ reads a
    user "you don't see active in your directory" as one who "likely left your company", whom its
    prerequisite 4 removes before the change. Enabled and rechecked, they are told at the next `announce`."""
    return user.outcome == "disabled" and not user.decided_by


def announcements(session: Session, migration_id: int) -> list[tuple[str, datetime]]:
    """The `when` of each announcement of the migration and the moment it was made, in order (their audit
    entries)."""
    entries = session.exec(_ANNOUNCEMENTS, params={"migration": migration_id}).all()
    return [(str(details.get("when") or ""), at) for details, at in entries]


_ANNOUNCEMENTS = (
    select(AuditEntry.details, AuditEntry.at)
    .where(AuditEntry.migration_id == bindparam("migration"), AuditEntry.action == "announce")
    .order_by(col(AuditEntry.id))
)
"""Built once: `plan`, `status`, `recheck`, `invite` and more ask how the notice went, and building the query
and its cache key anew cost about as much as running it."""


def announced_whens(session: Session, migration_id: int) -> list[str]:
    """The `when` of each announcement of the migration, in order."""
    return [when for when, _ in announcements(session, migration_id)]


def round_began(earlier: Sequence[tuple[str, datetime]], when: str) -> datetime | None:
    """When the last round of notices began, if announcing `when` now goes on with it (`rounds`)."""
    began = None
    for said, at in earlier:
        if said.casefold() != when.casefold():
            began = None
        elif began is None:
            began = at
    return began


def rounds(whens: Sequence[str]) -> list[tuple[str, int]]:
    """The rounds of notices that announcements of `whens` (in order) sent: each one's `when`, and how many
    rounds before it named the same date. Announcing the date of the last round again is that round (it
    reaches only whom it missed); any other date, an earlier one too, starts a round that reaches everyone."""
    found: list[tuple[str, int]] = []
    for when in whens:
        if found and found[-1][0].casefold() == when.casefold():
            continue
        found.append((when, sum(earlier.casefold() == when.casefold() for earlier, _ in found)))
    return found


def notice_key(migration_id: int, when: str, occurrence: int, user_id: str) -> str:
    """The idempotency key of the advance notice to `user_id` in the `occurrence`th round naming `when`
    (`rounds`): the same for the same round, so a notice goes once, and found by exact key when reading what
    someone was told. The first round's has no count, as before dates could be announced again."""
    digest = hashlib.sha256(when.casefold().encode()).hexdigest()[:12]
    again = f"-{occurrence}" if occurrence else ""
    return f"migration-{migration_id}-notice-{digest}{again}-{user_id}"
