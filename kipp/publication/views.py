"""The secretariat's publication: results, certificates, workbook, outcome notices."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.judging.models import RunStatus
from kipp.progress.stages import STATUS_LABELS, status_of
from kipp.publication import certificates, services, workbook
from kipp.publication.forms import ActionForm
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("publication", __name__, url_prefix="/admin/editions")
audience(bp, Role.SECRETARIAT)

# Seconds between reloads of the page while a certificate batch runs (a meta refresh: no script).
REFRESH_SECONDS = 3


@bp.route("/<int:edition_id>/publication")
def index(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    winners = services.winners_list(edition)
    batch = services.latest_batch(edition)
    running = batch is not None and batch.status in (RunStatus.QUEUED, RunStatus.RUNNING)
    agencies, proposals = services.participation(edition)
    return render_template(
        "publication/index.html", edition=edition, winners=winners, readiness=services.readiness(edition),
        announcement_label=STATUS_LABELS[status_of(edition, StageKind.ANNOUNCEMENT)],
        results=services.public_results(edition, preview=True),
        batch=batch, done_batch=services.latest_batch(edition, done=True), running=running,
        refresh_seconds=REFRESH_SECONDS if running else None, agencies=agencies, proposals=proposals,
        published_by=db.session.get(User, winners.published_by_id) if winners and winners.published_by_id else None,
        form=ActionForm(), pdf_unavailable=certificates.unavailable())


@bp.route("/<int:edition_id>/publication/publish", methods=["POST"])
def publish(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    if not ActionForm().validate():
        abort(400)
    run_service(services.publish, current_user, edition,
                success=_("The results are published. The agencies are being told their outcomes and the "
                          "certificates are being generated."))
    return redirect(url_for("publication.index", edition_id=edition.id))


@bp.route("/<int:edition_id>/publication/certificates", methods=["POST"])
def regenerate(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    if not ActionForm().validate():
        abort(400)
    run_service(services.request_certificates, current_user, edition,
                success=_("The certificates are being generated again."))
    return redirect(url_for("publication.index", edition_id=edition.id))


@bp.route("/<int:edition_id>/publication/certificates.zip")
def archive(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    batch = services.latest_batch(edition, done=True)
    path = certificates.archive_path(batch) if batch is not None else None
    if path is None or not path.is_file():
        flash(_("No certificate archive is ready yet."), "warning")
        return redirect(url_for("publication.index", edition_id=edition.id))
    return send_file(path, mimetype="application/zip", as_attachment=True,
                     download_name=f"kipp-{edition.year}-sertifikat.zip")


@bp.route("/<int:edition_id>/publication/certificates/<int:proposal_id>.pdf")
def certificate(edition_id: int, proposal_id: int) -> Any:
    """One certificate, to check it before (or after) publishing."""
    edition = get_or_404(Edition, edition_id)
    found = certificates.certificate_for(edition, proposal_id)
    if found is None:
        abort(404)
    if certificates.unavailable() is not None:
        return render_template("errors/error.html", code=503,
                               message=_("PDF printing is not available on this server.")), 503
    return Response(certificates.pdf_bytes(edition, found), mimetype=certificates.PDF_MIMETYPE,
                    headers={"Content-Disposition": f"inline; filename={found.filename}"})


@bp.route("/<int:edition_id>/publication/results.xlsx")
def results_xlsx(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    return Response(workbook.results_workbook(edition), mimetype=workbook.XLSX_MIMETYPE,
                    headers={"Content-Disposition": f"attachment; filename={workbook.filename(edition)}"})
