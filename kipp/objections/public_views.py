"""The public finalist list and the objection form (no account needed)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public_objections", __name__)
