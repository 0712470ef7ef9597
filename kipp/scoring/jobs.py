"""Scheduled scoring jobs (beat; `flask kipp run-jobs` in the embedded default)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from kipp.db import utcnow
from kipp.extensions import db
from kipp.outbox.registry import periodic
from kipp.scoring import services
from kipp.scoring.models import ScoringScheme


@periodic("kipp.scoring.remind_judges", every_seconds=3600)
def remind_judges(now: dt.datetime | None = None) -> int:
    """From N days before a stage's scoring deadline until scoring closes, judges with unfinished
    sheets are reminded once a day."""
    now = now or utcnow()
    reminded = 0
    for scheme in db.session.scalars(sa.select(ScoringScheme).where(sa.not_(ScoringScheme.closed))):
        deadline = services.deadline_of(scheme)
        if deadline is None or now < deadline - dt.timedelta(days=scheme.reminder_days):
            continue
        reminded += services.remind(None, scheme, automatic=True, now=now)
    db.session.commit()
    return reminded
