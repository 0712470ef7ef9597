"""The secretariat's scoring pages: the scheme, progress and reminders, settings, consolidation
(matrix, reopen, reconcile, add a judge), the ranking; the team chairs' consolidation; who sees what;
and the number of queries of the big pages."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from kipp.audit.models import AuditEvent
from kipp.db import utcnow
from kipp.editions.kinds import StageKind
from kipp.judging.models import ConflictDeclaration, ConflictKind, Severity, Team
from kipp.notifications.models import Notification
from kipp.outbox.dispatch import release_committed
from kipp.scoring import services
from kipp.scoring.models import Reconciliation, ScoreReminder, ScoreSheet, ScoringScheme, SheetStatus
from tests.conftest import Login, count_queries
from tests.factories import AdminLokalFactory, EvaluatorFactory, PanelistFactory, SecretariatFactory
from tests.scoring_factories import aspect_keys, fill, scored_stage

pytestmark = pytest.mark.integration


def text(response):
    return response.get_data(as_text=True)


def base(stage, suffix=""):
    return f"/admin/scoring/{stage.edition.id}/evaluation{suffix}"


def settle(app, db_session):
    """Deliver what the last commits queued (the aggregation after each submitted sheet, then the
    stage's recomputation), in-process as the embedded default does, and read the results afresh."""
    release_committed(app)
    db_session.expire_all()


def sheet_of(db_session, stage, member, proposal):
    db_session.expire_all()
    return db_session.scalar(sa.select(ScoreSheet).where(
        ScoreSheet.scheme_id == stage.scheme.id, ScoreSheet.proposal_id == proposal.id,
        ScoreSheet.member_id == member.id))


@pytest.fixture()
def secretariat(login):
    user = SecretariatFactory(locale="en")
    login(user)
    return user


# --- the scheme and the list of stages --------------------------------------------------------------


def test_the_secretariat_creates_the_scheme_from_the_page(client, db_session, secretariat):
    from kipp.editions.services import create_from_template

    edition = create_from_template(None, year=2033, name="KIPP 2033")
    db_session.commit()
    listing = client.get("/admin/scoring/")
    assert listing.status_code == 200 and "KIPP 2033" in text(listing) and "no scheme yet" in text(listing)
    page = client.get(f"/admin/scoring/{edition.id}/evaluation")
    assert page.status_code == 200 and 'data-testid="no-scheme"' in text(page)
    created = client.post(f"/admin/scoring/{edition.id}/evaluation/create", follow_redirects=True)
    assert "The scoring scheme was created" in text(created)
    scheme = db_session.scalar(sa.select(ScoringScheme).where(ScoringScheme.edition_id == edition.id))
    assert scheme is not None and scheme.stage is StageKind.EVALUATION and scheme.aspects
    assert 'data-testid="totals"' in text(created)
    again = client.post(f"/admin/scoring/{edition.id}/evaluation/create", follow_redirects=True)
    assert "already has its scoring scheme" in text(again)
    assert client.get(f"/admin/scoring/{edition.id}/submission").status_code == 404
    assert client.post(f"/admin/scoring/{edition.id}/field_verification/create").status_code == 404
    assert client.get(f"/admin/scoring/{edition.id}/panel_review/settings").status_code == 404  # no scheme yet
    assert "Scoring" in text(client.get("/"))  # the menu entry


# --- progress, reminders, consolidation opening ----------------------------------------------------


def test_progress_counts_sheets_judges_clusters_and_late_judges(client, db_session, secretariat):
    stage = scored_stage(proposals=4, judges=4, per_proposal=3)  # 12 sheets expected
    first, second = stage.members[0], stage.members[1]
    for proposal in stage.proposals_of(first):
        fill(stage, first, proposal, 80)  # 3 submitted
    fill(stage, second, stage.proposals_of(second)[0], 70, submit=False)  # 1 draft
    stage.scheme.deadline = utcnow() - dt.timedelta(hours=1)
    db_session.commit()
    page = text(client.get(base(stage)))
    counts = dict(re.findall(r'data-testid="count-([a-z-]+)">([^<]+)<', page))
    assert counts == {"expected": "12", "submitted": "3", "drafts": "1", "not-started": "8", "percent": "25%"}
    rows = {int(m): body for m, body in re.findall(r'data-member="(\d+)"[^>]*>(.*?)</tr>', page, re.S)}
    assert 'data-testid="late"' not in rows[first.id]  # finished
    for member in stage.members[1:]:
        assert 'data-testid="late"' in rows[member.id]
    assert "3 late" in page
    clusters = re.findall(r'data-testid="cluster-row"><td>([^<]+)</td><td class="text-end">(\d+)</td>'
                          r'<td class="text-end">(\d+)</td><td class="text-end">(\d+)</td>', page)
    assert sorted((int(p), int(e)) for _c, p, e, _s in clusters) == [(2, 6), (2, 6)]
    assert sum(int(s) for *_x, s in clusters) == 3
    assert "WIB" in page and "closed" in page  # the deadline in WIB, and no time left


def test_reminders_go_to_unfinished_judges_by_notification_and_email(client, db_session, secretariat, outbox_mail):
    stage = scored_stage(proposals=4, judges=4, per_proposal=3)
    done = stage.members[0]
    for proposal in stage.proposals_of(done):
        fill(stage, done, proposal, 80)
    response = client.post(base(stage, "/remind"), follow_redirects=True)
    assert "3 judges were reminded" in text(response)
    notified = set(db_session.scalars(sa.select(Notification.user_id).where(Notification.kind == "scoring_reminder")))
    assert notified == {m.user_id for m in stage.members[1:]}
    mailed = {m.recipient for m in outbox_mail()}
    assert {m.user.email for m in stage.members[1:]} <= mailed and done.user.email not in mailed
    one = stage.members[2]
    client.post(base(stage, "/remind"), data={"member_id": one.id})
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ScoreReminder)
                             .where(ScoreReminder.member_id == one.id)) == 2
    nobody = client.post(base(stage, "/remind"), data={"member_id": done.id}, follow_redirects=True)
    assert "Nobody was reminded" in text(nobody)
    page = text(client.get(base(stage)))
    row = re.search(rf'data-member="{one.id}"[^>]*>(.*?)</tr>', page, re.S).group(1)
    assert row.count("WIB") == 1  # the last reminder (no save yet)


def test_opening_consolidation_is_recorded_once(client, db_session, secretariat):
    stage = scored_stage()
    response = client.post(base(stage, "/reveal"), follow_redirects=True)
    assert "Consolidation is open" in text(response) and 'data-testid="revealed"' in text(response)
    db_session.expire_all()
    assert db_session.get(ScoringScheme, stage.scheme.id).revealed_at is not None
    assert db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "scoring.revealed")) is not None
    again = client.post(base(stage, "/reveal"), follow_redirects=True)
    assert "already open" in text(again)


def test_recompute_and_its_status(app, client, db_session, secretariat):
    stage = scored_stage(proposals=2, judges=3, per_proposal=3)
    assert client.get(base(stage, "/status.json")).json["status"] is None
    nothing = client.post(base(stage, "/recompute"), follow_redirects=True)
    assert "nothing to compute" in text(nothing)
    fill(stage, stage.members[0], stage.proposals[0], 80)
    settle(app, db_session)
    client.post(base(stage, "/recompute"))
    body = client.get(base(stage, "/status.json")).json
    assert body["status"] == "done" and body["progress"] == 100 and body["stale"] is False


# --- settings and rubric ------------------------------------------------------------------------------


def _settings(**overrides):
    data = {"passing_grade": "", "disagreement_threshold": "10", "normalise_min_sheets": "5",
            "tie_break": "signifikansi", "visibility": "blind", "deadline": "", "reminder_days": "2"}
    data.update(overrides)
    return data


def test_settings_are_validated_and_saved(client, db_session, secretariat):
    stage = scored_stage()
    page = text(client.get(base(stage, "/settings")))
    assert "Available keys:" in page and "signifikansi" in page and "after_own" in page
    bad_key = client.post(base(stage, "/settings"), data=_settings(tie_break="signifikansi, keindahan"))
    assert bad_key.status_code == 422 and "Unknown aspect for the tie-break: keindahan" in text(bad_key)
    off_scale = client.post(base(stage, "/settings"), data=_settings(passing_grade="150"))
    assert off_scale.status_code == 422 and "The passing grade must be on the scale (0-100)" in text(off_scale)
    too_few = client.post(base(stage, "/settings"), data=_settings(normalise_min_sheets="1"))
    assert too_few.status_code == 422 and "2 or more" in text(too_few)
    db_session.expire_all()
    assert db_session.get(ScoringScheme, stage.scheme.id).passing_grade is None
    saved = client.post(base(stage, "/settings"), data=_settings(
        passing_grade="75", normalise="y", normalise_min_sheets="3", tie_break="signifikansi,kebaruan",
        visibility="after_own", deadline="2032-08-01T17:00", closed="y"))
    assert saved.status_code == 302
    db_session.expire_all()
    scheme = db_session.get(ScoringScheme, stage.scheme.id)
    assert scheme.passing_grade == Decimal("75") and scheme.normalise and scheme.normalise_min_sheets == 3
    assert scheme.tie_break == "signifikansi,kebaruan" and scheme.visibility.value == "after_own" and scheme.closed
    assert scheme.deadline == dt.datetime(2032, 8, 1, 10, 0, tzinfo=dt.timezone.utc)  # 17:00 WIB
    assert 'value="2032-08-01T17:00"' in text(client.get(base(stage, "/settings")))
    assert db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "scoring.settings_changed"))


def test_aspects_are_edited_until_sheets_exist(client, db_session, secretariat):
    stage = scored_stage()
    aspect = stage.scheme.aspects[0]
    band = aspect.bands[0]
    data = {"weight": "12,5", f"band-{band.id}-id": "Istimewa.", f"band-{band.id}-en": "Outstanding."}
    for other in aspect.bands[1:]:
        data[f"band-{other.id}-id"], data[f"band-{other.id}-en"] = other.description_id, other.description_en
    response = client.post(base(stage, f"/aspects/{aspect.id}"), data=data, follow_redirects=True)
    assert f"The aspect {aspect.key} was saved" in text(response)
    db_session.expire_all()
    assert aspect.weight == Decimal("12.5") and band.description_en == "Outstanding."
    fill(stage, stage.members[0], stage.proposals_of(stage.members[0])[0], 70, submit=False)
    refused = client.post(base(stage, f"/aspects/{aspect.id}"), data={**data, "weight": "20"}, follow_redirects=True)
    assert "the weights can no longer change" in text(refused)
    db_session.expire_all()
    assert aspect.weight == Decimal("12.5")


# --- consolidation ----------------------------------------------------------------------------------------


def _disagreeing(app, db_session, stage):
    """The first proposal scored 90, 60 and 30 by its three judges (flagged); the second 80, 80, 78."""
    disputed, calm = stage.proposals[0], stage.proposals[1]
    for member, score in zip(stage.judges_of(disputed), (90, 60, 30)):
        fill(stage, member, disputed, score, comment=f"Catatan {score}")
    for member, score in zip(stage.judges_of(calm), (80, 80, 78)):
        fill(stage, member, calm, score)
    settle(app, db_session)
    return disputed, calm


def test_the_consolidation_list_puts_flagged_proposals_first_and_filters(app, client, db_session, secretariat):
    stage = scored_stage(proposals=4, judges=4, per_proposal=3)
    disputed, calm = _disagreeing(app, db_session, stage)
    page = text(client.get(base(stage, "/consolidation")))
    order = [int(p) for p in re.findall(r'data-testid="consolidation-row" data-proposal="(\d+)"', page)]
    assert order[0] == disputed.id and set(order) == {p.id for p in stage.proposals}
    row = re.search(rf'data-proposal="{disputed.id}"[^>]*>(.*?)</tr>', page, re.S).group(1)
    assert "3/3" in row and "60.00" in row and "24.49" in row and "60.00" in row and "disagreement" in row
    flagged = text(client.get(base(stage, "/consolidation?flagged=1")))
    assert re.findall(r'data-proposal="(\d+)"', flagged) == [str(disputed.id)]
    found = text(client.get(base(stage, f"/consolidation?q={calm.number}")))
    assert re.findall(r'data-testid="consolidation-row" data-proposal="(\d+)"', found) == [str(calm.id)]


def test_the_matrix_shows_scores_comments_and_highlights_disagreement(app, client, db_session, secretariat):
    stage = scored_stage(proposals=4, judges=4, per_proposal=3)
    disputed, calm = _disagreeing(app, db_session, stage)
    page = text(client.get(base(stage, f"/consolidation/{disputed.id}")))
    assert 'data-testid="flag"' in page
    for score in (90, 60, 30):
        assert f"Catatan {score}" in page
    keys = aspect_keys(stage.scheme, disputed)
    # Mean 60 per aspect, threshold 10: 90 and 30 stand out, 60 does not.
    assert page.count('data-deviates="1"') == 2 * len(keys)
    assert re.search(r'data-testid="figure-sd">24.49<', page) and re.search(r'data-testid="figure-mean">60.00<', page)
    quiet = text(client.get(base(stage, f"/consolidation/{calm.id}")))
    assert 'data-deviates="1"' not in quiet and 'data-testid="flag"' not in quiet
    outsider = scored_stage(year=2034)
    assert client.get(base(stage, f"/consolidation/{outsider.proposals[0].id}")).status_code == 404


def test_reopening_a_sheet_needs_a_reason_is_audited_and_lets_the_judge_edit(app, client, db_session, secretariat):
    stage = scored_stage()
    proposal = stage.proposals[0]
    member = stage.judges_of(proposal)[0]
    sheet = fill(stage, member, proposal, 80)
    empty = client.post(base(stage, f"/sheets/{sheet.id}/reopen"), data={"reason": "  "}, follow_redirects=True)
    assert "Say why the sheet is reopened" in text(empty)
    assert sheet_of(db_session, stage, member, proposal).status is SheetStatus.SUBMITTED
    response = client.post(base(stage, f"/sheets/{sheet.id}/reopen"), data={"reason": "Nilai tertukar."},
                           follow_redirects=True)
    assert "given back" in text(response)
    reopened = sheet_of(db_session, stage, member, proposal)
    assert reopened.status is SheetStatus.DRAFT and reopened.reopened_count == 1
    event = db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "scoring.sheet_reopened"))
    assert event.after["reason"] == "Nilai tertukar." and event.actor_id == secretariat.id
    assert db_session.scalar(sa.select(Notification).where(Notification.user_id == member.user_id,
                                                           Notification.kind == "sheet_reopened"))
    judge = app.test_client()
    Login(judge)(member.user)
    assert judge.get(f"/score/evaluation/{proposal.id}").status_code == 200
    again = fill(stage, member, proposal, 85)
    assert again.status is SheetStatus.SUBMITTED and again.weighted_total == Decimal("85.00")
    not_submitted = fill(stage, stage.judges_of(proposal)[1], proposal, 70, submit=False)
    refused = client.post(base(stage, f"/sheets/{not_submitted.id}/reopen"), data={"reason": "x"},
                          follow_redirects=True)
    assert "Only a submitted sheet can be reopened" in text(refused)


def test_reconciliation_reopens_the_sheets_and_tells_the_judges(app, client, db_session, secretariat):
    stage = scored_stage(proposals=4, judges=4, per_proposal=3)
    disputed, _calm = _disagreeing(app, db_session, stage)
    empty = client.post(base(stage, f"/consolidation/{disputed.id}/reconcile"), data={"note": ""},
                        follow_redirects=True)
    assert "Write what the judges should look at again" in text(empty)
    response = client.post(base(stage, f"/consolidation/{disputed.id}/reconcile"),
                           data={"note": "Selisih 60 poin pada semua aspek."}, follow_redirects=True)
    assert "3 submitted sheets were reopened" in text(response)
    assert "Selisih 60 poin pada semua aspek." in text(response)  # the history
    for member in stage.judges_of(disputed):
        assert sheet_of(db_session, stage, member, disputed).status is SheetStatus.DRAFT
        assert db_session.scalar(sa.select(Notification).where(Notification.user_id == member.user_id,
                                                               Notification.kind == "sheet_reopened"))
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Reconciliation)) == 1


def test_adding_a_judge_respects_conflicts_of_interest(client, db_session, secretariat):
    stage = scored_stage(proposals=2, judges=5, per_proposal=2)
    proposal = stage.proposals[0]
    holders = {m.id for m in stage.judges_of(proposal)}
    free = [m for m in stage.members if m.id not in holders]
    hard, soft, clean = free[0], free[1], free[2]
    db_session.add_all([
        ConflictDeclaration(edition_id=stage.edition.id, user_id=hard.user_id, kind=ConflictKind.AGENCY,
                            agency_id=proposal.agency_id, severity=Severity.HARD, reason="Mantan pegawai."),
        ConflictDeclaration(edition_id=stage.edition.id, user_id=soft.user_id, kind=ConflictKind.AGENCY,
                            agency_id=proposal.agency_id, severity=Severity.SOFT, reason="Pernah menjadi mitra."),
    ])
    db_session.commit()
    page = text(client.get(base(stage, f"/consolidation/{proposal.id}")))
    options = set(re.findall(r'<option value="(\d+)"', page))
    assert options == {str(m.id) for m in free}
    url = base(stage, f"/consolidation/{proposal.id}/add-judge")
    refused = client.post(url, data={"member_id": hard.id}, follow_redirects=True)
    assert "Conflict of interest" in text(refused)
    warned = client.post(url, data={"member_id": soft.id}, follow_redirects=True)
    assert "was added" in text(warned) and "Warning (soft conflict)" in text(warned)
    added = client.post(url, data={"member_id": clean.id}, follow_redirects=True)
    assert "was added" in text(added) and "soft conflict" not in text(added)
    db_session.expire_all()
    assert {m for _p, m in services.published_pairs(stage.scheme, [proposal.id])} == holders | {soft.id, clean.id}
    assert db_session.scalar(sa.select(Notification).where(Notification.user_id == clean.user_id,
                                                           Notification.kind == "assignments_published"))


# --- ranking ------------------------------------------------------------------------------------------------


def test_the_ranking_shows_raw_and_normalised_totals_and_the_passing_grade(app, client, db_session, secretariat):
    stage = scored_stage(proposals=4, judges=3, per_proposal=3)
    client.post(base(stage, "/settings"), data=_settings(passing_grade="75", normalise="y",
                                                        normalise_min_sheets="2"))
    for proposal, score in zip(stage.proposals, (90, 80, 70, 60)):
        for member, delta in zip(stage.judges_of(proposal), (0, 2, -2)):
            fill(stage, member, proposal, score + delta)
    settle(app, db_session)
    page = text(client.get(base(stage, "/ranking")))
    assert 'data-testid="stale"' not in page
    order = [int(p) for p in re.findall(r'data-testid="rank-row" data-proposal="(\d+)"', page)]
    assert order == [p.id for p in stage.proposals]
    raw = re.findall(r'data-testid="raw">([^<]+)<', page)
    normalised = re.findall(r'data-testid="normalised">([^<]+)<', page)
    assert raw == ["90.00", "80.00", "70.00", "60.00"] and all(re.fullmatch(r"\d+\.\d\d", n) for n in normalised)
    assert page.count('data-testid="passes"') == 2 and page.count('data-testid="passing-line"') == 1
    assert page.index('data-testid="passing-line"') > page.index(f'data-proposal="{stage.proposals[1].id}"')
    assert "ranked by the normalised total" in page and "signifikansi" in page
    # A sheet changes: the ranking says it is out of date until it is computed again.
    sheet = sheet_of(db_session, stage, stage.judges_of(stage.proposals[3])[0], stage.proposals[3])
    client.post(base(stage, f"/sheets/{sheet.id}/reopen"), data={"reason": "Periksa lagi."})
    stage.scheme.ranking_stale = True  # as the reopening did; read before the worker catches up
    db_session.commit()
    stale = text(client.get(base(stage, "/ranking")))
    assert 'data-testid="stale"' in stale and "Sheets changed since the ranking was computed" in stale
    assert client.get(base(stage, "/ranking?group=nosuch")).status_code == 404


# --- team chairs -----------------------------------------------------------------------------------------


def test_a_chair_sees_their_team_consolidation_once_it_is_open(app, client, db_session, secretariat):
    stage = scored_stage(proposals=6, judges=6, per_proposal=2)
    team = Team(edition_id=stage.edition.id, stage=StageKind.EVALUATION, name="Tim A")
    db_session.add(team)
    db_session.flush()
    chair, colleague, outsider = stage.members[0], stage.members[1], stage.members[3]
    for member in (chair, colleague):
        member.team_id = team.id
    db_session.commit()
    set_chair = client.post(f"/admin/pools/{stage.edition.id}/evaluation/teams/{team.id}/chair",
                            data={"member_id": chair.id}, follow_redirects=True)
    assert "chairs the team Tim A" in text(set_chair) and 'data-testid="chair-badge"' in text(set_chair)
    db_session.expire_all()
    assert chair.is_chair and not colleague.is_chair
    assert db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "pool.chair_set"))
    mine = {p.id for p in stage.proposals if {chair.id, colleague.id} & {m.id for m in stage.judges_of(p)}}
    theirs = [p for p in stage.proposals if p.id not in mine]
    for proposal in stage.proposals:
        for member in stage.judges_of(proposal):
            fill(stage, member, proposal, 70)

    judge = app.test_client()
    Login(judge)(chair.user)
    chair_url = f"/score/team/{stage.edition.id}/evaluation"
    assert judge.get(chair_url).status_code == 404  # not open yet
    assert judge.get(f"{chair_url}/{stage.proposals[0].id}").status_code == 404
    client.post(base(stage, "/reveal"))
    listing = text(judge.get(chair_url))
    assert set(map(int, re.findall(r'data-testid="consolidation-row" data-proposal="(\d+)"', listing))) == mine
    assert "Tim A" in text(judge.get("/score/team/"))
    matrix = judge.get(f"{chair_url}/{min(mine)}")
    assert matrix.status_code == 200 and 'data-testid="matrix"' in text(matrix)
    assert 'data-testid="reopen-form"' not in text(matrix) and 'data-testid="add-judge-form"' not in text(matrix)
    assert judge.get(f"{chair_url}/{theirs[0].id}").status_code == 404
    assert judge.post(f"{chair_url}/{theirs[0].id}/reconcile", data={"note": "x"}).status_code == 404
    asked = judge.post(f"{chair_url}/{min(mine)}/reconcile", data={"note": "Samakan penilaian."},
                       follow_redirects=True)
    assert "2 submitted sheets were reopened" in text(asked)
    reconciliation = db_session.scalar(sa.select(Reconciliation))
    assert reconciliation.requested_by_id == chair.user_id and reconciliation.proposal_id == min(mine)
    some_sheet = db_session.scalar(sa.select(ScoreSheet.id).where(ScoreSheet.status == SheetStatus.SUBMITTED)
                                   .limit(1))
    assert judge.post(base(stage, f"/sheets/{some_sheet}/reopen"), data={"reason": "x"}).status_code == 404
    assert judge.get(base(stage, "/consolidation")).status_code == 404

    other = app.test_client()
    Login(other)(outsider.user)  # a judge of the stage, chairing nothing
    assert other.get(chair_url).status_code == 404
    assert other.get(f"{chair_url}/{min(mine)}").status_code == 404


def test_other_roles_get_404_everywhere(app, db_session):
    stage = scored_stage()
    proposal = stage.proposals[0]
    urls = ["/admin/scoring/", base(stage), base(stage, "/settings"), base(stage, "/consolidation"),
            base(stage, f"/consolidation/{proposal.id}"), base(stage, "/ranking"), base(stage, "/status.json")]
    for factory in (EvaluatorFactory, PanelistFactory, AdminLokalFactory):
        visitor = app.test_client()
        Login(visitor)(factory(locale="en"))
        for url in urls:
            assert visitor.get(url).status_code == 404, (factory.__name__, url)
        assert visitor.post(base(stage, "/reveal")).status_code == 404
    admin = app.test_client()
    Login(admin)(SecretariatFactory(locale="en"))
    assert admin.get(f"/score/team/{stage.edition.id}/evaluation").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(base(stage)).status_code == 302


# --- the number of queries does not grow with the stage ---------------------------------------------------


def _count_queries(client, db_session, url):
    return count_queries(client, db_session, url)[1]


def _scored(app, db_session, *, proposals, judges, per_proposal, year):
    stage = scored_stage(proposals=proposals, judges=judges, per_proposal=per_proposal, year=year)
    for n, proposal in enumerate(stage.proposals):
        for j, member in enumerate(stage.judges_of(proposal)):
            fill(stage, member, proposal, 50 + (n * 7 + j * 13) % 50, submit=(j + n) % 4 != 3)
    settle(app, db_session)
    return stage


@pytest.mark.parametrize("page", ["/consolidation", "/consolidation/{proposal}", "/ranking", "",
                                  "/consolidation?flagged=1&q=a"])
def test_queries_per_page_do_not_grow_with_the_stage(app, client, db_session, secretariat, page):
    small = _scored(app, db_session, proposals=3, judges=2, per_proposal=2, year=2035)
    large = _scored(app, db_session, proposals=12, judges=7, per_proposal=6, year=2036)
    counts = []
    urls = [base(stage, page.format(proposal=stage.proposals[0].id)) for stage in (small, large)]
    for url in urls:
        client.get(url)  # warm up
        counts.append(len(_count_queries(client, db_session, url)))
    assert counts[0] == counts[1], counts


def test_the_consolidation_list_is_paged(app, db_session, client, secretariat, monkeypatch):
    from kipp.scoring.views import ListPage

    monkeypatch.setattr(ListPage, "per_page", 2)
    stage = scored_stage(proposals=5, judges=3)
    base = f"/admin/scoring/{stage.edition.id}/evaluation/consolidation"
    numbers = []
    for page in (1, 2, 3):
        text = client.get(f"{base}?page={page}").get_data(as_text=True)
        numbers += [p.number for p in stage.proposals if p.number in text]
        assert "5 proposals" in text
    assert sorted(numbers) == sorted(p.number for p in stage.proposals)
    assert "Page 3 of 3" in client.get(f"{base}?page=9").get_data(as_text=True)
