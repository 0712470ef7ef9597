"""Periodic jobs run by ``celery -A workers beat``."""

from __future__ import annotations

from kipp.outbox.registry import SWEEP

BEAT_SCHEDULE = {
    "outbox-sweep": {"task": SWEEP, "schedule": 60.0},
}
