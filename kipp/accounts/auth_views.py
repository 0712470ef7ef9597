"""Logging in and out, invitations, password reset and change, language: open to everyone."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from kipp.accounts import services
from kipp.accounts.forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, NewPasswordForm, ProfileForm
from kipp.accounts.models import TokenPurpose
from kipp.errors import DomainError
from kipp.extensions import db, limiter

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")


def _login_limit() -> str:
    return current_app.config["KIPP_LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            db.session.rollback()
            flash(_("The email or password is not correct, or the account is not active."), "danger")
        else:
            db.session.commit()
            session.clear()  # a fresh session at login: no fixation
            login_user(user)
            session.permanent = True
            return redirect(_safe_next(form.next.data))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
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
        except DomainError as error:
            db.session.rollback()
            form.password.errors = [error.message]
        else:
            db.session.commit()
            session.clear()
            login_user(user)
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
            services.change_password(
                current_user, current_password=form.current_password.data, new_password=form.password.data
            )
        except DomainError as error:
            db.session.rollback()
            form.password.errors = [error.message]
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # re-issue this session with the new version
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
    return render_template("auth/profile.html", form=form)


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
