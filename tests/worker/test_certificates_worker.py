"""A real Celery worker (Redis, PostgreSQL) does what publishing the result queues: the outcome
notices and the certificate batch, whose PDFs and ZIP land in the instance folder it shares
with the web process."""

from __future__ import annotations

import zipfile
from typing import Any

import pytest
import sqlalchemy as sa

from tests.worker.test_celery_worker import _app, wait_for, worker_env  # noqa: F401  (the worker fixture)

pytestmark = pytest.mark.worker


def test_the_worker_writes_the_certificates_and_the_notices(worker_env: dict[str, str]) -> None:  # noqa: F811
    from kipp.accounts.models import User
    from kipp.editions.models import Edition
    from kipp.extensions import db
    from kipp.judging.models import RunStatus
    from kipp.notifications.models import Notification
    from kipp.publication import certificates, services
    from kipp.publication.models import CertificateBatch
    from tests.publication_factories import all_participants, winners_edition

    app = _app(worker_env)
    assert app.extensions["celery"].conf.task_always_eager is False
    with app.app_context():
        scene = winners_edition(year=2041)
        edition_id, secretariat_id = scene.edition.id, scene.secretariat.id
        expected = len(scene.winners) + len(scene.finalists_only)
        participants = len(all_participants(scene))
        db.session.commit()
    with app.app_context():
        services.publish(db.session.get(User, secretariat_id), db.session.get(Edition, edition_id))
        db.session.commit()

    def finished() -> Any:
        with app.app_context():
            batch = db.session.scalar(sa.select(CertificateBatch).where(CertificateBatch.edition_id == edition_id))
            if batch is None or batch.status not in (RunStatus.DONE, RunStatus.FAILED):
                return None
            db.session.expunge(batch)
            return batch

    batch = wait_for(finished, timeout=120)
    assert batch is not None, "the worker did not finish the certificate batch"
    assert (batch.status, batch.total, batch.done) == (RunStatus.DONE, expected, expected), batch.error
    with app.app_context():
        archive = certificates.archive_path(batch)
        assert archive is not None and archive.is_file()
        with zipfile.ZipFile(archive) as opened:
            pdfs = [n for n in opened.namelist() if n.endswith(".pdf")]
            assert len(pdfs) == expected and all(opened.read(n).startswith(b"%PDF") for n in pdfs)

    def notified() -> int:
        with app.app_context():
            links = db.session.scalars(sa.select(Notification.link).distinct().where(
                Notification.kind == services.RESULT_NOTICE)).all()
            return len(links) if len(links) == participants else 0

    assert wait_for(notified, timeout=60) == participants, "not every participating proposal's notice arrived"
