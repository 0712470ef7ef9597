"""The secretariat's selection pages: nominees, the final result."""

from __future__ import annotations

from flask import Blueprint

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("selection", __name__)
audience(bp, Role.SECRETARIAT)
