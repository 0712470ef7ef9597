"""The secretariat's field verification: teams and visits."""

from __future__ import annotations

from flask import Blueprint

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("verification", __name__)
audience(bp, Role.SECRETARIAT)
