"""Scheduled jobs of administrative screening (beat runs them; `flask kipp run-jobs` too)."""

from __future__ import annotations

from kipp.extensions import db
from kipp.outbox.registry import periodic
from kipp.screening import services


@periodic("kipp.screening.close_expired_corrections", every_seconds=300)
def close_expired_corrections() -> int:
    closed = services.close_expired_corrections()
    db.session.commit()
    return closed
