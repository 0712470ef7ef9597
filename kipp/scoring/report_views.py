"""Charts and exports of a scored stage (being built)."""

from __future__ import annotations

from flask import Blueprint

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("scoring_reports", __name__, url_prefix="/admin/scoring")
audience(bp, Role.SECRETARIAT)
