"""Small row builders for storage tests."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import ActiveMigration, Database, Migration

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def add_migration(
    database: Database,
    organization: str = "fabrikam",
    *,
    tenant_id: str = "tenant",
    state: str = "planned",
    active: bool = True,
) -> int:
    """A migration of `organization`; `active`: the one in progress (one per organization at most)."""
    with database.session() as session:
        row = Migration(
            organization=organization,
            tenant_id=tenant_id,
            state=state,
            started_by_id="U-DANA",
            started_by_email="dana@fabrikam.com",
            started_by_name="Dana",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        if active:
            session.add(ActiveMigration(organization_key=organization, migration_id=row.id))
        session.commit()
        return row.id
