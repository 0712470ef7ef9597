"""A stage's recomputation as the secretariat follows it: a run that failed runs again when its
message comes back (the sweep publishes what is not done), and ends DONE with the rows a single
run gives."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from kipp.db import utcnow
from kipp.outbox.dispatch import sweep
from kipp.outbox.models import OutboxMessage
from kipp.scoring import aggregation
from kipp.scoring.models import ProposalScore
from kipp.scoring.services import RECOMPUTE_STAGE
from tests.factories import SecretariatFactory
from tests.scoring_factories import fill, scored_stage

pytestmark = pytest.mark.integration


def _stored(db_session, stage):
    db_session.expire_all()
    return {row.proposal_id: (row.sheets, row.raw_total, row.std_dev, row.rank) for row in db_session.scalars(
        sa.select(ProposalScore).where(ProposalScore.scheme_id == stage.scheme.id))}


def _single_run(stage):
    return {f.proposal_id: (f.sheets, f.raw_total, f.std_dev, f.rank)
            for f in aggregation.compute(stage.scheme, with_ranking=True).values()}


def test_a_failed_recomputation_runs_again_and_ends_done(app, client, login, db_session, monkeypatch):
    stage = scored_stage(proposals=3, judges=3)
    for proposal in stage.proposals:
        for n, member in enumerate(stage.judges_of(proposal)):
            fill(stage, member, proposal, 60 + 10 * n + proposal.id % 7)
    login(SecretariatFactory(locale="en"))  # the end of the request delivers the aggregation in-process
    status_url = f"/admin/scoring/{stage.edition.id}/evaluation/status.json"
    assert client.get(status_url).json == {"status": "done", "progress": 100, "stale": False}
    write = aggregation._write

    def disk_full(scheme, figures, *, with_ranking, **kwargs):
        if with_ranking:
            raise OSError("the disk is full")
        return write(scheme, figures, with_ranking=with_ranking, **kwargs)

    monkeypatch.setattr(aggregation, "_write", disk_full)
    assert client.post(f"/admin/scoring/{stage.edition.id}/evaluation/recompute").status_code == 302
    assert client.get(status_url).json["status"] == "failed"
    message = db_session.scalar(sa.select(OutboxMessage).where(OutboxMessage.task == RECOMPUTE_STAGE)
                                .order_by(OutboxMessage.id.desc()).limit(1))
    assert message.processed_at is None and "the disk is full" in message.last_error
    monkeypatch.undo()
    assert sweep(app, now=utcnow() + dt.timedelta(hours=1)) == 1
    assert client.get(status_url).json == {"status": "done", "progress": 100, "stale": False}
    db_session.refresh(message)
    assert message.processed_at is not None
    assert _stored(db_session, stage) == _single_run(stage)
