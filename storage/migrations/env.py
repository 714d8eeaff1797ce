"""Alembic environment: runs on the connection `storage.database.upgrade` hands over (or its engine)."""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.types import UTCDateTime

target_metadata = SQLModel.metadata


def _render_portable(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Revisions name plain SQLAlchemy types, so they do not depend on this package's code."""
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite rebuilds tables for ALTER; batch mode does that for us
        render_item=_render_portable,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with context.config.attributes["engine"].begin() as own_connection:
        _run(own_connection)
