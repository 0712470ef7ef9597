"""Links built without a request (workers and commands have none)."""

from __future__ import annotations

from typing import Any

from flask import current_app


def path_for(endpoint: str, **values: Any) -> str:
    adapter = current_app.url_map.bind("localhost", url_scheme="http")
    return adapter.build(endpoint, values)


def external_url(endpoint: str, **values: Any) -> str:
    return current_app.config["KIPP_BASE_URL"] + path_for(endpoint, **values)
