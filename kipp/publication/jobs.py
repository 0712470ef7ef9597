"""Outbox handlers of the publication: certificates, outcome notices.

Both are queued by :func:`kipp.publication.services.publish` and may be delivered more than once:
the notices skip the people who already hold the notice of that proposal, the certificates skip the
files their batch already wrote. Both commit as they go, so a long run shows its progress and a run
cut short resumes where it stopped.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.audit.services import record
from kipp.db import utcnow
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.judging.models import RunStatus
from kipp.notifications.models import Notification
from kipp.notifications.services import notify
from kipp.outbox.registry import handles
from kipp.proposals.models import Proposal
from kipp.proposals.states import NUMBERED
from kipp.publication import certificates, services
from kipp.publication.models import CertificateBatch
from kipp.spreadsheets import csv_bytes
from kipp.urls import path_for

NOTICE_COMMIT_EVERY = 500  # proposals
CERTIFICATE_COMMIT_EVERY = 5  # certificates


def notice_link(proposal_id: int) -> tuple[str, dict[str, int]]:
    return "agency_results.outcome", {"proposal_id": proposal_id}


@handles(services.NOTIFY_OUTCOMES)
def notify_outcomes(outbox_id: int, *, edition_id: int) -> None:
    """Tell every participating agency the outcome of each of its proposals: its Admin Lokal(s) and
    the UPPs of the proposal's unit, each once per proposal. Reads everything in a fixed number of
    queries, whatever the number of agencies."""
    edition = db.session.get(Edition, edition_id)
    winners = services.published_winners(edition) if edition is not None else None
    if winners is None:
        return
    numbered = [s.value for s in NUMBERED]
    in_edition = sa.and_(Proposal.edition_id == edition.id, Proposal.status.in_(numbered))
    proposals = db.session.execute(
        sa.select(Proposal.id, Proposal.number, Proposal.title, Proposal.status, Proposal.agency_id,
                  Proposal.unit_id, Proposal.group_id)
        .where(in_edition).order_by(Proposal.agency_id, Proposal.number)
    ).all()
    recipient_rule = sa.and_(User.active.is_(True), sa.or_(
        sa.and_(User.role == Role.ADMIN_LOKAL, User.agency_id.in_(sa.select(Proposal.agency_id).where(in_edition))),
        sa.and_(User.role == Role.UPP, User.unit_id.in_(sa.select(Proposal.unit_id).where(in_edition)))))

    def load_recipients() -> tuple[dict[int, list[User]], dict[int, list[User]]]:
        # One query; run again after each commit, which expires the loaded people (reading them one
        # by one afterwards would cost a query each).
        admins: dict[int, list[User]] = defaultdict(list)
        upps: dict[int, list[User]] = defaultdict(list)
        for user in db.session.scalars(sa.select(User).where(recipient_rule)):
            (admins[user.agency_id] if user.role is Role.ADMIN_LOKAL else upps[user.unit_id]).append(user)
        return admins, upps

    admins, upps = load_recipients()
    # Who already holds which proposal's notice (an earlier delivery of this message).
    held = {(user_id, link) for user_id, link in db.session.execute(
        sa.select(Notification.user_id, Notification.link).where(
            Notification.kind == services.RESULT_NOTICE,
            Notification.user_id.in_(sa.select(User.id).where(recipient_rule))))}
    tiers = services.tiers_of(edition)
    groups = {g.id: g for g in edition.groups}
    sent = 0
    agencies = set()
    for done, row in enumerate(proposals, start=1):
        agencies.add(row.agency_id)
        endpoint, values = notice_link(row.id)
        link = path_for(endpoint, **values)
        people = [u for u in (*admins.get(row.agency_id, ()), *upps.get(row.unit_id, ()))
                  if (u.id, link) not in held]
        if people:
            notify(people, services.RESULT_NOTICE, link=(endpoint, values), number=row.number, title=row.title,
                   edition=edition.name,
                   outcome=services.outcome(row.status, group=groups.get(row.group_id), tier=tiers.get(row.id)))
            held.update((u.id, link) for u in people)
            sent += len({u.id for u in people})
        if done % NOTICE_COMMIT_EVERY == 0 and done < len(proposals):
            db.session.commit()  # each notice is whole; a redelivery skips what is committed
            admins, upps = load_recipients()
    record(None, "results.outcomes_notified", winners,
           after={"proposals": len(proposals), "agencies": len(agencies), "notices": sent},
           label=edition.name)


# --- certificates --------------------------------------------------------------------------------


@handles(services.GENERATE_CERTIFICATES)
def generate_certificates(outbox_id: int, *, batch_id: int) -> None:
    """Write every certificate of the batch's edition as a PDF, then one ZIP of them all, committing
    the progress every few certificates. A redelivered batch keeps the files it already wrote."""
    batch = db.session.get(CertificateBatch, batch_id)
    if batch is None or batch.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return
    newer = db.session.scalar(sa.select(CertificateBatch.id).where(
        CertificateBatch.edition_id == batch.edition_id, CertificateBatch.id > batch.id).limit(1))
    if newer is not None:
        batch.status, batch.finished_at, batch.error = RunStatus.FAILED, utcnow(), f"superseded by batch {newer}"
        return
    edition = db.session.get(Edition, batch.edition_id)
    try:
        todo = certificates.certificates_of(edition)
        batch.status, batch.total, batch.done = RunStatus.RUNNING, len(todo), 0
        db.session.commit()
        folder = certificates.batch_folder(batch, edition.year)
        folder.mkdir(parents=True, exist_ok=True)
        renderer = certificates.Renderer(edition, [c.proposal_id for c in todo])
        for done, certificate in enumerate(todo, start=1):
            path = folder / certificate.filename
            if not path.is_file():
                _write_atomically(path, renderer.pdf(certificate))
            if done % CERTIFICATE_COMMIT_EVERY == 0 or done == len(todo):
                batch.done = done
                db.session.commit()
        archive = _write_archive(edition, batch, todo, renderer, folder)
    except Exception as error:
        db.session.rollback()
        failed = db.session.get(CertificateBatch, batch_id)
        failed.status, failed.finished_at, failed.error = RunStatus.FAILED, utcnow(), repr(error)[:2000]
        db.session.commit()
        raise
    batch.archive_name = archive.relative_to(certificates.root()).as_posix()
    batch.status, batch.done, batch.finished_at, batch.error = RunStatus.DONE, len(todo), utcnow(), None
    record(None, "certificates.generated", batch, after={"certificates": len(todo), "archive": batch.archive_name},
           label=edition.name)
    _remove_older_batches(edition, batch)


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def _write_archive(edition: Edition, batch: CertificateBatch, todo: list[certificates.Certificate],
                   renderer: certificates.Renderer, folder: Path) -> Path:
    """One ZIP of the batch's PDFs, with an index (number, title, agency, tier, code) as CSV."""
    index = [["nomor", "judul", "instansi", "unit", "tingkat", "kode_verifikasi", "berkas"]]
    path = folder.parent / f"kipp-{edition.year}-sertifikat-{folder.name}.zip"
    partial = path.with_name(path.name + ".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for certificate in todo:
            holder = renderer.holders[certificate.proposal_id]
            index.append([certificate.number, holder.title, holder.agency, holder.unit,
                          renderer.tier_title(certificate),
                          certificates.verification_code(certificate.proposal_id, certificate.tier),
                          certificate.filename])
            archive.write(folder / certificate.filename, certificate.filename)
        archive.writestr("daftar-sertifikat.csv", csv_bytes(index))
    os.replace(partial, path)
    return path


def _remove_older_batches(edition: Edition, batch: CertificateBatch) -> None:
    """Only the newest finished batch's files are kept (the rows stay, for the record)."""
    for old in db.session.scalars(sa.select(CertificateBatch).where(
            CertificateBatch.edition_id == edition.id, CertificateBatch.id < batch.id)):
        shutil.rmtree(certificates.batch_folder(old, edition.year), ignore_errors=True)
        archive = certificates.archive_path(old)
        if archive is not None:
            archive.unlink(missing_ok=True)
