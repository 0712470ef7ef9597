"""The web edge: login wiring, role gates, error pages, template helpers, commit and release."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit
from typing import Any, Callable, TypeVar

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import force_locale, get_locale, lazy_gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from kipp.accounts import sessions
from kipp.accounts.models import User
from kipp.accounts.roles import ROLE_LABELS, Role
from kipp.agencies.kinds import AGENCY_TYPE_LABELS, CLUSTER_LABELS
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db, login_manager
from kipp.i18n import localized, wib_datetime
from kipp.notifications.queries import unread_count
from kipp.outbox.dispatch import release_committed
from kipp.progress.stages import is_held
from kipp.publication import disclosure
from kipp.proposals import labels

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints a person who must change their password may still reach.
_PASSWORD_CHANGE_EXEMPT = {"auth.change_password", "auth.logout", "auth.set_language", "static", "home.healthz"}


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please log in to open this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"

    @login_manager.unauthorized_handler
    def _unauthorized() -> Any:
        # Background saves get an answer their script understands; pages go to the login form.
        if request.headers.get("X-Requested-With") == "fetch":
            return jsonify(ok=False, code="logged_out",
                           message=_("Your session has ended. Log in again; what you typed is kept.")), 401
        flash(login_manager.login_message, login_manager.login_message_category)
        # After logging in, back where the person was: the page, or the form they posted from.
        target = request.full_path if request.method == "GET" else urlsplit(request.referrer or "").path
        return redirect(url_for("auth.login", next=target or None))

    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        # The cookie opens only a session the server still holds: logging out, ending it from
        # another browser, a new password or a deactivation ends it for every copy of the cookie.
        login_session = sessions.live(session.get(sessions.COOKIE_KEY))
        if login_session is None or str(login_session.user_id) != user_id:
            return None
        g.login_session = login_session
        return login_session.user

    @app.before_request
    def _keep_session_alive() -> None:
        # First of the request's hooks, so nothing else is pending when the touch is committed.
        if current_user.is_authenticated and sessions.touch(g.login_session):
            db.session.commit()

    @app.before_request
    def _force_password_change() -> Any:
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in _PASSWORD_CHANGE_EXEMPT
        ):
            flash(_("Please choose a new password before you continue."), "warning")
            return redirect(url_for("auth.change_password"))
        return None

    # Registered after Flask-SQLAlchemy's teardown, so it runs before the
    # session is removed (teardowns run in reverse order). The request hook
    # covers requests inside a longer-lived app context; the app-context hook
    # covers CLI commands and tasks. Each message is released once, even when
    # the context then raised: what was committed before the error is real.
    @app.teardown_request
    @app.teardown_appcontext
    def _release_outbox(exc: BaseException | None) -> None:
        release_committed(app)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> Any:
        if request.headers.get("X-Requested-With") == "fetch":
            return jsonify(ok=False, code="csrf", message=_("Your session has ended. Log in again; what you typed "
                                                            "is kept.")), 400
        return render_template("errors/error.html", code=400,
                               message=_("The form expired. Go back, reload the page and try again: "
                                         "what you typed is kept where the page keeps drafts.")), 400

    @app.errorhandler(DBAPIError)
    def _database_unavailable(error: DBAPIError) -> Any:
        # A lost connection (the database restarting, failing over) is an outage to wait out, not a
        # bug: say so with a 503 and keep what the person typed. Any other database error is a 500.
        if not (error.connection_invalidated or isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError))):
            raise error
        try:
            db.session.rollback()
        except sa.exc.SQLAlchemyError:
            pass  # the connection is already gone; the pool replaces it on the next checkout
        # Rendering asks flask-login for the person, whom only the database knows: render as anonymous.
        g._login_user = login_manager.anonymous_user()
        headers = {"Retry-After": "10"}
        chosen = session.get("locale")
        # The usual locale selector reads the logged-in person from the database.
        with force_locale(chosen if chosen in ("id", "en") else "id"):
            message = _("kipp cannot reach its database for a moment, so this was not saved. "
                        "Try again in a few seconds.")
            if request.headers.get("X-Requested-With") == "fetch":
                return jsonify(ok=False, code="unavailable", message=str(message)), 503, headers
            return render_template("errors/unavailable.html", message=message,
                                   locale=chosen if chosen in ("id", "en") else "id"), 503, headers

    for code, message in (
        (403, lazy_gettext("You do not have access to this page.")),
        (404, lazy_gettext("This page does not exist, or is not yours to see.")),
        (405, lazy_gettext("This action is not possible here.")),
        (413, lazy_gettext("The upload is too large.")),
        (429, lazy_gettext("Too many attempts. Wait a minute and try again.")),
        (500, lazy_gettext("Something went wrong on our side. The secretariat has been told.")),
    ):
        app.register_error_handler(code, functools.partial(_error_page, code, message))

    app.jinja_env.globals.update(
        Role=Role,
        role_label=lambda role: _(ROLE_LABELS[role]),
        agency_type_label=lambda t: AGENCY_TYPE_LABELS[t],
        cluster_label=lambda c: CLUSTER_LABELS[c],
        localized=localized,
        status_label=labels.status_label,
        status_colour=labels.status_colour,
        holder_label=labels.holder_label,
        time_left=labels.time_left,
        event_label=labels.event_label,
        unread_notifications=unread_count,
        stage_held=is_held,
        disclosed=disclosure.disclosed,
    )
    app.jinja_env.filters["wib"] = wib_datetime

    @app.context_processor
    def _locale() -> dict[str, str]:
        return {"current_locale": str(get_locale() or "id")}


def _error_page(code: int, message: Any, error: Any) -> Any:
    if code == 500:
        db.session.rollback()
    return render_template("errors/error.html", code=code, message=message), code


def audience(blueprint: Blueprint, *roles: Role) -> None:
    """Every route of ``blueprint`` is for these roles only (others get 404, not a hint)."""

    @blueprint.before_request
    @_login_required_hook
    def _gate() -> None:
        if current_user.role not in roles:
            abort(404)


def _login_required_hook(func: Callable[[], Any]) -> Callable[[], Any]:
    @functools.wraps(func)
    def wrapper() -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return func()

    return wrapper


def get_or_404(model: type, ident: Any, *, where: Any = None) -> Any:
    """Load by primary key, scoped by ``where``; a row outside the scope is a 404."""
    pk = sa.inspect(model).primary_key[0]
    query = sa.select(model).where(pk == ident)
    if where is not None:
        query = query.where(where)
    obj = db.session.scalar(query)
    if obj is None:
        abort(404)
    return obj


def run_service(
    func: Callable[..., Any],
    *args: Any,
    success: str | None = None,
    form: Any = None,
    field_of: Callable[[DomainError], str | None] | None = None,
    **kwargs: Any,
) -> tuple[bool, Any]:
    """Call a service and commit. A DomainError rolls back and lands on the form field it names
    (``error.field``, or what ``field_of`` says), or is flashed; NotAllowed answers 404."""
    try:
        result = func(*args, **kwargs)
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        abort(404)
    except DomainError as error:
        db.session.rollback()
        name = field_of(error) if field_of else getattr(error, "field", None)
        if form is not None and name and name in form:
            form[name].errors = [*form[name].errors, error.message]
        else:
            flash(error.message, "danger")
        return False, error
    except (sa.exc.IntegrityError, StaleDataError) as error:
        # Two people saving the same thing at once: the checks passed for both, and the
        # database's constraints (or a row's version) caught the second.
        db.session.rollback()
        flash(_("Someone else changed the same data at the same moment. Reload the page and try again."), "danger")
        return False, DomainError(str(getattr(error, "orig", error)), code="conflict")
    if success:
        flash(success, "success")
    return True, result


def run_import(form: Any, import_file: Callable[..., Any]) -> Any | None:
    """Import the spreadsheet uploaded in ``form.file`` as the current person; the report, or None
    when the file was refused (the reason shows under the file field)."""
    upload = form.file.data
    ok, report = run_service(import_file, current_user, upload.read(), filename=upload.filename or "",
                             form=form, field_of=lambda error: "file")
    return report if ok else None


def paginate(query: sa.Select[Any], *, per_page: int = 50) -> Any:
    return db.paginate(query, page=request.args.get("page", 1, type=int), per_page=per_page, error_out=False)
