"""Whose migrations share a person's link to accept their invitation: the organization's (any spelling of its
name) to the same directory, and no other. A later plan or a removal in one of them forgets the links the
others got."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from storage import AffectedUser, Database, Invitation, Migration
from tests.storage.databases import SQLITE_ONLY
from tests.storage.rows import add_migration
from workflows.stages import redeem_links
from workflows.todo import ACCEPT_INVITATION

pytestmark = SQLITE_ONLY

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ERIN = "e-erin"


def _migration(database: Database, organization: str, tenant: str, state: str, link: str = "") -> int:
    """A migration with Erin among its people, and her invitation's link if it sent her one."""
    migration_id = add_migration(database, organization, tenant_id=tenant, state=state, active=False)
    with database.session() as session:
        session.add(
            AffectedUser(
                migration_id=migration_id,
                entitlement_id=ERIN,
                principal_name="erin.eng@gmail.com",
                email="erin.eng@gmail.com",
                outcome="invite",
                created_at=NOW,
            )
        )
        if link:
            session.add(
                Invitation(
                    migration_id=migration_id,
                    email="erin.eng@gmail.com",
                    entitlement_id=ERIN,
                    status="sent",
                    redeem_url=link,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        session.commit()
    return migration_id


def _offered_in(database: Database, migration_id: int) -> str | None:
    """The link Erin's list in this migration offers her."""
    with database.session() as session:
        erin = session.exec(
            select(AffectedUser.id).where(
                AffectedUser.migration_id == migration_id, AffectedUser.entitlement_id == ERIN
            )
        ).one()
    return redeem_links.for_list(database, {"affected_user_id": erin, "items": [{"key": ACCEPT_INVITATION}]})


def _links(database: Database) -> dict[int, str | None]:
    with database.session() as session:
        return dict(session.exec(select(Invitation.migration_id, Invitation.redeem_url)).all())


def test_a_link_is_offered_by_the_organizations_migrations_to_the_same_directory_only(
    database: Database,
) -> None:
    _migration(database, "Fabrikam-Fiber", "T1", "cancelled", link="https://first")
    assert _offered_in(database, _migration(database, "fabrikam-fiber", "T1", "users_notified")) == (
        "https://first"
    )
    assert _offered_in(database, _migration(database, "fabrikam-fiber", "T2", "users_notified")) is None
    assert _offered_in(database, _migration(database, "contoso", "T1", "users_notified")) is None


def test_a_later_plan_without_her_invitation_pending_forgets_the_link_an_earlier_migration_got(
    database: Database,
) -> None:
    first = _migration(database, "Fabrikam-Fiber", "T1", "cancelled", link="https://first")
    elsewhere = _migration(database, "fabrikam-fiber", "T2", "cancelled", link="https://elsewhere")
    later = _migration(database, "fabrikam-fiber", "T1", "planned")

    def planned(pending: set[str]) -> None:
        with database.session() as session:
            redeem_links.forget_all_but(session, session.get_one(Migration, later), [ERIN], pending)
            session.commit()

    planned({ERIN})  # still to accept it: kept
    assert _links(database) == {first: "https://first", elsewhere: "https://elsewhere"}
    planned(set())  # accepted, or invited anew
    assert _links(database) == {first: None, elsewhere: "https://elsewhere"}


def test_removing_her_in_a_later_migration_forgets_the_link_an_earlier_one_got(database: Database) -> None:
    first = _migration(database, "Fabrikam-Fiber", "T1", "cancelled", link="https://first")
    elsewhere = _migration(database, "fabrikam-fiber", "T2", "cancelled", link="https://elsewhere")
    later = _migration(database, "fabrikam-fiber", "T1", "planned")
    with database.session() as session:
        redeem_links.forget(session, session.get_one(Migration, later), [ERIN])
        session.commit()
    assert _links(database) == {first: None, elsewhere: "https://elsewhere"}
