"""The secretariat's objection rulings and the confirmation of the finalists."""

from __future__ import annotations

from flask import Blueprint

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("objections", __name__)
audience(bp, Role.SECRETARIAT)
