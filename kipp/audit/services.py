"""Recording the audit trail. Every service that changes data calls ``record``."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

import sqlalchemy as sa

from kipp.accounts.models import User
from kipp.audit.models import AuditEvent
from kipp.extensions import db

SECRET_FIELDS = {"password_hash", "token_hash"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    """The column values of a model instance, JSON-ready, secrets masked."""
    mapper = sa.inspect(obj).mapper
    data: dict[str, Any] = {}
    for column in mapper.column_attrs:
        key = column.key
        if key in ("created_at", "updated_at"):
            continue
        value = getattr(obj, key)
        data[key] = "***" if key in SECRET_FIELDS and value is not None else _jsonable(value)
    return data


def record(
    actor: User | None,
    action: str,
    obj: Any = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    label: str | None = None,
) -> AuditEvent:
    """Append an audit event. ``actor`` None means the system (a worker, a schedule)."""
    if obj is not None:
        # Only a new object needs the flush that gives it its id; flushing for every event
        # would write a whole round's state changes one statement at a time.
        if sa.inspect(obj).identity is None:
            db.session.flush()
        object_type = object_type or obj.__tablename__
        if object_id is None:
            identity = sa.inspect(obj).identity
            object_id = identity[0] if identity and len(identity) == 1 else identity
        if label is None:
            label = getattr(obj, "name", None) or getattr(obj, "email", None) or getattr(obj, "title", None)
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else "system",
        action=action,
        object_type=object_type or "-",
        object_id=None if object_id is None else str(object_id),
        object_label=None if label is None else str(label)[:255],
        before=before,
        after=after,
    )
    db.session.add(event)
    return event
