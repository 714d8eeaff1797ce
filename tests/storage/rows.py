"""Small row builders for storage tests."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import ActiveMigration, Database, Migration

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def add_migration(database: Database, organization: str = "fabrikam") -> int:
    with database.session() as session:
        row = Migration(
            organization=organization,
            tenant_id="tenant",
            state="planned",
            started_by_id="U-DANA",
            started_by_email="dana@fabrikam.com",
            started_by_name="Dana",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        session.add(ActiveMigration(organization_key=organization, migration_id=row.id))
        session.commit()
        return row.id
