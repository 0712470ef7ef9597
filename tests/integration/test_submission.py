"""The submission stage as agencies live it, through the test client."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import sqlalchemy as sa

from kipp.db import utcnow
from kipp.editions.kinds import StageKind
from kipp.innovations.kinds import AwardTier
from kipp.notifications.models import Notification
from kipp.proposals.models import Proposal, ProposalEvent
from kipp.proposals.states import ProposalStatus
from tests.conftest import Login
from tests.factories import AdminLokalFactory, SecretariatFactory, UnitFactory, UppFactory
from tests.innovation_factories import AwardFactory, InnovationFactory

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture()
def season(app, db_session):
    """An edition whose submission stage is open now, an agency with a unit, its UPP and Admin Lokal."""
    from kipp.editions.services import create_from_template

    edition = create_from_template(None, year=2031, name="KIPP 2031")
    stage = edition.stage(StageKind.SUBMISSION)
    stage.opens_at = utcnow() - dt.timedelta(days=10)
    stage.closes_at = utcnow() + dt.timedelta(days=10)
    for other in edition.stages:
        if other.kind is StageKind.SCREENING:
            other.opens_at = stage.closes_at
            other.closes_at = stage.closes_at + dt.timedelta(days=10)
    admin = AdminLokalFactory()
    unit = UnitFactory(agency=admin.agency)
    upp = UppFactory(unit=unit)
    db_session.commit()
    return {"edition": edition, "admin": admin, "unit": unit, "upp": upp, "umum": edition.groups[0]}


def as_user(app, user) -> Any:
    client = app.test_client()
    Login(client)(user)
    return client


def start(client, season) -> Proposal:
    response = client.post("/proposals/new", data={"group_id": season["umum"].id, "innovation_id": 0,
                                                   "unit_id": season["unit"].id})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    proposal_id = int(response.headers["Location"].split("/")[-2])
    return proposal_id


def complete_form(proposal: Proposal, season, **overrides) -> dict[str, Any]:
    group = season["umum"]
    data: dict[str, Any] = {
        "version": proposal.version, "title": "Layanan Adminduk Keliling", "category_id": season["edition"].categories[0].id,
        "innovation_start_date": "2020-01-15", "sdg-present": "1", "sdg": ["1", "16"],
        "video_url": "https://www.youtube.com/watch?v=abc", "is_application": "no",
        "spbe_app_name": "", "spbe_app_url": "", "spbe_platform": "",
    }
    for section in group.sections:
        data[f"answer-{section.id}"] = "Kata " * 5
        if section.evidence_required:
            data[f"evidence-{section.id}"] = (io.BytesIO(PDF), f"bukti-{section.key}.pdf")
    for document in season["edition"].documents:
        if document.applies_to(group.code):
            data[f"document-{document.id}"] = (io.BytesIO(PDF), f"{document.key}.pdf")
    data.update(overrides)
    return data


def fill(client, db_session, proposal_id, season, **overrides) -> Any:
    proposal = db_session.get(Proposal, proposal_id)
    db_session.refresh(proposal)
    return client.post(f"/proposals/{proposal_id}/edit", data=complete_form(proposal, season, **overrides),
                       content_type="multipart/form-data")


def version_of(db_session, proposal_id) -> int:
    proposal = db_session.get(Proposal, proposal_id)
    db_session.refresh(proposal)
    return proposal.version


def run_jobs(app) -> str:
    """`flask kipp run-jobs` in an app context of its own, ending (and so sending) as the real command does."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["kipp", "run-jobs"]).output


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_whole_season_upp_admin_lokal_return_fix_submit(app, db_session, season, outbox_mail):
    upp = as_user(app, season["upp"])
    admin = as_user(app, season["admin"])
    proposal_id = start(upp, season)
    assert fill(upp, db_session, proposal_id, season).status_code == 302
    detail = text(upp.get(f"/proposals/{proposal_id}"))
    assert 'data-testid="complete"' in detail

    assert upp.post(f"/proposals/{proposal_id}/send").status_code == 302
    assert db_session.get(Proposal, proposal_id).status is ProposalStatus.WITH_ADMIN_LOKAL
    # The UPP can no longer edit what the Admin Lokal holds.
    assert upp.get(f"/proposals/{proposal_id}/edit").status_code == 302

    admin.post(f"/proposals/{proposal_id}/return", data={"comment": "Lengkapi data signifikansi."})
    db_session.expire_all()
    assert db_session.get(Proposal, proposal_id).status is ProposalStatus.RETURNED
    page = text(upp.get(f"/proposals/{proposal_id}"))
    assert "Lengkapi data signifikansi." in page
    notes = db_session.scalars(sa.select(Notification).where(Notification.user_id == season["upp"].id)).all()
    assert any("Lengkapi data signifikansi." in n.message for n in notes)

    assert fill(upp, db_session, proposal_id, season, title="Layanan Adminduk Keliling Terpadu").status_code == 302
    upp.post(f"/proposals/{proposal_id}/send")
    response = admin.post(f"/proposals/{proposal_id}/submit", data={"version": version_of(db_session, proposal_id)})
    assert response.status_code == 302
    db_session.expire_all()
    proposal = db_session.get(Proposal, proposal_id)
    assert proposal.status is ProposalStatus.SUBMITTED
    assert proposal.number == f"2031-U-{proposal.id:05d}"
    assert proposal.innovation is not None and proposal.innovation.title == "Layanan Adminduk Keliling Terpadu"
    receipts = [m for m in outbox_mail() if proposal.number in m.subject]
    assert {m.recipient for m in receipts} == {season["upp"].email, season["admin"].email}
    # Read-only to the agency now.
    assert admin.get(f"/proposals/{proposal_id}/edit").status_code == 302
    assert upp.post(f"/proposals/{proposal_id}/autosave", data={"version": proposal.version,
                                                                 "title": "x"}).status_code == 409
    actions = [e.action for e in proposal.events]
    assert actions == ["created", "send_to_admin_lokal", "return_to_upp", "send_to_admin_lokal", "submit"]


def test_a_file_that_is_not_what_its_name_says_is_refused_and_the_text_kept(app, db_session, season):
    upp = as_user(app, season["upp"])
    proposal_id = start(upp, season)
    section = season["umum"].sections[1]
    response = fill(upp, db_session, proposal_id, season, title="Judul yang disimpan",
                    **{f"evidence-{section.id}": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "bukti.pdf")})
    assert response.status_code == 302
    page = text(upp.get(f"/proposals/{proposal_id}/edit"))
    assert "is not a PDF, JPEG or PNG file" in page
    assert "Your text was saved" in page
    proposal = db_session.get(Proposal, proposal_id)
    db_session.refresh(proposal)
    assert proposal.title == "Judul yang disimpan"
    assert all(f.original_name != "bukti.pdf" for f in proposal.files)


def test_an_oversized_file_is_refused_with_the_limit(app, db_session, season):
    season["edition"].max_file_mb = 1
    db_session.commit()
    upp = as_user(app, season["upp"])
    proposal_id = start(upp, season)
    section = season["umum"].sections[1]
    big = PDF + b"0" * (1024 * 1024 + 10)
    fill(upp, db_session, proposal_id, season, **{f"evidence-{section.id}": (io.BytesIO(big), "besar.pdf")})
    page = text(upp.get(f"/proposals/{proposal_id}/edit"))
    assert "a file may be at most 1 MB" in page


def _files(n: int, prefix: str) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(PDF), f"{prefix}-{i}.pdf") for i in range(n)]


def _only(season, **files) -> dict[str, Any]:
    """The form's file inputs left empty but for ``files``."""
    empty = {f"evidence-{s.id}": (io.BytesIO(b""), "") for s in season["umum"].sections if s.evidence_required}
    empty.update({f"document-{d.id}": (io.BytesIO(b""), "") for d in season["edition"].documents})
    return {**empty, **files}


def test_too_many_files_are_refused_whole_with_the_limit_and_what_was_there_kept(app, db_session, season):
    """Thirty files for one section: the request's files are refused together and none is stored;
    the files uploaded before and the text stay; the section and proposal limits are named."""
    from kipp.proposals import uploads

    upp = as_user(app, season["upp"])
    proposal_id = start(upp, season)
    section = next(s for s in season["umum"].sections if s.evidence_required)
    other = next(s for s in season["umum"].sections if s.evidence_required and s.id != section.id)
    assert fill(upp, db_session, proposal_id, season).status_code == 302
    proposal = db_session.get(Proposal, proposal_id)
    db_session.refresh(proposal)
    before = {f.stored_name for f in proposal.files}
    stored_before = sum(1 for _p in uploads.upload_root().rglob("*.pdf"))

    response = fill(upp, db_session, proposal_id, season, title="Judul tetap tersimpan", **_only(
        season, **{f"evidence-{section.id}": _files(30, "banyak"), f"evidence-{other.id}": _files(1, "satu")}))
    assert response.status_code == 302
    page = text(upp.get(f"/proposals/{proposal_id}/edit"))
    assert ("may hold at most 5 files; it has 1, and adding 30 would make 31. No file was added." in page
            and "Your text was saved" in page)
    db_session.refresh(proposal)
    assert proposal.title == "Judul tetap tersimpan"
    assert {f.stored_name for f in proposal.files} == before
    assert sum(1 for _p in uploads.upload_root().rglob("*.pdf")) == stored_before

    # Up to the section's limit is fine; the proposal's limit is counted over every section and document.
    assert fill(upp, db_session, proposal_id, season, **_only(season, **{f"evidence-{section.id}": _files(4, "cukup")})
                ).status_code == 302
    db_session.refresh(proposal)
    assert len(proposal.files) == len(before) + 4
    season["edition"].max_files_per_proposal = len(proposal.files) + 1
    db_session.commit()
    fill(upp, db_session, proposal_id, season, **_only(season, **{f"evidence-{other.id}": _files(2, "lagi")}))
    page = text(upp.get(f"/proposals/{proposal_id}/edit"))
    assert (f"A proposal may hold at most {len(proposal.files) + 1} files; this one has {len(proposal.files)}, "
            "and adding 2 would make" in page)
    db_session.refresh(proposal)
    assert len(proposal.files) == len(before) + 4


def test_too_many_words_are_kept_but_cannot_be_sent(app, db_session, season):
    upp = as_user(app, season["upp"])
    proposal_id = start(upp, season)
    section = next(s for s in season["umum"].sections if s.word_limit)
    long_text = "kata " * (section.word_limit + 5)
    fill(upp, db_session, proposal_id, season, **{f"answer-{section.id}": long_text})
    page = text(upp.get(f"/proposals/{proposal_id}/edit"))
    assert f"has {section.word_limit + 5} words; the limit is {section.word_limit}" in page
    proposal = db_session.get(Proposal, proposal_id)
    db_session.refresh(proposal)
    assert proposal.answer_for(section.id).word_count == section.word_limit + 5  # nothing lost
    upp.post(f"/proposals/{proposal_id}/send")
    db_session.expire_all()
    assert db_session.get(Proposal, proposal_id).status is ProposalStatus.DRAFT


def test_submission_one_second_after_the_close_is_refused(app, db_session, season):
    upp = as_user(app, season["upp"])
    admin = as_user(app, season["admin"])
    proposal_id = start(upp, season)
    fill(upp, db_session, proposal_id, season)
    upp.post(f"/proposals/{proposal_id}/send")
    season["edition"].stage(StageKind.SUBMISSION).closes_at = utcnow() - dt.timedelta(seconds=1)
    db_session.commit()
    response = admin.post(f"/proposals/{proposal_id}/submit", follow_redirects=True)
    assert "closed on" in text(response) and "Nothing can be sent or submitted" in text(response)
    db_session.expire_all()
    assert db_session.get(Proposal, proposal_id).status is ProposalStatus.WITH_ADMIN_LOKAL


def test_an_agency_extension_reopens_submission_for_that_agency_only(app, db_session, season):
    upp = as_user(app, season["upp"])
    admin = as_user(app, season["admin"])
    proposal_id = start(upp, season)
    fill(upp, db_session, proposal_id, season)
    upp.post(f"/proposals/{proposal_id}/send")
    season["edition"].stage(StageKind.SUBMISSION).closes_at = utcnow() - dt.timedelta(minutes=5)
    db_session.commit()
    secretariat = as_user(app, SecretariatFactory())
    later = (utcnow() + dt.timedelta(days=2)).astimezone(dt.timezone(dt.timedelta(hours=7)))
    response = secretariat.post(f"/admin/deadlines/?edition={season['edition'].id}", data={
        "agency_id": season["admin"].agency_id, "closes_at": later.strftime("%Y-%m-%dT%H:%M"),
        "reason": "Gangguan jaringan di daerah"})
    assert response.status_code == 302
    admin.post(f"/proposals/{proposal_id}/submit")
    db_session.expire_all()
    assert db_session.get(Proposal, proposal_id).status is ProposalStatus.SUBMITTED


def test_over_quota_is_refused_with_the_places_left(app, db_session, season):
    season["umum"].quota_per_agency = 1
    db_session.commit()
    upp = as_user(app, season["upp"])
    admin = as_user(app, season["admin"])
    first, second = start(upp, season), start(upp, season)
    fill(upp, db_session, first, season, title="Inovasi Pertama")
    fill(upp, db_session, second, season, title="Inovasi Kedua")
    for proposal_id in (first, second):
        upp.post(f"/proposals/{proposal_id}/send")
    admin.post(f"/proposals/{first}/submit")
    response = admin.post(f"/proposals/{second}/submit", follow_redirects=True)
    assert "has used all 1 places" in text(response)
    db_session.expire_all()
    assert db_session.get(Proposal, second).status is ProposalStatus.WITH_ADMIN_LOKAL


def test_an_innovation_too_young_is_ineligible_with_the_rule_named(app, db_session, season):
    upp = as_user(app, season["upp"])
    admin = as_user(app, season["admin"])
    proposal_id = start(upp, season)
    fill(upp, db_session, proposal_id, season, innovation_start_date=(utcnow().date()).isoformat())
    upp.post(f"/proposals/{proposal_id}/send")
    response = admin.post(f"/proposals/{proposal_id}/submit", follow_redirects=True)
    assert "24 months" in text(response)
    db_session.expire_all()
    assert db_session.get(Proposal, proposal_id).status is ProposalStatus.WITH_ADMIN_LOKAL


def test_a_past_top_45_cannot_enter_umum_again_even_under_a_new_draft(app, db_session, season):
    innovation = InnovationFactory(agency=season["admin"].agency, title="Layanan Adminduk Keliling")
    AwardFactory(innovation=innovation, year=2019, tier=AwardTier.TOP_45)
    db_session.commit()
    upp = as_user(app, season["upp"])
    admin = as_user(app, season["admin"])
    proposal_id = start(upp, season)
    fill(upp, db_session, proposal_id, season)  # same title as the past winner
    upp.post(f"/proposals/{proposal_id}/send")
    admin.post(f"/proposals/{proposal_id}/submit")
    db_session.expire_all()
    assert db_session.get(Proposal, proposal_id).status is ProposalStatus.WITH_ADMIN_LOKAL


def test_another_agencys_proposal_answers_404(app, db_session, season):
    upp = as_user(app, season["upp"])
    proposal_id = start(upp, season)
    fill(upp, db_session, proposal_id, season)
    file_id = db_session.get(Proposal, proposal_id).files[0].id
    stranger = as_user(app, AdminLokalFactory())
    assert upp.get(f"/proposals/{proposal_id}/print.pdf").data.startswith(b"%PDF")
    for method, path in [("get", f"/proposals/{proposal_id}"), ("get", f"/proposals/{proposal_id}/edit"),
                         ("get", f"/proposals/{proposal_id}/print.pdf"),
                         ("get", f"/proposals/{proposal_id}/files/{file_id}"),
                         ("post", f"/proposals/{proposal_id}/submit"), ("post", f"/proposals/{proposal_id}/autosave")]:
        assert getattr(stranger, method)(path).status_code == 404, path


def test_files_are_served_to_the_agency_with_a_safe_name(app, db_session, season):
    upp = as_user(app, season["upp"])
    proposal_id = start(upp, season)
    section = season["umum"].sections[1]
    fill(upp, db_session, proposal_id, season,
         **{f"evidence-{section.id}": (io.BytesIO(PDF), "../../etc/pass wd.exe.pdf")})
    proposal = db_session.get(Proposal, proposal_id)
    db_session.refresh(proposal)
    attached = next(f for f in proposal.files if f.original_name.endswith("wd.exe.pdf"))
    response = upp.get(f"/proposals/{proposal_id}/files/{attached.id}")
    assert response.status_code == 200 and response.data == PDF
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and ".." not in disposition and "/" not in disposition
    assert attached.stored_name not in disposition


def test_a_double_clicked_submit_submits_once(app, db_session, season):
    upp = as_user(app, season["upp"])
    admin = as_user(app, season["admin"])
    proposal_id = start(upp, season)
    fill(upp, db_session, proposal_id, season)
    upp.post(f"/proposals/{proposal_id}/send")
    version = version_of(db_session, proposal_id)
    first = admin.post(f"/proposals/{proposal_id}/submit", data={"version": version})
    second = admin.post(f"/proposals/{proposal_id}/submit", data={"version": version}, follow_redirects=True)
    assert first.status_code == 302
    assert "already been submitted" in text(second)
    submits = db_session.scalars(sa.select(ProposalEvent).where(
        ProposalEvent.proposal_id == proposal_id, ProposalEvent.action == "submit")).all()
    assert len(submits) == 1


def test_two_windows_cannot_overwrite_each_other(app, db_session, season):
    upp = as_user(app, season["upp"])
    proposal_id = start(upp, season)
    version = version_of(db_session, proposal_id)
    ok = upp.post(f"/proposals/{proposal_id}/autosave", data={"version": version, "title": "Dari jendela satu"})
    assert ok.status_code == 200 and ok.get_json()["ok"]
    stale = upp.post(f"/proposals/{proposal_id}/autosave", data={"version": version, "title": "Dari jendela dua"})
    assert stale.status_code == 409 and "another window" in stale.get_json()["message"]
    db_session.expire_all()
    assert db_session.get(Proposal, proposal_id).title == "Dari jendela satu"


def test_an_expired_session_gets_a_clear_answer_from_autosave(app, db_session, season):
    upp = as_user(app, season["upp"])
    proposal_id = start(upp, season)
    anonymous = app.test_client()
    response = anonymous.post(f"/proposals/{proposal_id}/autosave", data={"version": 1, "title": "x"},
                              headers={"X-Requested-With": "fetch"})
    assert response.status_code == 401 and response.get_json()["code"] == "logged_out"
    page = anonymous.get(f"/proposals/{proposal_id}/edit")
    assert page.status_code == 302 and f"next=/proposals/{proposal_id}/edit" in page.headers["Location"]


def test_withdrawal_until_screening_starts(app, db_session, season):
    upp = as_user(app, season["upp"])
    admin = as_user(app, season["admin"])
    proposal_id = start(upp, season)
    fill(upp, db_session, proposal_id, season)
    upp.post(f"/proposals/{proposal_id}/send")
    admin.post(f"/proposals/{proposal_id}/submit")
    refused = admin.post(f"/proposals/{proposal_id}/withdraw", data={"reason": ""}, follow_redirects=True)
    assert "Give the reason" in text(refused)
    admin.post(f"/proposals/{proposal_id}/withdraw", data={"reason": "Data belum siap"})
    db_session.expire_all()
    proposal = db_session.get(Proposal, proposal_id)
    assert proposal.status is ProposalStatus.WITHDRAWN and proposal.withdrawn_reason == "Data belum siap"


def test_the_close_marks_what_agencies_still_hold_as_not_submitted(app, db_session, season):
    upp = as_user(app, season["upp"])
    proposal_id = start(upp, season)
    season["edition"].stage(StageKind.SUBMISSION).closes_at = utcnow() - dt.timedelta(minutes=1)
    db_session.commit()
    assert "kipp.proposals.close_overdue: 1" in run_jobs(app)
    db_session.expire_all()
    assert db_session.get(Proposal, proposal_id).status is ProposalStatus.NOT_SUBMITTED
    assert "kipp.proposals.close_overdue: 0" in run_jobs(app)


def test_reminders_go_once_to_whoever_holds_proposals(app, db_session, season, outbox_mail):
    upp = as_user(app, season["upp"])
    start(upp, season)
    season["edition"].reminder_days = 3
    season["edition"].stage(StageKind.SUBMISSION).closes_at = utcnow() + dt.timedelta(days=2)
    db_session.commit()
    assert "kipp.proposals.deadline_reminders: 1" in run_jobs(app)
    assert "kipp.proposals.deadline_reminders: 0" in run_jobs(app)
    reminded = {m.recipient for m in outbox_mail() if "closes on" in m.subject}
    assert reminded == {season["upp"].email, season["admin"].email}


def test_upload_limits_and_reminders_are_edition_settings(app, db_session, season):
    secretariat = as_user(app, SecretariatFactory())
    edition = season["edition"]
    url = f"/admin/editions/{edition.id}/"
    base = {"year": edition.year, "name": edition.name, "theme": "", "legal_basis": "",
            "max_files_per_section": 5, "max_files_per_proposal": 20}
    assert (edition.max_files_per_section, edition.max_files_per_proposal) == (5, 20)  # the defaults
    refused = secretariat.post(url, data={**base, "max_file_mb": 20, "max_proposal_mb": 10, "reminder_days": 3,
                                          "reviewers_per_proposal": 3, "coi_same_province": "hard"})
    assert "at least as large as the largest file" in text(refused)
    refused = secretariat.post(url, data={**base, "max_file_mb": 5, "max_proposal_mb": 40, "reminder_days": 7,
                                          "reviewers_per_proposal": 2, "coi_same_province": "soft",
                                          "max_files_per_section": 8, "max_files_per_proposal": 6})
    assert "at least as many files as one section" in text(refused)
    refused = secretariat.post(url, data={**base, "max_file_mb": 5, "max_proposal_mb": 40, "reminder_days": 7,
                                          "reviewers_per_proposal": 2, "coi_same_province": "soft",
                                          "max_files_per_section": 0})
    assert refused.status_code == 200 and edition.max_files_per_section == 5
    saved = secretariat.post(url, data={**base, "max_file_mb": 5, "max_proposal_mb": 40, "reminder_days": 7,
                                        "reviewers_per_proposal": 2, "coi_same_province": "soft",
                                        "max_files_per_section": 3, "max_files_per_proposal": 12})
    assert saved.status_code == 302
    db_session.expire_all()
    assert (edition.max_file_mb, edition.max_proposal_mb, edition.reminder_days) == (5, 40, 7)
    assert (edition.max_files_per_section, edition.max_files_per_proposal) == (3, 12)
    assert (edition.reviewers_per_proposal, edition.balanced_load, edition.coi_same_province) == (2, False, "soft")
