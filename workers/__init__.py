"""The Celery entry point: ``celery -A workers worker`` and ``celery -A workers beat``.

Imports go one way only, workers -> kipp. Each outbox handler registered in
kipp becomes a Celery task of the same name that delivers one outbox message.
"""

from __future__ import annotations

from celery import Celery

from kipp import create_app
from kipp.outbox.registry import HANDLERS, PERIODIC, SWEEP
from workers.schedule import beat_schedule
from workers.tasks import register_tasks

flask_app = create_app()
celery_app: Celery = flask_app.extensions["celery"]
celery_app.conf.beat_schedule = beat_schedule(flask_app.config["KIPP_OUTBOX_SWEEP_SECONDS"])
register_tasks(celery_app, flask_app, HANDLERS, PERIODIC, sweep_name=SWEEP)

__all__ = ["celery_app", "flask_app"]
