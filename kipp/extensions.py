"""Flask extension instances, created unbound and initialised in create_app."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from kipp.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="fixed-window")


def celery_init_app(app: Flask) -> Celery:
    """The Flask documentation's pattern: every task runs inside an app context."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    redis_url = app.config.get("KIPP_REDIS_URL")
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=redis_url or "memory://",
        task_always_eager=not redis_url,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # Publishing must fail fast when Redis is down: the outbox keeps the
        # message and the sweep publishes it later. One connection attempt
        # (max_retries 0: kombu's publishing connection otherwise retries for
        # seconds), bounded by short timeouts. The worker's consumer keeps
        # reconnecting (broker_connection_retry) under its own settings.
        task_publish_retry=False,
        broker_connection_timeout=1,
        broker_transport_options={"socket_connect_timeout": 1, "socket_timeout": 2, "max_retries": 0},
        timezone="Asia/Jakarta",
        enable_utc=True,
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def client_locale_hint() -> str | None:
    return request.accept_languages.best_match(["id", "en"]) if request else None
