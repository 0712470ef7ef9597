"""Administrative screening through the test client: checklist, four eyes, correction window, claims,
announcements and the public page, notifications, statistics, access."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa

from kipp.agencies.kinds import AgencyType, Cluster
from kipp.db import utcnow
from kipp.editions.models import Sdg
from kipp.notifications.models import Notification
from kipp.proposals.models import Proposal
from kipp.proposals.states import ProposalStatus
from kipp.screening import services
from kipp.screening.models import Announcement, ScreeningReason, ScreeningReview
from tests.conftest import Login
from tests.factories import (
    AdminLokalFactory,
    AgencyFactory,
    EvaluatorFactory,
    SecretariatFactory,
    UnitFactory,
    UppFactory,
)
from tests.proposal_factories import ProposalFactory, ProposalFileFactory

pytestmark = pytest.mark.integration


@pytest.fixture()
def season(app, db_session):
    """An edition, two screeners, an agency with a unit, its Admin Lokal and UPP."""
    from kipp.editions.services import create_from_template

    edition = create_from_template(None, year=2031, name="KIPP 2031")
    admin = AdminLokalFactory()
    unit = UnitFactory(agency=admin.agency)
    upp = UppFactory(unit=unit)
    db_session.commit()
    return {"edition": edition, "admin": admin, "unit": unit, "upp": upp,
            "sec1": SecretariatFactory(name="Screener One"), "sec2": SecretariatFactory(name="Screener Two")}


def as_user(app, user) -> Any:
    client = app.test_client()
    Login(client)(user)
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def submitted(season, db_session, *, unit=None, title=None, complete=False) -> Proposal:
    unit = unit or season["unit"]
    creator = season["upp"] if unit is season["unit"] else UppFactory(unit=unit)
    kwargs = {"title": title} if title else {}
    proposal = ProposalFactory(edition=season["edition"], unit=unit, created_by=creator,
                               status=ProposalStatus.SUBMITTED, answered=True, **kwargs)
    if complete:
        proposal.sdgs = [db_session.get(Sdg, 16)]
        proposal.video_url = "https://www.youtube.com/watch?v=abc"
        proposal.is_application = False
        for section in proposal.group.sections:
            if section.evidence_required:
                ProposalFileFactory(proposal=proposal, section=section, document=None)
        for document in proposal.edition.documents:
            if document.mandatory and document.applies_to(proposal.group.code):
                ProposalFileFactory(proposal=proposal, document=document)
    db_session.commit()
    return proposal


def checklist(db_session, edition) -> dict[str, ScreeningReason]:
    return {r.code: r for r in services.reasons(edition)}


def items(db_session, edition, fail: dict[str, str] | None = None, skip: tuple[str, ...] = (),
          after: str = "stay") -> dict[str, str]:
    """The review form: every active item OK except those in ``fail`` (code → note)."""
    fail = fail or {}
    services.ensure_default_checklist(None, edition)
    db_session.commit()
    data = {"after": after, "note": ""}
    for reason in services.reasons(edition, active_only=True):
        if reason.code in skip:
            continue
        data[f"item-{reason.id}"] = "fail" if reason.code in fail else "pass"
        data[f"note-{reason.id}"] = fail.get(reason.code, "")
    return data


def reload(db_session, proposal) -> Proposal:
    db_session.expire_all()
    return db_session.get(Proposal, proposal.id)


def notes_of(db_session, user) -> list[Notification]:
    return list(db_session.scalars(sa.select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def claim_next(client, edition, **args) -> int | None:
    query = "&".join(f"{k}={v}" for k, v in {"edition": edition.id, **args}.items())
    response = client.post(f"/admin/screening/claim-next?{query}")
    assert response.status_code == 302
    match = re.search(r"/admin/screening/proposals/(\d+)", response.headers["Location"])
    return int(match.group(1)) if match else None


# --- the checklist -------------------------------------------------------------------------------------


def test_the_checklist_starts_from_the_domain_defaults_and_is_edited_per_edition(app, db_session, season):
    edition = season["edition"]
    sec = as_user(app, season["sec1"])
    page = text(sec.get(f"/admin/screening/checklist?edition={edition.id}"))
    assert 'data-testid="no-checklist"' in page

    assert sec.post(f"/admin/screening/checklist/defaults?edition={edition.id}").status_code == 302
    reasons = checklist(db_session, edition)
    assert list(reasons) == [f"A{i}" for i in range(1, 9)]
    page = text(sec.get(f"/admin/screening/checklist?edition={edition.id}"))
    assert page.count('data-testid="reason-row"') == 8
    assert "Incomplete fields or documents" in text(sec.get(f"/admin/screening/checklist/{reasons['A2'].id}"))
    assert reasons["A2"].title_en == "Incomplete fields or documents"
    assert reasons["A2"].title_id == "Isian atau dokumen tidak lengkap"
    # Idempotent: a second time creates nothing.
    sec.post(f"/admin/screening/checklist/defaults?edition={edition.id}")
    assert len(services.reasons(edition)) == 8

    response = sec.post(f"/admin/screening/checklist/{reasons['A3'].id}", data={
        "code": "a3", "title_id": "Jawaban asal", "title_en": "Careless answers", "guidance_id": "", "guidance_en": ""})
    assert response.status_code == 302
    db_session.expire_all()
    assert reasons["A3"].title_en == "Careless answers" and reasons["A3"].code == "A3"

    response = sec.post(f"/admin/screening/checklist?edition={edition.id}", data={
        "reason-code": "A9", "reason-title_id": "Video tidak dapat diputar", "reason-title_en": "Video does not play"})
    assert response.status_code == 302
    response = sec.post(f"/admin/screening/checklist?edition={edition.id}", data={
        "reason-code": "A9", "reason-title_id": "Lagi", "reason-title_en": "Again"})
    assert response.status_code == 422
    assert "already has the code" in text(response)

    assert sec.post(f"/admin/screening/checklist/{reasons['A7'].id}/deactivate").status_code == 302
    assert sec.post(f"/admin/screening/checklist/{reasons['A8'].id}/move/up").status_code == 302
    db_session.expire_all()
    codes = [r.code for r in services.reasons(edition)]
    assert codes == ["A1", "A2", "A3", "A4", "A5", "A6", "A8", "A7", "A9"]
    assert [r.code for r in services.reasons(edition, active_only=True)] == [
        "A1", "A2", "A3", "A4", "A5", "A6", "A8", "A9"]

    response = sec.post(f"/admin/screening/checklist/settings?edition={edition.id}",
                        data={"settings-four_eyes": "y", "settings-correction_days": "7"})
    assert response.status_code == 302
    db_session.expire_all()
    assert edition.screening_four_eyes and edition.correction_days == 7
    response = sec.post(f"/admin/screening/checklist/settings?edition={edition.id}",
                        data={"settings-correction_days": "400"})
    assert response.status_code == 422

    # The review page shows the active items, in their order.
    proposal = submitted(season, db_session)
    page = text(sec.get(f"/admin/screening/proposals/{proposal.id}"))
    shown = re.findall(r"<strong>(A\d)</strong>", page)
    assert shown == ["A1", "A2", "A3", "A4", "A5", "A6", "A8", "A9"]


# --- four eyes ---------------------------------------------------------------------------------------


def test_four_eyes_the_screener_cannot_confirm_and_another_can(app, db_session, season, outbox_mail):
    edition = season["edition"]
    edition.screening_four_eyes = True
    proposal = submitted(season, db_session)
    one, two = as_user(app, season["sec1"]), as_user(app, season["sec2"])

    assert claim_next(one, edition) == proposal.id
    response = one.post(f"/admin/screening/proposals/{proposal.id}/save", data=items(db_session, edition))
    assert response.status_code == 302
    proposal = reload(db_session, proposal)
    assert proposal.status is ProposalStatus.SUBMITTED  # not final yet
    review = services.open_review(proposal)
    assert review.decision.value == "passed" and review.decided_by_id == season["sec1"].id
    assert review.confirmed_at is None and review.claimed_by_id is None
    assert notes_of(db_session, season["admin"]) == []

    page = text(one.get(f"/admin/screening/proposals/{proposal.id}"))
    assert 'data-testid="own-decision"' in page and 'data-testid="confirm"' not in page
    response = one.post(f"/admin/screening/proposals/{proposal.id}/confirm", data={"after": "stay"},
                        follow_redirects=True)
    assert "You made this decision yourself" in text(response)
    assert reload(db_session, proposal).status is ProposalStatus.SUBMITTED

    # The awaiting decision is in the other screener's "awaiting confirmation" queue.
    queue = text(two.get(f"/admin/screening/?edition={edition.id}&state=awaiting"))
    assert proposal.title in queue
    page = text(two.get(f"/admin/screening/proposals/{proposal.id}?state=awaiting"))
    assert 'data-testid="confirm"' in page
    response = two.post(f"/admin/screening/proposals/{proposal.id}/confirm?state=awaiting", data={"after": "stay"})
    assert response.status_code == 302
    proposal = reload(db_session, proposal)
    assert proposal.status is ProposalStatus.ADMIN_PASSED
    review = services.current_review(proposal)
    assert review.confirmed_by_id == season["sec2"].id and review.confirmed_at is not None
    assert [e.action for e in proposal.events][-1] == "pass_screening"
    # The agency hears the outcome.
    for person in (season["admin"], season["upp"]):
        notes = notes_of(db_session, person)
        assert any(proposal.number in n.message and "passed the administrative screening" in n.message
                   for n in notes)
    assert {m.recipient for m in outbox_mail() if "passed administrative screening" in m.subject} == {
        season["admin"].email, season["upp"].email}


def test_the_database_refuses_a_self_confirmation_too(app, db_session, season):
    proposal = submitted(season, db_session)
    sec = season["sec1"]
    review = ScreeningReview(proposal_id=proposal.id, round=1, decision="passed", decided_by_id=sec.id,
                             decided_at=utcnow(), confirmed_by_id=sec.id, confirmed_at=utcnow())
    with pytest.raises(sa.exc.IntegrityError):
        with db_session.begin_nested():
            db_session.add(review)
            db_session.flush()


def test_another_screener_who_disagrees_makes_the_decision_theirs(app, db_session, season):
    edition = season["edition"]
    edition.screening_four_eyes = True
    proposal = submitted(season, db_session)
    one, two = as_user(app, season["sec1"]), as_user(app, season["sec2"])
    one.post(f"/admin/screening/proposals/{proposal.id}/save", data=items(db_session, edition))
    two.post(f"/admin/screening/proposals/{proposal.id}/save",
             data=items(db_session, edition, fail={"A4": "Judul sama dengan proposal lain."}))
    review = services.open_review(reload(db_session, proposal))
    assert review.decision.value == "failed" and review.decided_by_id == season["sec2"].id
    # Now the first screener may confirm the second's decision.
    one.post(f"/admin/screening/proposals/{proposal.id}/confirm", data={"after": "stay"})
    assert reload(db_session, proposal).status is ProposalStatus.ADMIN_FAILED


# --- without four eyes, failures --------------------------------------------------------------------------


def test_without_four_eyes_a_failure_is_final_at_once_with_its_reasons(app, db_session, season, outbox_mail):
    edition = season["edition"]
    proposal = submitted(season, db_session)
    sec = as_user(app, season["sec1"])

    # A failed item without a note is refused, and what was typed stays on the page.
    data = items(db_session, edition, fail={"A6": ""})
    reasons = checklist(db_session, edition)
    data[f"note-{reasons['A2'].id}"] = "kept text"
    response = sec.post(f"/admin/screening/proposals/{proposal.id}/save", data=data)
    assert response.status_code == 422
    assert "write a note for A6" in text(response) and "kept text" in text(response)
    assert reload(db_session, proposal).status is ProposalStatus.SUBMITTED

    # Half a checklist is saved without a decision.
    response = sec.post(f"/admin/screening/proposals/{proposal.id}/save",
                        data=items(db_session, edition, skip=("A5", "A8")))
    assert response.status_code == 302
    review = services.open_review(reload(db_session, proposal))
    assert review.decision is None and len(review.checks) == 6

    response = sec.post(f"/admin/screening/proposals/{proposal.id}/save",
                        data=items(db_session, edition, fail={"A6": "SK inovator tidak dilampirkan."}))
    assert response.status_code == 302
    proposal = reload(db_session, proposal)
    assert proposal.status is ProposalStatus.ADMIN_FAILED
    assert proposal.events[-1].action == "fail_screening"
    assert "SK inovator tidak dilampirkan." in proposal.events[-1].comment
    note = notes_of(db_session, season["admin"])[-1]
    assert note.kind == "screening_failed"
    assert "A6 Missing SK innovator, statement letters or evidence: SK inovator tidak dilampirkan." in note.message
    assert any("did not pass administrative screening" in m.subject and m.recipient == season["upp"].email
               for m in outbox_mail())
    # Its screening is over: the page says so, and saving again is refused.
    assert 'data-testid="screening-over"' in text(sec.get(f"/admin/screening/proposals/{proposal.id}"))
    response = sec.post(f"/admin/screening/proposals/{proposal.id}/save", data=items(db_session, edition))
    assert response.status_code == 422


def test_only_submitted_proposals_are_screened(app, db_session, season):
    draft = ProposalFactory(edition=season["edition"], unit=season["unit"], created_by=season["upp"])
    db_session.commit()
    sec = as_user(app, season["sec1"])
    assert 'data-testid="not-submitted"' in text(sec.get(f"/admin/screening/proposals/{draft.id}"))
    assert sec.post(f"/admin/screening/proposals/{draft.id}/save", data={}).status_code == 422
    assert sec.post(f"/admin/screening/proposals/{draft.id}/claim", follow_redirects=True).status_code == 200
    assert services.current_review(draft) is None
    assert draft.title not in text(sec.get(f"/admin/screening/?edition={season['edition'].id}&state=all"))


# --- the correction window --------------------------------------------------------------------------------


def test_correction_window_fail_correct_resubmit_and_pass_in_round_two(app, db_session, season, outbox_mail):
    edition = season["edition"]
    edition.correction_days = 7
    proposal = submitted(season, db_session, complete=True)
    sec, admin = as_user(app, season["sec1"]), as_user(app, season["admin"])

    before = utcnow()
    sec.post(f"/admin/screening/proposals/{proposal.id}/save",
             data=items(db_session, edition, fail={"A2": "Lampirkan bukti implementasi."}))
    proposal = reload(db_session, proposal)
    assert proposal.status is ProposalStatus.IN_CORRECTION
    assert before + dt.timedelta(days=7) <= proposal.correction_due_at <= utcnow() + dt.timedelta(days=7)
    note = notes_of(db_session, season["admin"])[-1]
    assert note.kind == "screening_correction"
    assert "Lampirkan bukti implementasi." in note.message and note.link == f"/correction/{proposal.id}"
    assert notes_of(db_session, season["upp"])[-1].link == f"/proposals/{proposal.id}"

    page = text(admin.get(f"/correction/{proposal.id}"))
    assert "Lampirkan bukti implementasi." in page and 'data-testid="resubmit"' in page
    assert proposal.title in text(admin.get("/correction/"))
    # The UPP and other agencies do not reach the correction pages.
    assert as_user(app, season["upp"]).get(f"/correction/{proposal.id}").status_code == 404
    other = AdminLokalFactory()
    db_session.commit()
    assert as_user(app, other).get(f"/correction/{proposal.id}").status_code == 404
    assert as_user(app, other).post(f"/correction/{proposal.id}/resubmit").status_code == 404

    assert admin.post(f"/correction/{proposal.id}/resubmit").status_code == 302
    proposal = reload(db_session, proposal)
    assert proposal.status is ProposalStatus.SUBMITTED
    assert any("Corrected proposal" in m.subject for m in outbox_mail())
    # Once only: a second resubmission is refused.
    response = admin.post(f"/correction/{proposal.id}/resubmit", follow_redirects=True)
    assert "not waiting for a correction" in text(response)

    # Round 2: the queue offers it again; the page shows round 1's reasons.
    assert claim_next(sec, edition) == proposal.id
    page = text(sec.get(f"/admin/screening/proposals/{proposal.id}"))
    assert 'data-testid="previous-review"' in page and "Lampirkan bukti implementasi." in page
    review = services.open_review(reload(db_session, proposal))
    assert review.round == 2
    sec.post(f"/admin/screening/proposals/{proposal.id}/save", data=items(db_session, edition))
    proposal = reload(db_session, proposal)
    assert proposal.status is ProposalStatus.ADMIN_PASSED
    assert [e.action for e in proposal.events] == [
        "return_for_correction", "resubmit_correction", "pass_screening"]
    assert [r.round for r in services.reviews_of(proposal)] == [1, 2]


def test_a_second_failure_after_correction_is_final(app, db_session, season):
    edition = season["edition"]
    edition.correction_days = 3
    proposal = submitted(season, db_session, complete=True)
    sec, admin = season["sec1"], season["admin"]
    services.save_review(sec, proposal, items=_all(edition, fail={"A3": "Jawaban asal."}))
    services.resubmit_correction(admin, proposal)
    services.save_review(sec, proposal, items=_all(edition, fail={"A3": "Masih asal."}))
    db_session.commit()
    assert reload(db_session, proposal).status is ProposalStatus.ADMIN_FAILED


def test_an_incomplete_correction_cannot_be_resubmitted(app, db_session, season):
    edition = season["edition"]
    edition.correction_days = 3
    proposal = submitted(season, db_session)  # no documents attached
    services.save_review(season["sec1"], proposal, items=_all(edition, fail={"A2": "Dokumen kurang."}))
    db_session.commit()
    admin = as_user(app, season["admin"])
    assert 'data-testid="missing"' in text(admin.get(f"/correction/{proposal.id}"))
    response = admin.post(f"/correction/{proposal.id}/resubmit", follow_redirects=True)
    assert "The proposal is not complete" in text(response)
    assert reload(db_session, proposal).status is ProposalStatus.IN_CORRECTION


def test_an_expired_correction_window_is_closed_by_the_job(app, db_session, season):
    edition = season["edition"]
    edition.correction_days = 2
    proposal = submitted(season, db_session, complete=True)
    services.save_review(season["sec1"], proposal, items=_all(edition, fail={"A8": "Di luar kategori."}),
                         now=utcnow() - dt.timedelta(days=3))
    db_session.commit()
    proposal = reload(db_session, proposal)
    assert proposal.status is ProposalStatus.IN_CORRECTION and proposal.correction_due_at < utcnow()

    # Too late to resubmit.
    admin = as_user(app, season["admin"])
    response = admin.post(f"/correction/{proposal.id}/resubmit", follow_redirects=True)
    assert "The correction window closed" in text(response)

    with app.app_context():
        output = app.test_cli_runner().invoke(args=["kipp", "run-jobs"]).output
    assert "kipp.screening.close_expired_corrections: 1" in output
    proposal = reload(db_session, proposal)
    assert proposal.status is ProposalStatus.ADMIN_FAILED
    assert proposal.events[-1].action == "close_correction"
    assert notes_of(db_session, season["admin"])[-1].kind == "correction_closed"
    # Idempotent.
    assert services.close_expired_corrections() == 0


def _all(edition, fail: dict[str, str] | None = None) -> dict[int, tuple[bool, str | None]]:
    fail = fail or {}
    services.ensure_default_checklist(None, edition)
    return {r.id: (r.code not in fail, fail.get(r.code)) for r in services.reasons(edition, active_only=True)}


# --- the queue and claims --------------------------------------------------------------------------------


def test_two_screeners_never_get_the_same_proposal_from_claim_next(app, db_session, season):
    edition = season["edition"]
    proposals = [submitted(season, db_session) for _ in range(5)]
    one, two = as_user(app, season["sec1"]), as_user(app, season["sec2"])
    first, second = claim_next(one, edition), claim_next(two, edition)
    # The queue's own order, and never the same proposal twice.
    assert (first, second) == (proposals[0].id, proposals[1].id)
    # A claim left open comes back to its screener first, not to anyone else.
    assert claim_next(one, edition) == first
    assert claim_next(two, edition) == second
    counts = text(one.get(f"/admin/screening/?edition={edition.id}"))
    assert re.search(r'data-testid="count-mine">1<', counts)
    assert re.search(r'data-testid="count-claimed">1<', counts)
    assert re.search(r'data-testid="count-unclaimed">3<', counts)
    # A filter that matches nothing says so.
    empty = one.post(f"/admin/screening/claim-next?edition={edition.id}&q=tidak-ada-yang-cocok",
                     follow_redirects=True)
    assert "Nothing left to take" in text(empty)


def test_a_claim_keeps_others_out_until_it_lapses(app, db_session, season):
    edition = season["edition"]
    proposal = submitted(season, db_session)
    one, two = as_user(app, season["sec1"]), as_user(app, season["sec2"])
    assert one.post(f"/admin/screening/proposals/{proposal.id}/claim").status_code == 302

    page = text(two.get(f"/admin/screening/proposals/{proposal.id}"))
    assert 'data-testid="claimed-by-other"' in page and "Screener One is screening this proposal" in page
    response = two.post(f"/admin/screening/proposals/{proposal.id}/save", data=items(db_session, edition))
    assert response.status_code == 409
    assert claim_next(two, edition) is None
    assert reload(db_session, proposal).status is ProposalStatus.SUBMITTED

    # Thirty-one minutes without activity later, the claim has lapsed.
    review = services.open_review(proposal)
    review.claimed_at = utcnow() - dt.timedelta(minutes=31)
    db_session.commit()
    assert proposal.title in text(two.get(f"/admin/screening/?edition={edition.id}&state=unclaimed"))
    assert claim_next(two, edition) == proposal.id
    db_session.expire_all()
    assert services.open_review(proposal).claimed_by_id == season["sec2"].id
    # Releasing gives it back.
    two.post(f"/admin/screening/proposals/{proposal.id}/release")
    db_session.expire_all()
    assert services.open_review(proposal).claimed_by_id is None


def test_queue_filters_and_previous_next_without_the_list(app, db_session, season):
    edition = season["edition"]
    ministry = AgencyFactory(type=AgencyType.KEMENTERIAN, cluster=Cluster.KEMENTERIAN, region_code=None)
    other_unit = UnitFactory(agency=ministry)
    a = submitted(season, db_session, title="Layanan Kota A")
    b = submitted(season, db_session, unit=other_unit, title="Layanan Kementerian B")
    c = submitted(season, db_session, title="Layanan Kota C")
    sec = as_user(app, season["sec1"])
    # Before the checklist exists, the review page offers to create it.
    assert 'data-testid="no-checklist"' in text(sec.get(f"/admin/screening/proposals/{a.id}"))
    sec.post(f"/admin/screening/checklist/defaults?edition={edition.id}")

    page = text(sec.get(f"/admin/screening/?edition={edition.id}&cluster=kota"))
    assert "Layanan Kota A" in page and "Layanan Kota C" in page and "Layanan Kementerian B" not in page
    page = text(sec.get(f"/admin/screening/?edition={edition.id}&q=kementerian"))
    assert "Layanan Kementerian B" in page and "Layanan Kota A" not in page
    page = text(sec.get(f"/admin/screening/?edition={edition.id}&province=none"))
    assert "Layanan Kementerian B" in page and "Layanan Kota A" not in page

    # Previous/next follow the queue under its filters.
    page = text(sec.get(f"/admin/screening/proposals/{b.id}"))
    assert f'/admin/screening/proposals/{a.id}"' in page and f'/admin/screening/proposals/{c.id}"' in page
    page = text(sec.get(f"/admin/screening/proposals/{a.id}?cluster=kota"))
    assert 'data-testid="prev-link"' not in page
    assert f'href="/admin/screening/proposals/{c.id}?cluster=kota"' in page
    assert 'data-shortcut="n"' in page and 'data-item-index="8"' in page

    # "Save and take the next" opens the next free proposal under the same filters.
    response = sec.post(f"/admin/screening/proposals/{a.id}/save?cluster=kota",
                        data=items(db_session, edition, after="next"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/screening/proposals/{c.id}?cluster=kota")
    assert reload(db_session, a).status is ProposalStatus.ADMIN_PASSED
    page = text(sec.get(f"/admin/screening/?edition={edition.id}&state=decided"))
    assert "Layanan Kota A" in page and "Layanan Kota C" not in page


# --- announcements and the public page ----------------------------------------------------------------------


def test_announcement_lists_only_passed_proposals_on_a_public_page(app, db_session, season, client):
    edition = season["edition"]
    passed = submitted(season, db_session, title="Inovasi Yang Lolos")
    failed = submitted(season, db_session, title="Inovasi Yang Gugur")
    pending = submitted(season, db_session, title="Inovasi Yang Belum Diperiksa")
    services.save_review(season["sec1"], passed, items=_all(edition))
    services.save_review(season["sec1"], failed, items=_all(edition, fail={"A4": "Judul ganda."}))
    db_session.commit()
    sec = as_user(app, season["sec1"])

    page = text(sec.get(f"/admin/screening/announcements?edition={edition.id}"))
    assert 'data-testid="undecided"' in page and "Not decided yet: 1 submitted" in page
    form = {"number": "B/187/PP.00.05/2031", "title": "Pengumuman Hasil Seleksi Administrasi KIPP 2031",
            "body": "Daftar proposal yang lolos seleksi administrasi."}
    response = sec.post(f"/admin/screening/announcements?edition={edition.id}", data=form)
    assert response.status_code == 422 and "1 proposal(s) are not decided yet" in text(response)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Announcement)) == 0

    response = sec.post(f"/admin/screening/announcements?edition={edition.id}",
                        data={**form, "publish_undecided": "y"})
    assert response.status_code == 302
    announcement = db_session.scalar(sa.select(Announcement))
    assert announcement.number == "B/187/PP.00.05/2031"
    assert [p.id for p in announcement.proposals] == [passed.id]
    # The same number twice is refused.
    response = sec.post(f"/admin/screening/announcements?edition={edition.id}",
                        data={**form, "publish_undecided": "y"})
    assert response.status_code == 422 and "already exists" in text(response)

    # The public, not logged in.
    listing = client.get("/public/2031/")
    assert listing.status_code == 200
    assert "Pengumuman Hasil Seleksi Administrasi KIPP 2031" in text(listing)
    page = client.get(f"/public/2031/announcements/{announcement.id}")
    assert page.status_code == 200
    body = text(page)
    assert "B/187/PP.00.05/2031" in body and "Inovasi Yang Lolos" in body and passed.number in body
    assert passed.agency.name in body and "Kota Manado" in body
    assert "Inovasi Yang Gugur" not in body and failed.number not in body
    assert "Inovasi Yang Belum Diperiksa" not in body and pending.number not in body
    assert "Judul ganda." not in body
    # Bahasa Indonesia by default; English through the language switch.
    assert "<th>Instansi</th>" in body and "<th>Wilayah</th>" in body
    client.post("/language", data={"locale": "en", "next": f"/public/2031/announcements/{announcement.id}"})
    body = text(client.get(f"/public/2031/announcements/{announcement.id}"))
    assert "<th>Agency</th>" in body and "<th>Region</th>" in body
    # Nothing unpublished, nothing of another edition.
    future = Announcement(edition_id=edition.id, kind="screening", number="B/200/PP.00.05/2031",
                          title="Belum terbit", published_at=utcnow() + dt.timedelta(days=1),
                          published_by_id=season["sec1"].id)
    db_session.add(future)
    db_session.commit()
    assert "Belum terbit" not in text(client.get("/public/2031/"))
    assert client.get(f"/public/2031/announcements/{future.id}").status_code == 404
    assert client.get(f"/public/2030/announcements/{announcement.id}").status_code == 404
    assert client.get("/public/2099/").status_code == 404


def test_publishing_with_everything_decided_needs_no_tick(app, db_session, season):
    edition = season["edition"]
    proposal = submitted(season, db_session)
    services.save_review(season["sec1"], proposal, items=_all(edition))
    db_session.commit()
    sec = as_user(app, season["sec1"])
    assert 'data-testid="all-decided"' in text(sec.get(f"/admin/screening/announcements?edition={edition.id}"))
    response = sec.post(f"/admin/screening/announcements?edition={edition.id}",
                        data={"number": "B/1/PP.00.05/2031", "title": "Hasil"})
    assert response.status_code == 302


# --- statistics ---------------------------------------------------------------------------------------------


def test_statistics_by_cluster_province_and_reason(app, db_session, season):
    edition = season["edition"]
    edition.correction_days = 5
    kabupaten = AgencyFactory(type=AgencyType.KABUPATEN, cluster=Cluster.KABUPATEN, region_code="32.01")
    ministry = AgencyFactory(type=AgencyType.KEMENTERIAN, cluster=Cluster.KEMENTERIAN, region_code=None)
    kab_unit, min_unit = UnitFactory(agency=kabupaten), UnitFactory(agency=ministry)
    sec = season["sec1"]
    # Kota Manado (71, kota): one passed, one failed on A2 and A6 in round 1 (in correction).
    kota_pass = submitted(season, db_session)
    kota_fail = submitted(season, db_session)
    # Kabupaten Bogor (32, kabupaten): one passed, one still submitted.
    kab_pass = submitted(season, db_session, unit=kab_unit)
    submitted(season, db_session, unit=kab_unit)
    # A ministry (no region): failed on A2 in round 1, corrected, failed again on A2 and A8 in round 2.
    min_fail = submitted(season, db_session, unit=min_unit, complete=True)
    for proposal in (kota_pass, kab_pass):
        services.save_review(sec, proposal, items=_all(edition))
    services.save_review(sec, kota_fail, items=_all(edition, fail={"A2": "x", "A6": "y"}))
    services.save_review(sec, min_fail, items=_all(edition, fail={"A2": "x"}))
    min_admin = AdminLokalFactory(agency=ministry)
    services.resubmit_correction(min_admin, min_fail)
    services.save_review(sec, min_fail, items=_all(edition, fail={"A2": "x", "A8": "z"}))
    db_session.commit()

    stats = services.statistics(edition)
    assert stats.overall.counts == {"passed": 2, "failed": 1, "in_correction": 1, "pending": 1}
    by_cluster = {r.key: r.counts for r in stats.by_cluster}
    assert by_cluster["kota"] == {"passed": 1, "failed": 0, "in_correction": 1, "pending": 0}
    assert by_cluster["kabupaten"] == {"passed": 1, "failed": 0, "in_correction": 0, "pending": 1}
    assert by_cluster["kementerian"] == {"passed": 0, "failed": 1, "in_correction": 0, "pending": 0}
    by_province = {r.key: r.counts for r in stats.by_province}
    assert set(by_province) == {"71", "32", "none"}
    assert by_province["71"]["passed"] == 1 and by_province["32"]["pending"] == 1
    assert by_province["none"]["failed"] == 1
    by_reason = {r.reason.code: (r.round1, r.round2, r.proposals) for r in stats.by_reason}
    assert by_reason["A2"] == (2, 1, 2)
    assert by_reason["A6"] == (1, 0, 1)
    assert by_reason["A8"] == (0, 1, 1)
    assert by_reason["A1"] == (0, 0, 0)

    page = text(as_user(app, sec).get(f"/admin/screening/statistics?edition={edition.id}"))
    reason_row = re.search(r'<tr data-row="A2">.*?</tr>', page, re.S).group(0)
    assert re.findall(r'data-col="\w+">(\d+)<', reason_row) == ["2", "1", "2"]
    assert "Jawa Barat" in page and "Sulawesi Utara" in page


# --- access -------------------------------------------------------------------------------------------------


def test_only_the_secretariat_reaches_the_screening_pages(app, db_session, season):
    proposal = submitted(season, db_session)
    for user in (season["admin"], season["upp"], EvaluatorFactory()):
        db_session.commit()
        client = as_user(app, user)
        for path in ("/admin/screening/", f"/admin/screening/proposals/{proposal.id}", "/admin/screening/checklist",
                     "/admin/screening/announcements", "/admin/screening/statistics"):
            assert client.get(path).status_code == 404, (user.role, path)
        assert client.post("/admin/screening/claim-next").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get("/admin/screening/").status_code == 302
    assert as_user(app, season["sec1"]).get("/correction/").status_code == 404
    assert as_user(app, season["upp"]).get("/correction/").status_code == 404
