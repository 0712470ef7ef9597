from flask import Blueprint, render_template

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("local", __name__, url_prefix="/agency")
audience(bp, Role.ADMIN_LOKAL)


@bp.route("/")
def agency():
    return render_template("errors/error.html", code=200, message="agency")
