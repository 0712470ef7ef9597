"""The public objection window (uji publik / masa sanggah) through the pages people use: the public finalist
list and objection form, the receipt and status look-up, the secretariat's rulings and the confirmation of
the finalists by decree; the window's edges in WIB through the service, with explicit times."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.audit.models import AuditEvent
from kipp.db import utcnow
from kipp.editions.kinds import StageKind, StageStatus
from kipp.editions.models import Section
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db, limiter
from kipp.notifications.models import Notification
from kipp.objections import rules, services
from kipp.objections.models import Objection, ObjectionStatus
from kipp.proposals.models import ProposalAnswer, ProposalEvent
from kipp.proposals.states import ProposalStatus
from kipp.selection.models import Shortlist, ShortlistEntry, ShortlistKind
from tests.conftest import Login, build_app, migrate_and_load
from tests.factories import EvaluatorFactory, PanelistFactory
from tests.proposal_factories import ProposalFactory
from tests.selection_factories import finalists_edition

pytestmark = pytest.mark.integration

UTC = dt.timezone.utc
WIB = ZoneInfo("Asia/Jakarta")
YEAR = 2033
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
REASON = ("Data jumlah penerima manfaat dalam proposal ini tidak sesuai dengan laporan resmi dinas tahun lalu, "
          "dan aplikasinya belum berjalan sejak 2022.")


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def as_user(app: Flask, user: Any) -> Any:
    client = app.test_client()
    Login(client)(user)
    return client


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {"name": "Warga Peduli", "contact": "warga.peduli@example.com", "reason": REASON, "website": ""}
    data.update(overrides)
    return data


def post_objection(client: Any, proposal_id: int, *, year: int = YEAR, **overrides: Any) -> Any:
    return client.post(f"/public/{year}/finalists/{proposal_id}/objection", data=form_data(**overrides),
                       content_type="multipart/form-data")


def objections_of(db_session: Any, proposal_id: int | None = None) -> list[Objection]:
    query = sa.select(Objection).order_by(Objection.id)
    if proposal_id is not None:
        query = query.where(Objection.proposal_id == proposal_id)
    return list(db_session.scalars(query))


def notifications(db_session: Any, kind: str) -> list[Notification]:
    return list(db_session.scalars(sa.select(Notification).where(Notification.kind == kind)
                                   .order_by(Notification.id)))


def people(db_session: Any, told: list[Notification]) -> set[Any]:
    return set(db_session.scalars(sa.select(User).where(User.id.in_([n.user_id for n in told]))))


@pytest.fixture()
def scene(app: Flask, db_session: Any) -> Any:
    """Finalists frozen, the OBJECTION stage open, its window holding the present moment."""
    rounds = finalists_edition(year=YEAR)
    db_session.commit()
    return rounds


@pytest.fixture()
def english(client: Any) -> Any:
    """The anonymous visitor, reading in English (the messages asserted here are the English ones)."""
    client.post("/language", data={"locale": "en", "next": "/"})
    return client


def file_directly(app: Flask, rounds: Any, proposal: Any, *, now: dt.datetime, **overrides: Any) -> Objection:
    values = {"name": "Warga Peduli", "contact": "0812-3456-7890", "reason": REASON, "client_hash": "0" * 64}
    values.update(overrides)
    with app.test_request_context():
        return services.file_objection(rounds.edition, proposal, now=now, **values)


def end_window(rounds: Any, db_session: Any, *, ago: dt.timedelta = dt.timedelta(minutes=1)) -> None:
    stage = rounds.edition.stage(StageKind.OBJECTION)
    stage.closes_at = utcnow() - ago
    stage.opens_at = stage.closes_at - dt.timedelta(days=5)
    db_session.commit()


# --- the window's edges in WIB ------------------------------------------------------------------------------


def test_the_window_opens_and_closes_in_wib(app, db_session):
    opens = dt.datetime(2033, 6, 16, 8, 0, tzinfo=WIB)
    closes = dt.datetime(2033, 6, 21, 17, 0, tzinfo=WIB)  # 10:00 UTC
    rounds = finalists_edition(year=YEAR, now=opens.astimezone(UTC))
    stage = rounds.edition.stage(StageKind.OBJECTION)
    stage.opens_at, stage.closes_at = opens.astimezone(UTC), closes.astimezone(UTC)
    db_session.commit()
    assert stage.closes_at == dt.datetime(2033, 6, 21, 10, 0, tzinfo=UTC)
    target = rounds.finalists[0]
    second = dt.timedelta(seconds=1)

    assert not services.is_window_open(rounds.edition, stage.opens_at - second)
    with pytest.raises(DomainError) as before:
        file_directly(app, rounds, target, now=stage.opens_at - second)
    assert before.value.code == "window_closed"
    assert "16-06-2033 08:00 WIB" in before.value.message and "21-06-2033 17:00 WIB" in before.value.message

    assert services.is_window_open(rounds.edition, stage.opens_at)
    first = file_directly(app, rounds, target, now=stage.opens_at)
    assert services.is_window_open(rounds.edition, stage.closes_at - second)
    last = file_directly(app, rounds, target, now=stage.closes_at - second)
    assert last.submitted_at == dt.datetime(2033, 6, 21, 9, 59, 59, tzinfo=UTC)
    assert [first.reference, last.reference] == [f"SGH/{YEAR}/00001", f"SGH/{YEAR}/00002"]

    assert not services.is_window_open(rounds.edition, stage.closes_at)
    with pytest.raises(DomainError) as after:
        file_directly(app, rounds, target, now=stage.closes_at)
    assert after.value.code == "window_closed" and "21-06-2033 17:00 WIB" in after.value.message
    assert services.pending_count(rounds.edition) == 2

    # Within the schedule, but the stage closed by the secretariat: closed too.
    stage.status = StageStatus.CLOSED
    db_session.flush()
    assert not services.is_window_open(rounds.edition, stage.closes_at - second)
    with pytest.raises(DomainError):
        file_directly(app, rounds, target, now=stage.closes_at - second)
    # Before the announcement (the stage only planned), the list is not public at all.
    stage.status = StageStatus.PLANNED
    db_session.flush()
    assert not services.is_window_open(rounds.edition, stage.opens_at)
    with pytest.raises(NotAllowed):
        file_directly(app, rounds, target, now=stage.opens_at)


def test_after_the_window_the_form_says_when_it_ran_and_refuses(scene, english, db_session):
    end_window(scene, db_session)
    stage = scene.edition.stage(StageKind.OBJECTION)
    target = scene.finalists[0]
    page = text(english.get(f"/public/{YEAR}/finalists/{target.id}/objection"))
    assert 'data-testid="objection-form"' not in page
    assert stage.closes_at.astimezone(WIB).strftime("%d-%m-%Y %H:%M WIB") in page
    refused = post_objection(english, target.id)
    assert refused.status_code == 200
    assert "is closed" in text(refused) and REASON in text(refused)
    assert objections_of(db_session) == []
    assert 'data-testid="object-link"' not in text(english.get(f"/public/{YEAR}/finalists"))


# --- the public pages ---------------------------------------------------------------------------------------


def test_public_pages_answer_404_before_the_announcement(app, db_session, client):
    rounds = finalists_edition(year=YEAR, open_kind=StageKind.PANEL_REVIEW)
    db_session.commit()
    target = rounds.finalists[0]
    assert client.get(f"/public/{YEAR}/finalists").status_code == 404
    assert client.get(f"/public/{YEAR}/finalists/{target.id}/objection").status_code == 404
    assert post_objection(client, target.id).status_code == 404
    assert client.get(f"/public/{YEAR}/objections/status").status_code == 404
    assert 'data-testid="finalists-link"' not in text(client.get(f"/public/{YEAR}/"))
    assert objections_of(db_session) == []


def test_the_public_finalist_list_shows_what_is_public_and_nothing_else(scene, client, db_session):
    edition = scene.edition
    judge = PanelistFactory(name="Prof. Rahasia Panelis")
    EvaluatorFactory(name="Dr. Rahasia Evaluator")
    for entry in scene.shortlist.entries:
        entry.score = Decimal("77.71")
    draft = Shortlist(edition_id=edition.id, kind=ShortlistKind.WINNERS, built_by_id=scene.secretariat.id)
    db_session.add(draft)
    drafted = ProposalFactory(edition=edition, status=ProposalStatus.NOMINATED, title="Inovasi Draf Tersembunyi")
    draft.entries.append(ShortlistEntry(proposal_id=drafted.id, group_code=drafted.group.code, rank=1,
                                        score=Decimal("66.61"), cluster=drafted.agency.cluster,
                                        proposed=True, chosen=True, reason=None))
    star = scene.finalists[3]  # a kabupaten in a 3T region
    summary_key = sa.select(Section.id).where(Section.group_id == star.group_id, Section.key == "ringkasan")
    background = sa.select(Section.id).where(Section.group_id == star.group_id, Section.key == "latar_belakang")
    db_session.scalar(sa.select(ProposalAnswer).where(
        ProposalAnswer.proposal_id == star.id, ProposalAnswer.section_id == summary_key.scalar_subquery())
    ).text = "Ringkasan publik: antrean puskesmas dipangkas dengan pendaftaran lewat pesan singkat."
    db_session.scalar(sa.select(ProposalAnswer).where(
        ProposalAnswer.proposal_id == star.id, ProposalAnswer.section_id == background.scalar_subquery())
    ).text = "Latar belakang yang tidak untuk umum."
    db_session.commit()

    edition_page = client.get(f"/public/{YEAR}/")
    assert 'data-testid="finalists-link"' in text(edition_page)
    response = client.get(f"/public/{YEAR}/finalists")
    assert response.status_code == 200
    page = text(response)
    assert page.count('data-testid="finalist-row"') == len(scene.finalists)
    for proposal in scene.finalists:
        assert proposal.title in page and proposal.agency.name in page
    assert "Ringkasan publik: antrean puskesmas" in page
    region = star.agency.region
    assert region.name in page and region.parent.name in page  # the kabupaten and its province
    assert '<html lang="id">' in page and edition.groups[0].name_id in page  # Bahasa Indonesia by default
    assert scene.finalists[0].category.name_id in page
    window = edition.stage(StageKind.OBJECTION)
    assert window.closes_at.astimezone(WIB).strftime("%d-%m-%Y %H:%M WIB") in page
    assert 'data-open="yes"' in page
    # Nothing else: not the nominees passed over, scores, judges, minutes, drafts, other answers, numbers.
    for hidden in [*(p.title for p in scene.not_chosen), "77.71", "66.61", "Inovasi Draf Tersembunyi",
                   judge.name, "Dr. Rahasia Evaluator", scene.shortlist.minutes, "Latar belakang yang tidak",
                   scene.secretariat.name, *(p.number for p in scene.finalists)]:
        assert hidden not in page, hidden
    # Not ordered by rank: the panel's ranking stays private.
    umum = [p for p in scene.finalists if p.group.code.value == "umum"]
    by_agency = sorted(umum, key=lambda p: (p.agency.name.casefold(), p.title.casefold()))
    positions = [page.index(p.title) for p in by_agency]
    assert positions == sorted(positions)

    # English through the language switch, without an account.
    client.post("/language", data={"locale": "en", "next": f"/public/{YEAR}/finalists"})
    english = text(client.get(f"/public/{YEAR}/finalists"))
    assert edition.groups[0].name_en in english and scene.finalists[0].category.name_en in english
    assert '<html lang="en">' in english and "Finalists of" in english


def test_the_objection_page_404s_for_anyone_not_a_chosen_finalist(scene, client, db_session):
    passed_over = scene.not_chosen[0]
    other = ProposalFactory(edition=scene.edition, status=ProposalStatus.SUBMITTED)
    db_session.commit()
    for proposal_id in (passed_over.id, other.id, 999_999):
        assert client.get(f"/public/{YEAR}/finalists/{proposal_id}/objection").status_code == 404
        assert post_objection(client, proposal_id).status_code == 404
    assert client.get(f"/public/{YEAR + 1}/finalists/{scene.finalists[0].id}/objection").status_code == 404
    assert objections_of(db_session) == []


# --- filing -------------------------------------------------------------------------------------------------


def test_an_objection_is_filed_with_a_receipt_and_the_secretariat_is_told(app, scene, client, db_session,
                                                                          outbox_mail):
    target = scene.finalists[1]
    response = post_objection(client, target.id, contact="+62 812-3456-7890",
                              evidence=(io.BytesIO(PDF), "bukti sanggahan.pdf"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/public/{YEAR}/objections/receipt")
    receipt = text(client.get(response.headers["Location"]))
    assert f"SGH/{YEAR}/00001" in receipt and target.title in receipt
    assert f"/public/{YEAR}/objections/status" in receipt

    [objection] = objections_of(db_session)
    assert objection.reference == f"SGH/{YEAR}/00001" and objection.proposal_id == target.id
    assert objection.status is ObjectionStatus.PENDING and objection.contact == "+6281234567890"
    assert objection.reason == REASON and objection.name == "Warga Peduli"
    assert objection.client_hash == rules.client_hash(app.config["SECRET_KEY"], "127.0.0.1")
    assert "127.0.0.1" not in objection.client_hash
    assert objection.evidence.content_type == "application/pdf" and objection.evidence.size_bytes == len(PDF)
    assert objection.evidence.uploaded_by_id is None

    [told] = notifications(db_session, "objection_filed")
    assert told.user_id == scene.secretariat.id and objection.reference in told.message
    assert told.link == f"/admin/editions/{scene.edition.id}/objections/{objection.id}"
    assert any(objection.reference in mail.subject for mail in outbox_mail())
    audit = db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "objection.filed"))
    assert audit.actor_id is None and audit.object_label == objection.reference
    assert "warga" not in str(audit.after).lower()

    again = post_objection(client, target.id, contact="warga2@example.com")
    assert again.status_code == 302
    assert [o.reference for o in objections_of(db_session)] == [f"SGH/{YEAR}/00001", f"SGH/{YEAR}/00002"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"contact": "0812"}, "Indonesian telephone number"),
    ({"contact": "warga@"}, "Indonesian telephone number"),
    ({"reason": "Tidak setuju."}, "at least 50 characters"),
    ({"reason": "x" * 5001}, "at most 5000 characters"),
    ({"name": ""}, "Give your name"),
])
def test_bad_input_is_refused_and_keeps_what_was_typed(scene, english, db_session, overrides, message):
    target = scene.finalists[0]
    response = post_objection(english, target.id, **overrides)
    page = text(response)
    assert response.status_code == 200 and message in page
    for kept in ({**form_data(), **overrides}).values():
        if kept and len(kept) < 200:
            assert kept in page
    assert objections_of(db_session) == []


def test_evidence_of_the_wrong_type_or_size_is_refused_and_the_text_kept(scene, english, db_session):
    target = scene.finalists[0]
    scene.edition.max_file_mb = 1
    db_session.commit()
    disguised = post_objection(english, target.id, evidence=(io.BytesIO(b"MZ\x90\x00 not a pdf"), "bukti.pdf"))
    page = text(disguised)
    assert disguised.status_code == 200
    assert "is not a PDF, JPEG or PNG file" in page
    assert REASON in page and "warga.peduli@example.com" in page and "Warga Peduli" in page
    assert 'data-testid="file-lost"' in page

    large = PNG + b"\x00" * (1024 * 1024 + 10)
    too_big = post_objection(english, target.id, evidence=(io.BytesIO(large), "foto.png"))
    assert too_big.status_code == 200
    assert "a file may be at most 1 MB" in text(too_big) and REASON in text(too_big)

    empty = post_objection(english, target.id, evidence=(io.BytesIO(b""), "kosong.pdf"))
    assert "is empty" in text(empty)

    # Past the request limit the body is not even read.
    huge = PDF + b"\x00" * rules.request_limit_bytes(1)
    assert post_objection(english, target.id, evidence=(io.BytesIO(huge), "besar.pdf")).status_code == 413
    assert objections_of(db_session) == []


def test_the_honeypot_keeps_robots_out(scene, english, db_session):
    response = post_objection(english, scene.finalists[0].id, website="http://spam.example")
    assert response.status_code == 200
    assert "Leave the last field empty" in text(response)
    assert objections_of(db_session) == [] and notifications(db_session, "objection_filed") == []


def test_objections_against_a_disqualified_finalist_are_refused(app, scene, english, db_session):
    target = scene.finalists[0]
    objection = file_directly(app, scene, target, now=utcnow())
    with app.test_request_context():
        services.rule(scene.secretariat, objection, decision=ObjectionStatus.UPHELD,
                      ruling="Data terbukti tidak benar menurut klarifikasi instansi.")
    db_session.commit()
    response = post_objection(english, target.id)
    assert "no longer among the finalists" in text(response)
    assert len(objections_of(db_session, target.id)) == 1


# --- the filer's look-up ------------------------------------------------------------------------------------


def test_the_filer_looks_up_status_and_ruling_by_reference_and_contact(app, scene, client, db_session):
    target = scene.finalists[2]
    post_objection(client, target.id, contact="0812 3456 7890")
    [objection] = objections_of(db_session)
    url = f"/public/{YEAR}/objections/status"
    assert client.get(url).status_code == 200

    wrong = text(client.post(url, data={"reference": objection.reference, "contact": "0812 0000 0000"}))
    assert 'data-testid="not-found"' in wrong and target.title not in wrong
    pending = text(client.post(url, data={"reference": objection.reference.lower(), "contact": "+6281234567890"}))
    assert 'data-status="pending"' in pending and target.title in pending

    with app.test_request_context():
        services.rule(scene.secretariat, objection, decision=ObjectionStatus.REJECTED,
                      ruling="Data sudah diverifikasi ulang dan sesuai dengan laporan resmi.")
    db_session.commit()
    ruled = text(client.post(url, data={"reference": objection.reference, "contact": "081234567890"}))
    assert 'data-status="rejected"' in ruled and "diverifikasi ulang" in ruled


# --- rulings ------------------------------------------------------------------------------------------------


def ruling_url(rounds: Any, objection: Objection) -> str:
    return f"/admin/editions/{rounds.edition.id}/objections/{objection.id}/ruling"


def test_an_upheld_objection_disqualifies_the_finalist_and_tells_its_agency(app, scene, client, db_session,
                                                                            outbox_mail):
    target = scene.finalists[0]
    objection = file_directly(app, scene, target, now=utcnow(), evidence_name="bukti.pdf", evidence_data=PDF)
    db_session.commit()
    Login(client)(scene.secretariat)
    listing = text(client.get(f"/admin/editions/{scene.edition.id}/objections"))
    assert objection.reference in listing
    detail = text(client.get(f"/admin/editions/{scene.edition.id}/objections/{objection.id}"))
    assert 'data-testid="final-warning"' in detail and REASON in detail and "+6281234567890" in detail

    ruling = "Data penerima manfaat terbukti tidak benar menurut klarifikasi instansi."
    response = client.post(ruling_url(scene, objection), data={"decision": "upheld", "ruling": ruling, "final": "y"})
    assert response.status_code == 302
    db_session.expire_all()
    assert objection.status is ObjectionStatus.UPHELD and objection.ruling == ruling
    assert objection.ruled_by_id == scene.secretariat.id and objection.ruled_at is not None
    assert target.status is ProposalStatus.DISQUALIFIED
    event = db_session.scalar(sa.select(ProposalEvent).where(ProposalEvent.proposal_id == target.id,
                                                             ProposalEvent.action == "disqualify"))
    assert event.actor_id == scene.secretariat.id and objection.reference in event.comment
    told = people(db_session, notifications(db_session, "finalist_disqualified"))
    assert {scene.admins[target.agency_id], scene.upps[target.agency_id]} <= told
    assert {u.agency_id for u in told} == {target.agency_id}
    assert any(ruling in n.message for n in notifications(db_session, "finalist_disqualified"))
    assert db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "objection.ruled")) is not None

    # Final: a second ruling is refused and changes nothing.
    again = client.post(ruling_url(scene, objection),
                        data={"decision": "rejected", "ruling": "Berubah pikiran setelah rapat.", "final": "y"})
    assert "already been ruled on" in text(again)
    db_session.expire_all()
    assert objection.status is ObjectionStatus.UPHELD

    public = text(client.get(f"/public/{YEAR}/finalists"))
    assert 'data-testid="disqualified"' in public and ruling not in public


def test_a_rejected_objection_keeps_the_finalist(app, scene, client, db_session):
    target = scene.finalists[1]
    objection = file_directly(app, scene, target, now=utcnow())
    db_session.commit()
    Login(client)(scene.secretariat)
    response = client.post(ruling_url(scene, objection), data={
        "decision": "rejected", "ruling": "Klaim pelapor tidak didukung bukti yang cukup.", "final": "y"})
    assert response.status_code == 302
    db_session.expire_all()
    assert objection.status is ObjectionStatus.REJECTED and target.status is ProposalStatus.FINALIST
    assert notifications(db_session, "finalist_disqualified") == []


@pytest.mark.parametrize(("data", "message"), [
    ({"decision": "upheld", "ruling": "", "final": "y"}, "Give the reasons for the ruling"),
    ({"decision": "upheld", "ruling": "Terbukti.", "final": "y"}, "at least 20 characters"),
    ({"decision": "upheld", "ruling": "Data terbukti tidak benar menurut instansi."}, "Tick this box"),
    ({"ruling": "Data terbukti tidak benar menurut instansi.", "final": "y"}, "rejected or upheld"),
])
def test_a_ruling_needs_a_decision_reasons_and_the_final_tick(app, scene, client, db_session, data, message):
    objection = file_directly(app, scene, scene.finalists[0], now=utcnow())
    db_session.commit()
    Login(client)(scene.secretariat)
    response = client.post(ruling_url(scene, objection), data=data)
    assert response.status_code == 200 and message in text(response)
    if data.get("ruling"):
        assert data["ruling"] in text(response)
    db_session.expire_all()
    assert objection.status is ObjectionStatus.PENDING and scene.finalists[0].status is ProposalStatus.FINALIST


def test_rulings_need_the_objection_stage_open(app, scene, client, db_session):
    objection = file_directly(app, scene, scene.finalists[0], now=utcnow())
    scene.edition.stage(StageKind.OBJECTION).status = StageStatus.CLOSED
    db_session.commit()
    Login(client)(scene.secretariat)
    response = client.post(ruling_url(scene, objection), data={
        "decision": "upheld", "ruling": "Data terbukti tidak benar menurut instansi.", "final": "y"})
    assert "is closed" in text(response)
    db_session.expire_all()
    assert objection.status is ObjectionStatus.PENDING and scene.finalists[0].status is ProposalStatus.FINALIST


def test_the_list_counts_and_filters_by_status_and_finalist(app, scene, client, db_session):
    first, second = scene.finalists[0], scene.finalists[1]
    a = file_directly(app, scene, first, now=utcnow(), name="Pelapor Satu")
    b = file_directly(app, scene, first, now=utcnow(), name="Pelapor Dua")
    c = file_directly(app, scene, second, now=utcnow(), name="Pelapor Tiga")
    with app.test_request_context():
        services.rule(scene.secretariat, b, decision=ObjectionStatus.REJECTED,
                      ruling="Tidak didukung bukti yang cukup dari pelapor.")
    db_session.commit()
    Login(client)(scene.secretariat)
    base = f"/admin/editions/{scene.edition.id}/objections"
    assert services.counts(scene.edition) == {ObjectionStatus.PENDING: 2, ObjectionStatus.REJECTED: 1,
                                              ObjectionStatus.UPHELD: 0}
    pending = text(client.get(f"{base}?status=pending"))
    assert a.reference in pending and c.reference in pending and b.reference not in pending
    of_first = text(client.get(f"{base}?proposal={first.id}"))
    assert a.reference in of_first and b.reference in of_first and c.reference not in of_first
    both = text(client.get(f"{base}?proposal={first.id}&status=rejected"))
    assert b.reference in both and a.reference not in both
    tallies = {t.proposal.id: t.counts for t in services.finalist_tallies(scene.edition)}
    assert tallies[first.id][ObjectionStatus.PENDING] == 1 and tallies[first.id][ObjectionStatus.REJECTED] == 1
    assert len(tallies) == len(scene.finalists)


# --- confirmation -------------------------------------------------------------------------------------------


def confirm(client: Any, rounds: Any, **data: Any) -> Any:
    values = {"decree_number": "B/123/PP.00.05/2033", "decree_date": "2033-06-22"}
    values.update(data)
    return client.post(f"/admin/editions/{rounds.edition.id}/objections/confirm", data=values)


def test_confirmation_waits_for_the_end_of_the_window(scene, client, db_session):
    Login(client)(scene.secretariat)
    response = confirm(client, scene, decree_date=utcnow().astimezone(WIB).date().isoformat())
    assert response.status_code == 200
    assert "the finalists can be confirmed after that" in text(response)
    db_session.expire_all()
    assert scene.shortlist.confirmed_at is None
    assert all(p.status is ProposalStatus.FINALIST for p in scene.finalists)


def test_confirmation_guards_then_confirms_the_remaining_finalists(app, scene, client, db_session, outbox_mail):
    dropped, doubted = scene.finalists[0], scene.finalists[1]
    upheld = file_directly(app, scene, dropped, now=utcnow())
    pending = file_directly(app, scene, doubted, now=utcnow())
    with app.test_request_context():
        services.rule(scene.secretariat, upheld, decision=ObjectionStatus.UPHELD,
                      ruling="Data terbukti tidak benar menurut klarifikasi instansi.")
    end_window(scene, db_session)
    today = utcnow().astimezone(WIB).date()
    Login(client)(scene.secretariat)
    page = text(client.get(f"/admin/editions/{scene.edition.id}/objections"))
    assert "1 objection awaits a ruling." in page

    blocked = confirm(client, scene, decree_date=today.isoformat())
    assert "1 objection awaits a ruling; rule on it first." in text(blocked)
    db_session.expire_all()
    assert scene.shortlist.confirmed_at is None

    client.post(ruling_url(scene, pending), data={
        "decision": "rejected", "ruling": "Klaim pelapor tidak didukung bukti yang cukup.", "final": "y"})
    assert services.pending_count(scene.edition) == 0
    no_number = confirm(client, scene, decree_number="  ", decree_date=today.isoformat())
    assert "Give the number of the decree" in text(no_number)
    no_date = confirm(client, scene, decree_date="")
    assert "Give the date of the decree" in text(no_date) and "B/123/PP.00.05/2033" in text(no_date)
    future = confirm(client, scene, decree_date=(today + dt.timedelta(days=3)).isoformat())
    assert "cannot be in the future" in text(future)
    db_session.expire_all()
    assert scene.shortlist.confirmed_at is None

    done = confirm(client, scene, decree_date=today.isoformat())
    assert done.status_code == 302
    db_session.expire_all()
    shortlist = scene.shortlist
    assert shortlist.confirmed_at is not None and shortlist.confirmed_by_id == scene.secretariat.id
    assert shortlist.decree_number == "B/123/PP.00.05/2033" and shortlist.decree_date == today
    assert dropped.status is ProposalStatus.DISQUALIFIED
    remaining = [p for p in scene.finalists if p is not dropped]
    assert all(p.status is ProposalStatus.CONFIRMED for p in remaining)
    assert all(p.status is ProposalStatus.NOT_FINALIST for p in scene.not_chosen)
    told = people(db_session, notifications(db_session, "finalist_confirmed"))
    assert {u for p in remaining for u in (scene.admins[p.agency_id], scene.upps[p.agency_id])} <= told
    assert {u.agency_id for u in told} == {p.agency_id for p in remaining}
    assert {u.role for u in told} == {Role.ADMIN_LOKAL, Role.UPP}
    assert all("B/123/PP.00.05/2033" in n.message for n in notifications(db_session, "finalist_confirmed"))
    assert db_session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "shortlist.finalists_confirmed")) is not None

    public = text(client.get(f"/public/{YEAR}/finalists"))
    assert "B/123/PP.00.05/2033" in public and 'data-testid="disqualified"' in public
    again = confirm(client, scene, decree_number="B/999/2033", decree_date=today.isoformat())
    assert "already confirmed" in text(again)


def test_confirmation_needs_the_objection_stage_open(scene, client, db_session):
    end_window(scene, db_session)
    scene.edition.stage(StageKind.OBJECTION).status = StageStatus.CLOSED
    db_session.commit()
    Login(client)(scene.secretariat)
    response = confirm(client, scene, decree_date=utcnow().astimezone(WIB).date().isoformat())
    assert "is closed" in text(response)
    db_session.expire_all()
    assert scene.shortlist.confirmed_at is None


# --- access -------------------------------------------------------------------------------------------------


def test_secretariat_pages_are_404_for_every_other_role(app, scene, db_session):
    target = scene.finalists[0]
    objection = file_directly(app, scene, target, now=utcnow(), evidence_name="bukti.png", evidence_data=PNG)
    db_session.commit()
    base = f"/admin/editions/{scene.edition.id}/objections"
    own_admin = scene.admins[target.agency_id]
    other_agency_admin = next(a for agency_id, a in scene.admins.items() if agency_id != target.agency_id)
    for person in (own_admin, other_agency_admin, scene.upps[target.agency_id], EvaluatorFactory(),
                   PanelistFactory()):
        db_session.commit()
        client = as_user(app, person)
        for url in (base, f"{base}/{objection.id}", f"{base}/{objection.id}/evidence"):
            assert client.get(url).status_code == 404, (person.role, url)
        assert client.post(ruling_url(scene, objection), data={
            "decision": "upheld", "ruling": "Data terbukti tidak benar menurut instansi.", "final": "y"}
        ).status_code == 404
        assert confirm(client, scene).status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(f"{base}/{objection.id}/evidence").status_code == 302  # to the login page
    db_session.expire_all()
    assert objection.status is ObjectionStatus.PENDING

    secretariat = as_user(app, scene.secretariat)
    download = secretariat.get(f"{base}/{objection.id}/evidence")
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["Content-Type"] == "image/png" and "attachment" in download.headers["Content-Disposition"]
    other = finalists_edition(year=YEAR + 1)
    db_session.commit()
    assert secretariat.get(f"/admin/editions/{other.edition.id}/objections/{objection.id}").status_code == 404
    no_evidence = file_directly(app, scene, target, now=utcnow())
    db_session.commit()
    assert secretariat.get(f"{base}/{no_evidence.id}/evidence").status_code == 404


# --- CSRF and the rate limit, switched on as in production ---------------------------------------------------


@pytest.fixture()
def guarded_app(tmp_path: Path) -> Iterator[tuple[Flask, int]]:
    """An app with CSRF and the rate limits on (the objection limit set to 2 per hour), for one test:
    the limiter is one object for every app, so it is switched back off afterwards."""
    was_enabled = limiter.enabled
    application = build_app(f"sqlite:///{tmp_path / 'guarded.sqlite3'}", tmp_path, WTF_CSRF_ENABLED=True,
                            RATELIMIT_ENABLED=True, env={"KIPP_OBJECTION_RATE_LIMIT": "2 per hour"})
    migrate_and_load(application)
    with application.app_context():
        rounds = finalists_edition(year=YEAR)
        proposal_id = rounds.finalists[0].id
        db.session.commit()
    try:
        limiter.reset()
        yield application, proposal_id
    finally:
        limiter.reset()
        limiter.enabled = was_enabled
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def test_csrf_and_the_rate_limit_guard_the_objection_form(guarded_app):
    application, proposal_id = guarded_app
    url = f"/public/{YEAR}/finalists/{proposal_id}/objection"
    client = application.test_client()
    assert client.post(url, data=form_data(), environ_base={"REMOTE_ADDR": "10.7.7.7"}).status_code == 400
    page = text(client.get(url))
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]

    def send(address: str) -> int:
        return client.post(url, data={**form_data(), "csrf_token": token}, content_type="multipart/form-data",
                           environ_base={"REMOTE_ADDR": address}).status_code

    codes = [send("10.9.9.9") for _ in range(3)]
    assert codes[:2] == [302, 302] and codes[2] == 429
    assert send("10.8.8.8") == 302  # another address has its own allowance
    with application.app_context():
        hashes = list(db.session.scalars(sa.select(Objection.client_hash)))
        assert len(hashes) == 3 and len(set(hashes)) == 2
        assert not any(address in h for h in hashes for address in ("10.9.9.9", "10.8.8.8"))
