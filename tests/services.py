"""Which external services the test run has, and whether it must have them.

``KIPP_TEST_REQUIRE`` (e.g. ``postgresql,redis,browser,faults`` or ``all``) turns a
missing service from a skip into a failure; CI sets it to ``all``.
"""

from __future__ import annotations

import os
import shutil
import socket
from functools import cache
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get("KIPP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("KIPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = os.environ.get("KIPP_TEST_CHROMIUM", "/usr/bin/chromium")

SKIPPED: dict[str, str] = {}


def _required() -> set[str]:
    value = os.environ.get("KIPP_TEST_REQUIRE", "")
    names = {v.strip() for v in value.split(",") if v.strip()}
    return {"postgresql", "redis", "browser", "faults"} if "all" in names else names


def _port_open(url: str, default_port: int) -> bool:
    parts = urlsplit(url.replace("+psycopg", ""))
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


@cache
def available(service: str) -> str | None:
    """None when the service is usable, else the reason it is not."""
    if service == "postgresql":
        return None if _port_open(POSTGRES_URL, 5432) else f"PostgreSQL does not answer at {POSTGRES_URL}"
    if service == "redis":
        if not _port_open(REDIS_URL, 6379):
            return f"Redis does not answer at {REDIS_URL}"
        if shutil.which("celery", path=os.path.dirname(os.sys.executable)) is None:
            return "the celery command is not installed beside this Python"
        return None
    if service == "browser":
        if not os.path.exists(CHROMIUM):
            return f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "the playwright package is not installed"
        return None
    if service == "faults":
        # The fault drill starts its own Redis, PostgreSQL cluster and kipp processes.
        missing = [name for name in ("redis-server", "initdb", "pg_ctl") if shutil.which(name) is None]
        missing += [name for name in ("celery", "gunicorn")
                    if shutil.which(name, path=os.path.dirname(os.sys.executable)) is None]
        try:
            import aiosmtpd  # noqa: F401
        except ImportError:
            missing.append("the aiosmtpd package")
        return f"the fault drill needs {', '.join(missing)}" if missing else None
    raise ValueError(service)


def need(service: str) -> None:
    """Skip (or, when required, fail) the calling test if ``service`` is missing."""
    reason = available(service)
    if reason is None:
        return
    if service in _required():
        pytest.fail(f"{service} is required (KIPP_TEST_REQUIRE) but unavailable: {reason}")
    SKIPPED[service] = reason
    pytest.skip(reason)
