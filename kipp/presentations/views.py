"""The secretariat's presentation schedule and attendance."""

from __future__ import annotations

from flask import Blueprint

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("presentations", __name__)
audience(bp, Role.SECRETARIAT)
