from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kipp.accounts.models import User
from kipp.db import intpk, str80, str255, utcnow
from kipp.extensions import db


class AuditEvent(db.Model):
    """Who changed what, from what to what, and when. Append-only.

    The application never updates or deletes these rows: the ORM refuses it
    here, and a database trigger (created by the migration) refuses it for
    anything that goes around the ORM.
    """

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[intpk]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # Kept as text too, so the trail still reads right if the account changes.
    actor_label: Mapped[str255]
    action: Mapped[str80] = mapped_column(index=True)
    object_type: Mapped[str80]
    object_id: Mapped[str80 | None]
    object_label: Mapped[str255 | None]
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]

    actor: Mapped[User | None] = relationship()

    @property
    def changes(self) -> list[tuple[str, Any, Any]]:
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


class AuditRowImmutable(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_changes(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise AuditRowImmutable("audit events are append-only")
