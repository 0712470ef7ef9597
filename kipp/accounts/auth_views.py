"""Logging in and out, invitations, password reset and change, language: open to everyone."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from kipp.accounts import services, sessions, throttling
from kipp.accounts.forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, NewPasswordForm, ProfileForm
from kipp.accounts.models import TokenPurpose, User
from kipp.errors import DomainError
from kipp.extensions import db, limiter
from kipp.web import run_service

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")


def _login_limit() -> str:
    return current_app.config["KIPP_LOGIN_RATE_LIMIT"]


def _enter(user: User, token: str) -> None:
    """Put a committed session into a fresh cookie (a new cookie at login: no fixation)."""
    session.clear()
    login_user(user)
    session[sessions.COOKIE_KEY] = token
    session.permanent = True


def _client() -> dict[str, str | None]:
    return {"address": request.remote_addr, "user_agent": request.headers.get("User-Agent")}


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            entry = services.log_in(form.email.data, form.password.data, **_client(),
                                    device_cookie=request.cookies.get(throttling.DEVICE_COOKIE))
        except services.LoginDelayed as delayed:
            db.session.rollback()
            flash(delayed.message, "danger")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(delayed.seconds)}
        db.session.commit()  # a failure is counted, a success starts its session
        if entry is None:
            flash(_("The email or password is not correct, or the account is not active."), "danger")
        else:
            _enter(entry.user, entry.session_token)
            response = redirect(_safe_next(form.next.data))
            response.set_cookie(throttling.DEVICE_COOKIE, entry.device_cookie,
                                max_age=throttling.DEVICE_COOKIE_LIFETIME, httponly=True, samesite="Lax",
                                secure=current_app.config["SESSION_COOKIE_SECURE"])
            return response
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    if current_user.is_authenticated:
        services.log_out(g.login_session)
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(_("If an active account has this address, a link to set a new password is on its way. "
                "The link works once and expires."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


def _set_password_page(token: str, purpose: TokenPurpose, template: str) -> Any:
    try:
        holder = services.token_holder(token, purpose)
    except DomainError as error:
        return render_template("auth/link_problem.html", message=error.message), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.redeem_token(token, purpose, form.password.data)
            new_token = sessions.start(user, **_client())
        except DomainError as error:
            db.session.rollback()
            form.password.errors = [error.message]
        else:
            db.session.commit()
            _enter(user, new_token)
            flash(_("Your password is set. Welcome to KIPP."), "success")
            return redirect(url_for("home.index"))
    return render_template(template, form=form, holder=holder)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Any:
    return _set_password_page(token, TokenPurpose.INVITATION, "auth/accept_invitation.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    return _set_password_page(token, TokenPurpose.PASSWORD_RESET, "auth/reset_password.html")


@bp.route("/password/change", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, current_password=form.current_password.data,
                                     new_password=form.password.data, current=g.login_session)
        except DomainError as error:
            db.session.rollback()
            form.password.errors = [error.message]
        else:
            db.session.commit()
            flash(_("Your password has been changed. Your other sessions have ended."), "success")
            return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile() -> Any:
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        services.update_profile(current_user, name=form.name.data, phone=form.phone.data)
        services.set_locale(current_user, form.locale.data)
        db.session.commit()
        flash(_("Your account details have been saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form, login_sessions=sessions.active_sessions(current_user),
                           current_session=g.login_session)


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end_session(session_id: int) -> Any:
    run_service(sessions.end_own, current_user, session_id, success=_("The session has ended."))
    return redirect(url_for("auth.profile"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions() -> Any:
    run_service(sessions.end_others, current_user, g.login_session, success=_("Your other sessions have ended."))
    return redirect(url_for("auth.profile"))


@bp.route("/language", methods=["POST"])
def set_language() -> Any:
    locale = request.form.get("locale", "id")
    if locale not in ("id", "en"):
        locale = "id"
    session["locale"] = locale
    if current_user.is_authenticated:
        services.set_locale(current_user, locale)
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")))
