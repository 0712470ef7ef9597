from flask import Blueprint, render_template

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("editions", __name__, url_prefix="/admin/editions")
audience(bp, Role.SECRETARIAT)


@bp.route("/")
def index():
    return render_template("errors/error.html", code=200, message="editions")
