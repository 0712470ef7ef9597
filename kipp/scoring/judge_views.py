"""The judges' scoring pages (being built)."""

from __future__ import annotations

from flask import Blueprint

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("scoring_judge", __name__, url_prefix="/score")
audience(bp, Role.EVALUATOR, Role.PANELIST)
