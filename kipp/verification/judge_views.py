"""The verifiers' own visits: findings and a score."""

from __future__ import annotations

from flask import Blueprint

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("field", __name__)
audience(bp, Role.EVALUATOR, Role.PANELIST)
