from flask import Blueprint, render_template

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("agencies", __name__, url_prefix="/admin/agencies")
audience(bp, Role.SECRETARIAT)


@bp.route("/")
def index():
    return render_template("errors/error.html", code=200, message="agencies")
