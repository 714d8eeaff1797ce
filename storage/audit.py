"""The audit trail is append-only: the ORM refuses to change or delete an entry, one by one or in bulk."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from storage.models import AuditEntry


class AuditTrailImmutable(Exception):
    """Someone tried to edit or delete an audit entry."""


def _refuse(action: str) -> AuditTrailImmutable:
    return AuditTrailImmutable(f"The audit trail is append-only: an entry cannot be {action}.")


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper: Mapper[Any], connection: Any, target: AuditEntry) -> None:
    raise _refuse("edited")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper: Mapper[Any], connection: Any, target: AuditEntry) -> None:
    raise _refuse("deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, AuditEntry):
        raise _refuse("edited" if state.is_update else "deleted")
