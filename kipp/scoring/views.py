"""The secretariat's scoring pages per edition and stage (being built)."""

from __future__ import annotations

from flask import Blueprint

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("scoring", __name__, url_prefix="/admin/scoring")
audience(bp, Role.SECRETARIAT)
