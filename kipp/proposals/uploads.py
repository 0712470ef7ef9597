"""Where uploaded files live: outside the web root, under names the server makes up."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, send_file

from kipp.proposals.rules import safe_download_name


def upload_root() -> Path:
    return Path(current_app.config["KIPP_UPLOAD_PATH"])


def path_for(stored_name: str) -> Path:
    # Two-level fan-out keeps directories small at 3,500 proposals × a dozen files.
    return upload_root() / stored_name[:2] / stored_name


def store(data: bytes, extension: str) -> tuple[str, str]:
    """Write ``data`` under a new random name; return (stored name, sha256)."""
    stored_name = f"{secrets.token_hex(16)}.{extension}"
    target = path_for(stored_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".part")
    temporary.write_bytes(data)
    temporary.replace(target)
    return stored_name, hashlib.sha256(data).hexdigest()


def remove(stored_name: str) -> None:
    path_for(stored_name).unlink(missing_ok=True)


def send_attachment(attached: Any, *, inline: bool = False) -> Response:
    """Serve an uploaded file under a safe name (the caller has checked who may see it)."""
    path = path_for(attached.stored_name)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=attached.content_type, as_attachment=not inline,
                     download_name=safe_download_name(attached.original_name, attached.content_type))
