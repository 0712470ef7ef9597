"""Celery tasks: thin wrappers that deliver outbox messages by id.

A delivery that fails for a transient reason (the database, Redis or the
mail server briefly away) is retried by the task itself within seconds,
1 s, 2 s, 4 s… then every 30 s, so recovery follows an outage closely
instead of waiting for the sweep; those retries do not count as the
message's attempts. After MAX_TASK_RETRIES the failure is counted and the
message waits for the sweep, at the outbox's growing delays.
"""

from __future__ import annotations

import logging
import math
from typing import Callable

from celery import Celery, Task
from flask import Flask

from kipp.outbox.dispatch import DeliveryInProgress, deliver, is_transient, sweep

log = logging.getLogger(__name__)

MAX_TASK_RETRIES = 10
MAX_TASK_RETRY_SECONDS = 30


def retry_countdown(retries: int, error: BaseException) -> int:
    if isinstance(error, DeliveryInProgress):  # another delivery is at it: ask again when it must be over
        return max(1, math.ceil(error.retry_in.total_seconds()))
    return int(min(2 ** retries, MAX_TASK_RETRY_SECONDS))


def _delivery_task(name: str) -> Callable[..., str]:
    def run(self: Task, outbox_id: int) -> str:
        retries = self.request.retries
        last_try = retries >= MAX_TASK_RETRIES
        try:
            outcome = deliver(outbox_id, count_transient=last_try)
        except Exception as error:
            if last_try or not is_transient(error):
                raise
            countdown = retry_countdown(retries, error)
            log.warning("%s outbox=%s: %r; retrying in %ss", name, outbox_id, error, countdown)
            raise self.retry(exc=error, countdown=countdown, max_retries=MAX_TASK_RETRIES) from error
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
        celery_app.task(name=name, bind=True)(_delivery_task(name))
    for name, (job, _seconds) in periodic.items():
        celery_app.task(name=name)(_job_task(name, job))

    @celery_app.task(name=sweep_name)
    def outbox_sweep() -> int:
        return sweep(flask_app)
