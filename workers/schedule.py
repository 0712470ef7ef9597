"""Periodic jobs run by ``celery -A workers beat``: the outbox sweep and every job kipp registers."""

from __future__ import annotations

from typing import Any

from kipp.outbox.registry import PERIODIC, SWEEP


def beat_schedule(sweep_seconds: float = 60.0) -> dict[str, dict[str, Any]]:
    schedule: dict[str, dict[str, Any]] = {"outbox-sweep": {"task": SWEEP, "schedule": float(sweep_seconds)}}
    for name, (_func, seconds) in PERIODIC.items():
        schedule[name] = {"task": name, "schedule": seconds}
    return schedule
