"""Scheduled jobs of the submission stage (beat runs them; `flask kipp run-jobs` too)."""

from __future__ import annotations

from kipp.extensions import db
from kipp.outbox.registry import periodic
from kipp.proposals import services


@periodic("kipp.proposals.close_overdue", every_seconds=300)
def close_overdue() -> int:
    closed = services.close_overdue()
    db.session.commit()
    return closed


@periodic("kipp.proposals.deadline_reminders", every_seconds=3600)
def deadline_reminders() -> int:
    reminded = services.send_deadline_reminders()
    db.session.commit()
    return reminded
