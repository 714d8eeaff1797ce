"""An ambiguous person is found by any candidate account, on each backend, and by nothing less."""

from __future__ import annotations

from sqlmodel import select

from storage import AffectedUser, Database
from tests.storage.rows import NOW, add_migration
from workflows.identities import owned_by, owner
from workflows.results import Actor

GUEST_ID, MEMBER_ID = "89e635bb-8d82-538f-8143-26ac5849ffab", "6b329d0f-df92-5fa9-b7e6-8ca107b66e0f"


def test_an_ambiguous_person_is_found_by_each_candidate_id_and_sign_in_name_only(database: Database) -> None:
    migration = add_migration(database)
    with database.session() as session:
        session.add(
            AffectedUser(
                migration_id=migration,
                entitlement_id="e-hana",
                principal_name="hana@contoso.com",
                email="hana@contoso.com",
                outcome="ambiguous",
                candidates=[MEMBER_ID, GUEST_ID, "hana.hart@fabrikam.com"],
                created_at=NOW,
            )
        )
        session.commit()

    def found(who: Actor | str) -> list[str]:
        shape, values = owner(who)
        query = select(AffectedUser.entitlement_id).where(owned_by(shape))
        with database.session() as session:
            return list(session.exec(query, params=values).all())

    assert found(Actor(GUEST_ID, "hana_contoso.com#EXT#@fabrikam.onmicrosoft.com", "Hana")) == ["e-hana"]
    assert found(Actor("29:1abc", "Hana.Hart@Fabrikam.com", "Hana")) == ["e-hana"]
    assert found("hana.hart@fabrikam.com") == ["e-hana"]
    # A part of a candidate, or a LIKE wildcard, names nobody
    assert found("hart@fabrikam.com") == [] and found("hana_hart@fabrikam.com") == []
    assert found(Actor(MEMBER_ID[:8], "", "")) == [] and found(Actor("%", "", "")) == []
