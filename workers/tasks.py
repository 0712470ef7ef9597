"""Celery tasks: thin wrappers that deliver outbox messages by id."""

from __future__ import annotations

import logging
from typing import Callable

from celery import Celery
from flask import Flask

from kipp.outbox.dispatch import deliver, sweep

log = logging.getLogger(__name__)


def _delivery_task(name: str) -> Callable[..., str]:
    def run(outbox_id: int) -> str:
        outcome = deliver(outbox_id)
        log.info("%s outbox=%s: %s", name, outbox_id, outcome)
        return outcome

    run.__name__ = name.rsplit(".", 1)[-1]
    run.__qualname__ = run.__name__
    return run


def _job_task(name: str, job: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        outcome = job()
        log.info("%s: %s", name, outcome)
        return outcome

    run.__name__ = name.rsplit(".", 1)[-1]
    run.__qualname__ = run.__name__
    return run


def register_tasks(
    celery_app: Celery, flask_app: Flask, handlers: dict[str, object],
    periodic: dict[str, tuple[Callable[[], object], float]], *, sweep_name: str,
) -> None:
    for name in handlers:
        celery_app.task(name=name)(_delivery_task(name))
    for name, (job, _seconds) in periodic.items():
        celery_app.task(name=name)(_job_task(name, job))

    @celery_app.task(name=sweep_name)
    def outbox_sweep() -> int:
        return sweep(flask_app)
