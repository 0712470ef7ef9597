"""kipp: the system that runs KIPP, Indonesia's public-service innovation competition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, Celery. No migrations here."""
    from kipp import security, web
    from kipp.config import load_config
    from kipp.db import begin_requests_deferred
    from kipp.extensions import babel, celery_init_app, csrf, db, limiter, login_manager, migrate
    from kipp.i18n import select_locale, select_timezone
    from kipp.outbox.registry import load_handler_modules

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_relative_config=True,
    )
    app.config.update(load_config(Path(app.instance_path), env))
    if overrides:
        app.config.update(overrides)

    db.init_app(app)
    begin_requests_deferred(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    login_manager.init_app(app)
    celery_init_app(app)

    import kipp.models  # noqa: F401  every table registered before anything queries
    load_handler_modules()
    security.init_app(app)
    web.init_app(app)
    _register_blueprints(app)

    from kipp.cli import kipp_cli

    app.cli.add_command(kipp_cli)
    return app


def _register_blueprints(app: Flask) -> None:
    from kipp.accounts.views import bp as accounts_bp
    from kipp.agencies.views import bp as agencies_bp
    from kipp.assignment.views import bp as assignment_bp
    from kipp.assignment.views import review_bp
    from kipp.audit.views import bp as audit_bp
    from kipp.editions.views import bp as editions_bp
    from kipp.home.views import bp as home_bp
    from kipp.notifications.views import bp as notifications_bp
    from kipp.accounts.auth_views import bp as auth_bp
    from kipp.agencies.local_views import bp as local_bp
    from kipp.innovations.views import bp as innovations_bp
    from kipp.judging.judge_views import bp as judge_bp
    from kipp.judging.views import bp as pools_bp
    from kipp.notifications.inbox_views import bp as inbox_bp
    from kipp.proposals.agency_views import bp as agency_proposals_bp
    from kipp.proposals.deadline_views import bp as deadlines_bp
    from kipp.proposals.secretariat_views import bp as proposals_admin_bp
    from kipp.screening.agency_views import bp as correction_bp
    from kipp.screening.public_views import bp as public_bp
    from kipp.screening.views import bp as screening_bp
    from kipp.scoring.chair_views import bp as scoring_chair_bp
    from kipp.scoring.judge_views import bp as scoring_judge_bp
    from kipp.scoring.report_views import bp as scoring_reports_bp
    from kipp.scoring.views import bp as scoring_bp
    from kipp.progress.views import bp as progress_bp
    from kipp.selection.views import bp as selection_bp
    from kipp.selection.plenary_views import bp as plenary_bp
    from kipp.objections.views import bp as objections_bp
    from kipp.objections.public_views import bp as public_objections_bp
    from kipp.presentations.views import bp as presentations_bp
    from kipp.presentations.agency_views import bp as agency_presentations_bp
    from kipp.verification.views import bp as verification_bp
    from kipp.verification.judge_views import bp as field_bp
    from kipp.publication.views import bp as publication_bp
    from kipp.publication.public_views import bp as results_bp
    from kipp.publication.agency_views import bp as agency_results_bp

    for blueprint in (
        auth_bp, home_bp, accounts_bp, agencies_bp, local_bp, editions_bp, audit_bp, notifications_bp,
        innovations_bp, inbox_bp, agency_proposals_bp, proposals_admin_bp, deadlines_bp, assignment_bp, review_bp,
        screening_bp, correction_bp, public_bp, pools_bp, judge_bp, scoring_bp, scoring_reports_bp, scoring_judge_bp,
        scoring_chair_bp, progress_bp, selection_bp, plenary_bp, objections_bp, public_objections_bp,
        presentations_bp, agency_presentations_bp, verification_bp, field_bp, publication_bp, results_bp,
        agency_results_bp,
    ):
        app.register_blueprint(blueprint)
