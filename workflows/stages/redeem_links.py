"""Each invited person's own link to accept their B2B invitation (Graph's `inviteRedeemUrl`).

Microsoft documents sending this link "through some other means" than its email as supported
(https://learn.microsoft.com/graph/api/resources/invitation, `sendInvitationMessage: false`). The commonest
trouble of an invited person is an email that never came, went to quarantine, or was deleted. Graph returns
the link only in its answer to `POST /invitations`, so the bot keeps the newest one per person and
organization and directory, and shows it only in that person's direct messages. A guest is invited to the
directory, not to one migration: after a `cancel` and a new `start` they are still to accept the same
invitation, so a link outlives a cancelled migration and a later one of the organization offers it.

What Microsoft says about the link, and what it leaves open:
- Lifetime: an invitation does not expire; it can be redeemed until the guest is deleted (Graph's engineers in
  microsoftgraph/microsoft-graph-docs#5799).
- Who: redemption signs in the invited address (its directory, Microsoft account, or a one-time passcode
  mailed to it), and a guest using another alias of it needs the email's own link
  (https://learn.microsoft.com/entra/external-id/redemption-experience). Whether a forwarded link lets
  someone else in, Microsoft does not say, so the link is treated as a credential.
- Re-inviting: a new invitation, such as a resend or a reset with `resetRedemption`, comes with a new link
  (https://learn.microsoft.com/entra/external-id/reset-redemption-status). Microsoft does not say whether the
  old one still works, so only the newest is kept.

So the link never reaches logs, audit details, the plan, exports, error messages or a channel. It is
forgotten once a sign-in shows the invitation accepted, when the person is removed from the organization
(`remove-users`, or by hand in the portal, which a remade plan or the daily full read of
the sign-ins shows), when a later migration's plan no longer has the invitation pending, and when a
migration completes. A cancel keeps it: the guest stays invited (the cancel tells the admins to delete
them if they should not stay, and a deleted guest's link lets nobody in).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage import AffectedUser, Database, Invitation, Migration
from workflows import notices
from workflows.todo import ACCEPT_INVITATION


def forget(session: Session, row: Migration, entitlement_ids: Sequence[str] | None = None) -> None:
    """Drop the links of these people (everyone's when None) to the directory of this migration, whichever
    migration of the organization got them, in the caller's commit."""
    forgetting = update(Invitation).where(
        col(Invitation.migration_id).in_(_same_invitations(row)), col(Invitation.redeem_url).is_not(None)
    )
    if entitlement_ids is not None:
        forgetting = forgetting.where(col(Invitation.entitlement_id).in_(list(entitlement_ids)))
    session.execute(forgetting.values(redeem_url=None))


def forget_all_but(
    session: Session, row: Migration, present: Iterable[str], pending: Collection[str] | None = None
) -> None:
    """Drop the links of people no longer in the organization (removed by hand in the portal), given
    everyone who is (`present`: a remade plan's people, or a full read of the sign-ins after connecting):
    the link stays a credential, and a direct message would still offer it. With `pending` (a remade plan's
    guests still to accept), an earlier migration's links of anyone else go too: accepted, or re-invited."""
    kept = set(present)
    linked = session.exec(_LINKED, params=directory_of(row)).all()
    unplanned = {
        entitlement_id
        for entitlement_id, migration_id in linked
        if entitlement_id not in kept
        or (pending is not None and migration_id != row.id and entitlement_id not in pending)
    }
    if unplanned:
        forget(session, row, sorted(unplanned))


def newest_sent(session: Session, row: Migration, entitlement_id: str) -> tuple[datetime, str | None] | None:
    """When this person's newest invitation to the migration's directory went, by any migration of the
    organization, and its link (None once forgotten); None if none did."""
    found = session.exec(
        select(Invitation.updated_at, Invitation.redeem_url)
        .where(
            col(Invitation.migration_id).in_(_same_invitations(row)),
            Invitation.entitlement_id == entitlement_id,
            Invitation.status == "sent",
        )
        .order_by(col(Invitation.updated_at).desc())
    ).first()
    return (found[0], found[1]) if found is not None else None


SAME_DIRECTORY = select(col(Migration.id)).where(
    func.lower(Migration.organization) == bindparam("organization"),
    Migration.tenant_id == bindparam("tenant"),
)
"""The migrations of an organization to one directory, bound by `directory_of`: a guest and their link
belong to the directory, not to the migration that invited them (`inviting` asks it too)."""
_LINKED = select(Invitation.entitlement_id, Invitation.migration_id).where(
    col(Invitation.migration_id).in_(SAME_DIRECTORY), col(Invitation.redeem_url).is_not(None)
)
"""Built once: every plan stored and every full read of the sign-ins asks for the links, and building the
query and its cache key anew cost about as much as running it."""


def directory_of(row: Migration) -> dict[str, str]:
    """What `SAME_DIRECTORY` binds: the organization and the directory of this migration."""
    return {"organization": row.organization.casefold(), "tenant": row.tenant_id}


def _same_invitations(row: Migration) -> SelectOfScalar[int | None]:
    """The migrations whose invitations are this one's too: the organization's, to the same directory."""
    return SAME_DIRECTORY.params(directory_of(row))


def offered(recipient: str, payload: Mapping[str, Any]) -> bool:
    """Whether a message offers its recipient's own link: a direct message (never a channel) whose list
    holds their *Accept the invitation* item, not done. Read from the payload alone, before any query."""
    if recipient.startswith(notices.CHANNEL_PREFIX):
        return False
    items = payload.get("items") or ()
    return any(item.get("key") == ACCEPT_INVITATION and not item.get("done_at") for item in items)


def for_list(database: Database, payload: Mapping[str, Any]) -> str | None:
    """The link for a list that `offered` it, read when it is sent (the message's stored payload never
    holds it), in one statement; None without one."""
    with database.reading() as connection:
        return connection.execute(_LINK_FOR_LIST, {"person": int(payload["affected_user_id"])}).scalar()


_THEIRS, _INVITING = aliased(Migration), aliased(Migration)
_LINK_FOR_LIST = (
    select(Invitation.redeem_url)
    .join(_INVITING, col(_INVITING.id) == Invitation.migration_id)
    .join(
        _THEIRS,
        (func.lower(_THEIRS.organization) == func.lower(_INVITING.organization))
        & (col(_THEIRS.tenant_id) == _INVITING.tenant_id),
    )
    .join(
        AffectedUser,
        (col(AffectedUser.migration_id) == _THEIRS.id)
        & (col(AffectedUser.entitlement_id) == Invitation.entitlement_id),
    )
    .where(AffectedUser.id == bindparam("person"), Invitation.status == "sent")
    .order_by(col(Invitation.updated_at).desc())  # the newest, as their standing reads it
)
"""Built once and run as plain SQL: every list sent that offers a link reads it (a wave, one a person), and
building it, its aliases and its cache key anew cost more than running it."""
