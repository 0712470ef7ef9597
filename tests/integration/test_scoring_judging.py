"""A judge scores in the web form: dashboard, sheet, drafts, version check, submit and lock,
conflicts, blindness in every side channel, and the aggregation that follows."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from kipp.judging.models import Assignment, AssignmentState
from kipp.notifications.models import Notification
from kipp.outbox.models import OutboxMessage
from kipp.scoring import aggregation, services
from kipp.scoring.models import AggregationRun, ProposalScore, ScoreSheet, SheetStatus, Visibility
from tests.conftest import Login
from tests.scoring_factories import aspect_keys, expected_total, fill, scored_stage

pytestmark = pytest.mark.integration

SCORES = {"latar_belakang": 70, "kebaruan": 80, "implementasi": 60, "signifikansi": 90, "adaptabilitas": 75,
          "sumber_daya": 65, "keberlanjutan": 85}


def judge_client(app, member):
    client = app.test_client()
    Login(client)(member.user)
    return client


def form(scores, *, version=0, comment="Alasan penilaian.", **extra):
    data = {"version": str(version), **{f"score-{k}": str(v) for k, v in scores.items()},
            **{f"comment-{k}": comment for k in scores}, **extra}
    return data


def url(proposal, suffix=""):
    return f"/score/evaluation/{proposal.id}{suffix}"


def sheet_of(db_session, stage, member, proposal):
    db_session.expire_all()
    return db_session.scalar(sa.select(ScoreSheet).where(
        ScoreSheet.scheme_id == stage.scheme.id, ScoreSheet.proposal_id == proposal.id,
        ScoreSheet.member_id == member.id))


def test_the_dashboard_lists_the_judges_proposals_with_their_state_and_deadline(app, db_session):
    stage = scored_stage(proposals=4, judges=4)
    member = stage.members[0]
    mine = stage.proposals_of(member)
    fill(stage, member, mine[0], 80)
    fill(stage, member, mine[1], 70, submit=False)
    client = judge_client(app, member)
    page = client.get("/score/").get_data(as_text=True)
    for proposal in mine:
        assert proposal.number in page
    others = [p for p in stage.proposals if p not in mine]
    for proposal in others:
        assert proposal.number not in page
    assert f"1 of {len(mine)} submitted" in page
    assert 'data-status="submitted"' in page and 'data-status="draft"' in page
    assert 'data-status="not_started"' in page
    assert "Deadline" in page


def test_the_sheet_shows_the_proposal_aspects_weights_and_rubric(app, db_session):
    stage = scored_stage(proposals=2, judges=3)
    member = stage.members[0]
    proposal = stage.proposals_of(member)[0]
    page = judge_client(app, member).get(url(proposal)).get_data(as_text=True)
    assert 'data-testid="proposal-print"' in page
    assert "Significance" in page or "Signifikansi" in page
    assert "weight 30%" in page and "weight 5%" in page
    assert page.count('data-testid="aspect"') == len(aspect_keys(stage.scheme, proposal))
    assert "86–100" in page  # the rubric's top band


def test_a_judge_gets_404_for_a_proposal_not_assigned_to_them(app, db_session):
    stage = scored_stage(proposals=4, judges=4, per_proposal=2)
    member = stage.members[0]
    not_mine = next(p for p in stage.proposals if p not in stage.proposals_of(member))
    client = judge_client(app, member)
    assert client.get(url(not_mine)).status_code == 404
    assert client.post(url(not_mine, "/autosave"), data=form(SCORES)).status_code == 404
    assert client.post(url(not_mine), data=form(SCORES, action="submit")).status_code == 404
    assert client.get(f"/score/panel_review/{stage.proposals_of(member)[0].id}").status_code == 404
    assert client.get(f"/score/nonsense/{not_mine.id}").status_code == 404


def test_drafts_save_and_autosave_with_a_version_check_between_tabs(app, db_session):
    stage = scored_stage(proposals=2, judges=3)
    member = stage.members[0]
    proposal = stage.proposals_of(member)[0]
    client = judge_client(app, member)
    first = client.post(url(proposal, "/autosave"), data=form({"signifikansi": 90}))
    assert first.status_code == 200 and first.json["ok"] and first.json["version"] == 1
    assert first.json["total"] is None  # incomplete
    second = client.post(url(proposal, "/autosave"), data=form({"signifikansi": 91}, version=1))
    assert second.json["version"] == 2
    # A second tab still showing version 1 does not overwrite the newer save.
    stale = client.post(url(proposal, "/autosave"), data=form({"signifikansi": 10}, version=1))
    assert stale.status_code == 409 and stale.json["code"] == "stale"
    assert "another window or tab" in stale.json["message"]
    assert sheet_of(db_session, stage, member, proposal).scores["signifikansi"]["value"] == "91"
    # The form's own button, from an old page, keeps what was typed and says why.
    page = client.post(url(proposal), data=form({"signifikansi": 12}, version=1, action="save"))
    assert page.status_code == 409
    text = page.get_data(as_text=True)
    assert "another window or tab" in text and 'value="12"' in text


def test_bad_scores_are_refused_with_the_aspect_named_and_nothing_typed_is_lost(app, db_session):
    stage = scored_stage(proposals=2, judges=3)
    member = stage.members[0]
    proposal = stage.proposals_of(member)[0]
    client = judge_client(app, member)
    bad = client.post(url(proposal, "/autosave"), data=form({"signifikansi": 140, "kebaruan": 70}))
    assert bad.status_code == 422 and "signifikansi" in bad.json["problems"]
    assert "between 0 and 100" in bad.json["problems"]["signifikansi"]
    scores = dict(SCORES, signifikansi=100)
    response = client.post(url(proposal), data=form(scores, action="submit", comment=""))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "A score at either end of the scale needs a comment." in text
    assert 'value="100"' in text and 'value="85"' in text
    incomplete = client.post(url(proposal), data=form({"signifikansi": 50}, action="submit"))
    assert incomplete.status_code == 422 and "Give a score." in incomplete.get_data(as_text=True)
    assert sheet_of(db_session, stage, member, proposal) is None  # nothing half-saved


def test_submitting_computes_the_weighted_total_locks_the_sheet_and_goes_on(app, db_session):
    stage = scored_stage(proposals=3, judges=3)
    member = stage.members[0]
    proposal = stage.proposals_of(member)[0]
    client = judge_client(app, member)
    response = client.post(url(proposal), data=form(SCORES, action="submit"))
    assert response.status_code == 302
    sheet = sheet_of(db_session, stage, member, proposal)
    assert sheet.status is SheetStatus.SUBMITTED
    # 70x10 + 80x15 + 60x5 + 90x30 + 75x20 + 65x5 + 85x15 = 8000 over weight 100
    assert sheet.weighted_total == expected_total(stage, proposal, SCORES) == Decimal("80.00")
    page = client.get(url(proposal)).get_data(as_text=True)
    assert 'data-testid="sheet-locked"' in page and "80.00" in page
    refused = client.post(url(proposal, "/autosave"), data=form(SCORES, version=sheet.version))
    assert refused.status_code == 409 and refused.json["code"] == "locked"
    # "Save and next" from another proposal goes to the next unfinished one.
    second, third = stage.proposals_of(member)[1:3]
    moved = client.post(url(second), data=form({"kebaruan": 70}, action="next"))
    assert moved.headers["Location"].endswith(url(third))


def test_a_submitted_sheet_queues_aggregation_which_is_idempotent(app, db_session):
    stage = scored_stage(proposals=2, judges=3)
    proposal = stage.proposals[0]
    judges = stage.judges_of(proposal)
    for score, member in zip((60, 70, 95), judges):
        response = judge_client(app, member).post(
            url(proposal), data=form({k: score for k in aspect_keys(stage.scheme, proposal)}, action="submit"))
        assert response.status_code == 302
    # Delivered in-process after each commit (a Celery worker in production).
    tasks = db_session.scalars(sa.select(OutboxMessage.task).where(
        OutboxMessage.task == services.AGGREGATE_PROPOSAL)).all()
    assert len(tasks) == 3
    db_session.expire_all()
    row = db_session.scalar(sa.select(ProposalScore).where(ProposalScore.proposal_id == proposal.id))
    assert row.sheets == 3 and row.raw_total == Decimal("75.00")
    assert row.spread == Decimal("35.00") and row.std_dev == Decimal("14.72") and row.disagreement
    assert row.rank == 1
    assert db_session.scalar(sa.select(AggregationRun.status).order_by(AggregationRun.id.desc()).limit(1)).value \
        == "done"
    before = [(r.proposal_id, r.raw_total, r.std_dev, r.rank, r.aspect_means) for r in
              db_session.scalars(sa.select(ProposalScore).order_by(ProposalScore.proposal_id))]
    for _ in range(2):
        run = aggregation.queue_recompute(stage.scheme)
        db_session.commit()
        aggregation.recompute_stage(0, run_id=run.id)
        db_session.commit()
        aggregation.aggregate_proposal(0, scheme_id=stage.scheme.id, proposal_id=proposal.id)
        db_session.commit()
    db_session.expire_all()
    after = [(r.proposal_id, r.raw_total, r.std_dev, r.rank, r.aspect_means) for r in
             db_session.scalars(sa.select(ProposalScore).order_by(ProposalScore.proposal_id))]
    assert after == before


def test_declaring_a_conflict_discards_the_sheet_and_reassigns(app, db_session):
    stage = scored_stage(proposals=2, judges=4, per_proposal=3)
    proposal = stage.proposals[0]
    member = stage.judges_of(proposal)[0]
    client = judge_client(app, member)
    client.post(url(proposal, "/autosave"), data=form({"signifikansi": 90}))
    empty = client.post(url(proposal, "/conflict"), data={"reason": ""})
    assert empty.status_code == 302
    assert sheet_of(db_session, stage, member, proposal).status is SheetStatus.DRAFT
    response = client.post(url(proposal, "/conflict"), data={"reason": "Saya pernah membina unit ini."})
    assert response.status_code == 302 and response.headers["Location"].endswith("/score/")
    assert sheet_of(db_session, stage, member, proposal).status is SheetStatus.DISCARDED
    removed = db_session.scalar(sa.select(Assignment).where(Assignment.proposal_id == proposal.id,
                                                            Assignment.member_id == member.id))
    assert removed.state is AssignmentState.REMOVED
    assert db_session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.task == "kipp.assignment.reassign_proposal")) == 1
    assert client.get(url(proposal)).status_code == 404


def test_blind_judges_see_nothing_of_their_colleagues_until_consolidation(app, db_session):
    stage = scored_stage(proposals=1, judges=3)
    proposal = stage.proposals[0]
    first, second, third = stage.judges_of(proposal)
    secret = "Komentar-rahasia-juri-pertama"
    fill(stage, first, proposal, 37, comment=secret)
    fill(stage, second, proposal, 41, comment=secret)
    assert stage.scheme.visibility is Visibility.BLIND
    client = judge_client(app, third)
    own = client.post(url(proposal, "/autosave"), data=form({"signifikansi": 66}))
    channels = {
        "sheet": client.get(url(proposal)).get_data(as_text=True),
        "dashboard": client.get("/score/").get_data(as_text=True),
        "home": client.get("/").get_data(as_text=True),
        "autosave": json.dumps(own.json),
        "inbox": client.get("/inbox/").get_data(as_text=True) if client.get("/inbox/").status_code == 200 else "",
        "notifications": " ".join(n.message for n in db_session.scalars(
            sa.select(Notification).where(Notification.user_id == third.user_id))),
    }
    for name, text in channels.items():
        assert secret not in text, name
        assert "37.00" not in text and "41.00" not in text, name
        assert "of 3 judges" not in text and "2 of 3" not in text, name
        assert first.user.name not in text and second.user.name not in text, name
    assert 'data-testid="colleagues"' not in channels["sheet"]
    # The judges' exports and files are the secretariat's: 404 for a judge.
    edition, stage_kind = stage.edition.id, "evaluation"
    for path in (f"/admin/scoring/{edition}/{stage_kind}/sheets.xlsx", f"/admin/scoring/{edition}/{stage_kind}/ranking",
                 f"/admin/scoring/{edition}/{stage_kind}/consolidation/{proposal.id}"):
        assert client.get(path).status_code == 404, path
    # Consolidation opens: now they may.
    services.reveal(None, stage.scheme)
    db_session.commit()
    opened = client.get(url(proposal)).get_data(as_text=True)
    assert 'data-testid="colleagues"' in opened and first.user.name in opened and "37.00" in opened


def test_after_own_submission_a_judge_sees_the_others(app, db_session):
    stage = scored_stage(proposals=1, judges=3)
    proposal = stage.proposals[0]
    first, second, third = stage.judges_of(proposal)
    stage.scheme.visibility = Visibility.AFTER_OWN
    db_session.commit()
    fill(stage, first, proposal, 37)
    client = judge_client(app, third)
    assert 'data-testid="colleagues"' not in client.get(url(proposal)).get_data(as_text=True)
    client.post(url(proposal), data=form(SCORES, action="submit"))
    page = client.get(url(proposal)).get_data(as_text=True)
    assert 'data-testid="colleagues"' in page and "37.00" in page and second.user.name not in page


def test_automatic_reminders_go_to_unfinished_judges_once_a_day_near_the_deadline(app, db_session):
    import datetime as dt

    from kipp.db import utcnow
    from kipp.scoring.jobs import remind_judges

    stage = scored_stage(proposals=2, judges=3, per_proposal=3)
    done, late, idle = stage.members
    for proposal in stage.proposals:
        fill(stage, done, proposal, 75)
    fill(stage, late, stage.proposals[0], 70, submit=False)
    now = utcnow()
    stage.scheme.deadline, stage.scheme.reminder_days = now + dt.timedelta(days=5), 2
    db_session.commit()
    assert remind_judges(now=now) == 0  # not yet: more than 2 days before the deadline
    assert remind_judges(now=now + dt.timedelta(days=3, hours=1)) == 2
    notes = db_session.scalars(sa.select(Notification).where(Notification.kind == "scoring_reminder")).all()
    assert sorted(n.user_id for n in notes) == sorted([late.user_id, idle.user_id])
    assert any("2 unfinished score sheet(s)" in n.message for n in notes)
    assert remind_judges(now=now + dt.timedelta(days=3, hours=5)) == 0  # once a day
    assert remind_judges(now=now + dt.timedelta(days=4, hours=2)) == 2
    stage.scheme.closed = True
    db_session.commit()
    assert remind_judges(now=now + dt.timedelta(days=6)) == 0


def test_the_judge_dashboard_and_sheet_run_a_constant_number_of_queries(app, db_session):
    from tests.conftest import count_queries as _count_queries

    counts = {}
    for size, year in ((3, 2033), (12, 2034)):
        stage = scored_stage(proposals=size, judges=3, per_proposal=3, year=year)
        member = stage.members[0]
        mine = stage.proposals_of(member)
        for proposal in mine[: size // 2]:
            fill(stage, member, proposal, 75)
        client = judge_client(app, member)
        last_id = mine[-1].id
        dashboard = _count_queries(client, db_session, "/score/")
        assert dashboard[0].get_data(as_text=True).count("<tr data-status") == size
        sheet = _count_queries(client, db_session, f"/score/evaluation/{last_id}")
        counts[size] = (len(dashboard[1]), len(sheet[1]))
    assert counts[3] == counts[12], counts
