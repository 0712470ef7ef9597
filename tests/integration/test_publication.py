"""Publishing the result: the guards, the public page (and what it must not show), the outcome
notices to every participating agency, the certificates (PDF, verification, batch and ZIP, the
agencies' downloads) and the workbook of every stage's results.

The scene is ``tests.publication_factories.winners_edition``: the final result frozen with its
decree, the announcement stage open. Outbox jobs run in-process after each request, as in the
embedded default, so publishing through the page also sends the notices and writes the batch."""

from __future__ import annotations

import html
import io
import re
import zipfile
import zlib

import pytest
import sqlalchemy as sa

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.audit.models import AuditEvent
from kipp.agencies.models import Region
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.judging.models import RunStatus
from kipp.notifications.models import EmailMessage, Notification
from kipp.objections.models import Objection, ObjectionStatus
from kipp.presentations.models import Attendance, PresentationSlot
from kipp.proposals.models import Proposal, ProposalAnswer
from kipp.proposals.states import ProposalStatus
from kipp.publication import certificates, jobs, services
from kipp.publication.models import CertificateBatch
from kipp.scoring.models import ProposalScore
from kipp.selection.models import Shortlist
from tests.conftest import count_queries
from tests.factories import AdminLokalFactory
from tests.publication_factories import (
    FINALISTS_DECREE,
    SECRET_REASON,
    SECRET_SCORE,
    WINNERS_DECREE,
    all_participants,
    certificate_folder,  # noqa: F401  a fixture
    winners_edition,
)
from tests.proposal_factories import ProposalFactory

# Each test writes its certificates in a folder of its own.
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("certificate_folder")]


def text(response):
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture()
def scene(db_session):
    return winners_edition()


@pytest.fixture()
def secretariat(login, scene):
    login(scene.secretariat)
    return scene.secretariat


def publish(client, scene):
    return client.post(f"/admin/editions/{scene.edition.id}/publication/publish", follow_redirects=True)


def winners_list(db_session, scene) -> Shortlist:
    db_session.expire_all()
    return db_session.get(Shortlist, scene.winners_list.id)


def tier_of(scene, proposal):
    return next(e.tier for e in scene.winners_list.entries if e.proposal_id == proposal.id)


def pdf_info(pdf: bytes) -> dict[str, str]:
    """The document information (Title, Subject, Keywords) of a WeasyPrint PDF: the dictionary
    beside /Producer, in one of the compressed object streams (bookmarks have titles too)."""
    found: dict[str, str] = {}
    # Each stream is read by its declared /Length: compressed bytes may end in, or contain, anything.
    for match in re.finditer(rb"/Length (\d+)[^>]*>>\s*stream\r?\n", pdf):
        start = match.end()
        try:
            stream = zlib.decompress(pdf[start:start + int(match.group(1))])
        except zlib.error:
            continue
        if b"/Producer" not in stream:
            continue
        at = stream.index(b"/Producer")
        end = stream.find(b"\n", at)
        data = stream[stream.rfind(b"<<", 0, at):end if end != -1 else len(stream)]
        for key in ("Title", "Subject", "Keywords"):
            value = re.search(rb"/" + key.encode() + rb" (<[0-9a-fA-F]+>|\((?:[^()\\]|\\.)*\))", data)
            if value is None:
                continue
            raw = value.group(1)
            if raw.startswith(b"<"):
                decoded = bytes.fromhex(raw[1:-1].decode())
                found[key] = decoded[2:].decode("utf-16-be") if decoded[:2] == b"\xfe\xff" else decoded.decode()
            else:
                found[key] = re.sub(rb"\\(.)", rb"\1", raw[1:-1]).decode("latin-1")
    return found


# --- publishing: the guards ----------------------------------------------------------------------


def test_the_page_shows_what_publishing_needs_and_the_preview(client, secretariat, scene):
    page = text(client.get(f"/admin/editions/{scene.edition.id}/publication"))
    assert 'data-check="stage" data-ok="yes"' in page
    assert 'data-check="frozen" data-ok="yes"' in page
    assert f"Decree {WINNERS_DECREE}." in page
    preview = page.split('data-testid="results-preview"')[1]
    for winner in scene.winners:
        assert winner.title in preview
    assert '<button class="btn btn-primary">Publish the results</button>' in page  # enabled


def test_the_publish_button_is_disabled_until_ready(client, login, db_session):
    scene = winners_edition(open_kind=StageKind.FINAL)
    login(scene.secretariat)
    page = text(client.get(f"/admin/editions/{scene.edition.id}/publication"))
    assert '<button class="btn btn-primary" disabled>Publish the results</button>' in page


def test_publishing_needs_the_announcement_stage_open(client, login, db_session):
    scene = winners_edition(open_kind=StageKind.FINAL)
    login(scene.secretariat)
    page = text(client.get(f"/admin/editions/{scene.edition.id}/publication"))
    assert 'data-check="stage" data-ok="no"' in page
    response = text(publish(client, scene))
    assert "Not possible now" in response and "Announcement" in response
    assert winners_list(db_session, scene).published_at is None
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CertificateBatch)) == 0


def test_publishing_needs_the_final_result_frozen(client, login, db_session):
    scene = winners_edition(freeze=False)
    login(scene.secretariat)
    response = text(publish(client, scene))
    assert "The final result is not frozen yet" in response
    assert winners_list(db_session, scene).published_at is None


def test_publishing_needs_the_decree_number(client, login, db_session):
    scene = winners_edition(decree=None)
    login(scene.secretariat)
    page = text(client.get(f"/admin/editions/{scene.edition.id}/publication"))
    assert 'data-check="decree" data-ok="no"' in page
    response = text(publish(client, scene))
    assert "The final result has no decree number" in response
    assert winners_list(db_session, scene).published_at is None


def test_publishing_is_recorded_once_and_refused_twice(client, secretariat, scene, db_session):
    response = text(publish(client, scene))
    assert "The results are published" in response
    published = winners_list(db_session, scene)
    assert published.published_at is not None and published.published_by_id == secretariat.id
    again = text(publish(client, scene))
    assert "already published" in again
    assert winners_list(db_session, scene).published_at == published.published_at
    events = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "results.published")).all()
    assert len(events) == 1 and events[0].actor_id == secretariat.id
    assert events[0].after["decree_number"] == WINNERS_DECREE
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CertificateBatch)) == 1


def test_other_roles_do_not_reach_the_publication(client, login, scene):
    login(scene.rounds.admins[scene.winners[0].agency_id])
    assert client.get(f"/admin/editions/{scene.edition.id}/publication").status_code == 404
    assert client.post(f"/admin/editions/{scene.edition.id}/publication/publish").status_code == 404


# --- the outcome notices -------------------------------------------------------------------------


def notices(db_session):
    return db_session.scalars(sa.select(Notification).where(Notification.kind == "result_published")).all()


def test_every_participating_agency_is_told_each_outcome_once(client, secretariat, scene, db_session, outbox_mail):
    publish(client, scene)
    sent = notices(db_session)
    by_link: dict[str, set[int]] = {}
    for note in sent:
        by_link.setdefault(note.link, set()).add(note.user_id)
    participants = all_participants(scene)
    assert len(by_link) == len(participants)
    expected = 0
    for proposal in participants:
        people = set(db_session.scalars(sa.select(User.id).where(sa.or_(
            sa.and_(User.role == Role.ADMIN_LOKAL, User.agency_id == proposal.agency_id),
            sa.and_(User.role == Role.UPP, User.unit_id == proposal.unit_id)))))
        assert {scene.rounds.admins[proposal.agency_id].id, scene.rounds.upps[proposal.agency_id].id} <= people
        assert by_link[f"/results/proposals/{proposal.id}"] == people, proposal.title
        expected += len(people)
    assert len(sent) == expected  # nobody twice
    assert scene.draft_admin.id not in {n.user_id for n in sent}  # a draft is not taking part
    messages = {n.link: n.message for n in sent}
    winner = scene.winners[0]
    assert "winner: Top 45 Inovasi Pelayanan Publik Terpuji" in messages[f"/results/proposals/{winner.id}"]
    assert "a finalist, not among the winners" in messages[f"/results/proposals/{scene.finalists_only[0].id}"]
    failed = scene.others[ProposalStatus.ADMIN_FAILED]
    assert "did not pass the administrative screening" in messages[f"/results/proposals/{failed.id}"]
    assert "withdrawn" in messages[f"/results/proposals/{scene.others[ProposalStatus.WITHDRAWN].id}"]
    assert "nominee, not chosen as a finalist" in messages[f"/results/proposals/{scene.rounds.not_chosen[0].id}"]
    assert "disqualified" in messages[f"/results/proposals/{scene.disqualified.id}"]
    mails = [m for m in outbox_mail() if "Results of KIPP 2033" in m.subject]
    assert len(mails) == len(sent)
    assert any(winner.number in m.subject and winner.title in m.body_text for m in mails)


def test_a_redelivered_notice_job_tells_nobody_twice(client, secretariat, scene, db_session):
    publish(client, scene)
    before = len(notices(db_session))
    emails = db_session.scalar(sa.select(sa.func.count()).select_from(EmailMessage))
    jobs.notify_outcomes(0, edition_id=scene.edition.id)
    db_session.flush()
    assert len(notices(db_session)) == before
    assert db_session.scalar(sa.select(sa.func.count()).select_from(EmailMessage)) == emails


def test_notices_are_in_each_readers_language(client, secretariat, scene, db_session):
    admin = scene.rounds.admins[scene.winners[0].agency_id]
    admin.locale = "id"
    db_session.flush()
    publish(client, scene)
    note = db_session.scalar(sa.select(Notification).where(
        Notification.user_id == admin.id, Notification.link == f"/results/proposals/{scene.winners[0].id}"))
    assert note.message.startswith("Hasil KIPP 2033")  # the notice's own words in the reader's language
    assert "Top 45 Inovasi Pelayanan Publik Terpuji" in note.message


# --- the public results page ---------------------------------------------------------------------


def test_the_public_page_appears_only_with_publication(client, secretariat, scene, db_session):
    summary = db_session.scalar(sa.select(ProposalAnswer).join(ProposalAnswer.section).where(
        ProposalAnswer.proposal_id == scene.winners[0].id, sa.text("sections.key = 'ringkasan'")))
    summary.text = "Ringkasan pemenang: antrean layanan daring tanpa tatap muka."
    db_session.flush()
    client.post("/logout")
    assert client.get("/public/2033/results").status_code == 404
    assert "results-link" not in text(client.get("/public/2033/"))
    from tests.conftest import Login

    Login(client)(scene.secretariat)
    publish(client, scene)
    client.post("/logout")
    page = text(client.get("/public/2033/results"))
    assert 'data-testid="results-link"' in text(client.get("/public/2033/"))
    for winner in scene.winners:
        assert winner.title in page and winner.agency.name in page
    assert page.count('data-testid="result-winner"') == len(scene.winners)
    assert page.count('data-testid="result-finalist"') == len(scene.finalists_only)
    assert "Top 45 Inovasi Pelayanan Publik Terpuji" in page
    assert "Outstanding Achievement of Public Service Innovation" in page
    assert "Ringkasan pemenang: antrean layanan daring tanpa tatap muka." in page
    in_ntt = next(p for p in scene.winners + scene.finalists_only if p.agency.region_code == "53.18")
    region = db_session.get(Region, "53.18")
    assert in_ntt.title in page and f"{region.name}, Nusa Tenggara Timur" in page
    assert scene.winners[0].category.name_id in page
    assert WINNERS_DECREE in page


def test_the_public_page_leaks_nothing_else(client, secretariat, scene, db_session):
    objection = Objection(edition_id=scene.edition.id, proposal_id=scene.disqualified.id, reference="SGH-2033-0001",
                          name="Pelapor Rahasia", contact="pelapor@contoh.id", reason="Data palsu.",
                          client_hash="0" * 64, status=ObjectionStatus.UPHELD, ruling="Terbukti.",
                          ruled_by_id=scene.secretariat.id, ruled_at=scene.winners_list.frozen_at)
    db_session.add(objection)
    db_session.flush()
    publish(client, scene)
    client.post("/logout")
    page = text(client.get("/public/2033/results"))
    hidden = [str(SECRET_SCORE), str(SECRET_SCORE - 1), "84.20", "88.30", SECRET_REASON, "Berita acara",
              scene.disqualified.title, *(p.title for p in scene.rounds.not_chosen),
              *(p.title for p in scene.others.values()), scene.draft.title, "Pelapor Rahasia", "pelapor@contoh.id",
              scene.secretariat.name, scene.secretariat.email, FINALISTS_DECREE]
    for secret in hidden:
        assert secret not in page, secret
    for number in (p.number for p in all_participants(scene)):
        assert number not in page  # no proposal numbers, no ranks


def test_the_public_page_speaks_english_on_request(client, secretariat, scene):
    publish(client, scene)
    client.post("/logout")
    assert '<html lang="id">' in text(client.get("/public/2033/results"))  # Bahasa Indonesia by default
    client.post("/language", data={"locale": "en", "next": "/public/2033/results"})
    page = text(client.get("/public/2033/results"))
    assert "Results of KIPP 2033" in page and "Finalists" in page
    assert '<html lang="en">' in page


# --- certificates --------------------------------------------------------------------------------


def test_a_certificate_is_a_pdf_with_the_innovation_the_tier_and_its_code(app, scene, db_session):
    winner = scene.winners[0]
    pdf = certificates.render_certificate(winner.id, tier_of(scene, winner))
    assert pdf.startswith(b"%PDF")
    info = pdf_info(pdf)
    code = certificates.verification_code(winner.id, tier_of(scene, winner))
    assert info == {"Title": winner.title, "Subject": "Top 45 Inovasi Pelayanan Publik Terpuji", "Keywords": code}
    found = certificates.certificate_for(scene.edition, winner.id)
    html_text = certificates.Renderer(scene.edition, [winner.id]).html(found)
    for part in (winner.title, winner.agency.name, winner.unit.name, WINNERS_DECREE, "31 Juli 2033", code,
                 f"http://kipp.test/public/2033/certificates/{code}", "Top 45 Inovasi Pelayanan Publik Terpuji",
                 "KIPP 2033"):
        assert part in html.unescape(html_text), part


def test_finalists_get_a_finalist_certificate_and_the_disqualified_none(app, scene):
    issued = {c.proposal_id: c for c in certificates.certificates_of(scene.edition)}
    assert set(issued) == {p.id for p in scene.winners + scene.finalists_only}
    finalist = scene.finalists_only[0]
    certificate = issued[finalist.id]
    assert not certificate.is_winner
    html_text = html.unescape(certificates.Renderer(scene.edition, [finalist.id]).html(certificate))
    assert "Finalis" in html_text and FINALISTS_DECREE in html_text and "20 Juni 2033" in html_text
    info = pdf_info(certificates.render_certificate(finalist.id, certificate.tier))
    assert info["Title"] == finalist.title and info["Subject"].startswith("Final")


def test_a_certificate_code_is_verified_on_a_public_page(client, secretariat, scene):
    winner = scene.winners[0]
    code = certificates.verification_code(winner.id, tier_of(scene, winner))
    client.post("/logout")
    assert client.get(f"/public/2033/certificates/{code}").status_code == 404  # not yet published
    from tests.conftest import Login

    Login(client)(scene.secretariat)
    publish(client, scene)
    client.post("/logout")
    genuine = client.get(f"/public/2033/certificates/{code.lower().replace('-', '')}")
    assert genuine.status_code == 200
    page = text(genuine)
    assert 'data-testid="certificate-genuine"' in page and winner.title in page and code in page
    forged = client.get("/public/2033/certificates/AAAA-BBBB-CCCC")
    assert forged.status_code == 404 and 'data-testid="certificate-unknown"' in text(forged)
    # The same proposal with a tier it did not reach is not a certificate.
    other_tier = certificates.verification_code(winner.id, scene.rounds.shortlist.entries[0].tier)
    assert client.get(f"/public/2033/certificates/{other_tier}").status_code == 404


def test_publishing_generates_the_batch_with_progress_and_a_zip(client, secretariat, scene, db_session,
                                                                 certificate_folder):
    publish(client, scene)
    batch = db_session.scalar(sa.select(CertificateBatch))
    expected = len(scene.winners) + len(scene.finalists_only)
    assert (batch.status, batch.total, batch.done) == (RunStatus.DONE, expected, expected)
    assert batch.finished_at is not None and batch.archive_name.startswith("2033/")
    download = client.get(f"/admin/editions/{scene.edition.id}/publication/certificates.zip")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert len(pdfs) == expected
    index = archive.read("daftar-sertifikat.csv").decode("utf-8-sig")
    for proposal in scene.winners + scene.finalists_only:
        assert proposal.title in index
    assert all(archive.read(n).startswith(b"%PDF") for n in pdfs)
    page = text(client.get(f"/admin/editions/{scene.edition.id}/publication"))
    assert f"{expected} of {expected} certificates" in page and 'http-equiv="refresh"' not in page


def test_a_redelivered_batch_keeps_the_files_it_wrote(client, secretariat, scene, db_session):
    publish(client, scene)
    batch = db_session.scalar(sa.select(CertificateBatch))
    folder = certificates.batch_folder(batch, 2033)
    written = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.pdf")}
    first = sorted(written)[0]
    (folder / first).unlink()  # the worker died after writing all but this one
    batch.status, batch.done, batch.archive_name = RunStatus.RUNNING, 0, None
    db_session.flush()
    jobs.generate_certificates(0, batch_id=batch.id)
    db_session.refresh(batch)
    assert batch.status is RunStatus.DONE and batch.done == batch.total == len(written)
    again = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.pdf")}
    assert set(again) == set(written)
    assert all(again[name] == written[name] for name in written if name != first)
    jobs.generate_certificates(0, batch_id=batch.id)  # done: nothing more happens
    assert {p.name: p.stat().st_mtime_ns for p in folder.glob("*.pdf")} == again


def test_the_page_reloads_while_a_batch_runs_and_can_regenerate(client, secretariat, scene, db_session):
    publish(client, scene)
    running = CertificateBatch(edition_id=scene.edition.id, status=RunStatus.RUNNING, total=6, done=2)
    db_session.add(running)
    db_session.flush()
    page = text(client.get(f"/admin/editions/{scene.edition.id}/publication"))
    assert 'http-equiv="refresh"' in page and "2 of 6 certificates" in page
    response = text(client.post(f"/admin/editions/{scene.edition.id}/publication/certificates",
                                follow_redirects=True))
    assert "being generated again" in response
    db_session.expire_all()
    batches = db_session.scalars(sa.select(CertificateBatch).order_by(CertificateBatch.id)).all()
    assert [b.status for b in batches] == [RunStatus.DONE, RunStatus.RUNNING, RunStatus.DONE]
    # The older running batch, delivered now, gives way to the newer one.
    jobs.generate_certificates(0, batch_id=running.id)
    db_session.flush()
    db_session.refresh(running)
    assert running.status is RunStatus.FAILED and "superseded" in running.error


def test_certificates_cannot_be_regenerated_before_publication(client, secretariat, scene, db_session):
    response = text(client.post(f"/admin/editions/{scene.edition.id}/publication/certificates",
                                follow_redirects=True))
    assert "once the results are published" in response
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CertificateBatch)) == 0
    archive = client.get(f"/admin/editions/{scene.edition.id}/publication/certificates.zip", follow_redirects=True)
    assert archive.status_code == 200 and "No certificate archive is ready yet." in text(archive)


# --- the agencies -------------------------------------------------------------------------------


def test_agencies_see_their_outcomes_and_download_their_own_certificates(client, login, scene, db_session,
                                                                          app, tmp_path):
    winner = scene.winners[0]
    admin = scene.rounds.admins[winner.agency_id]
    login(admin)
    assert 'data-testid="no-results"' in text(client.get("/results/"))
    assert client.get(f"/results/proposals/{winner.id}").status_code == 404
    assert client.get(f"/results/proposals/{winner.id}/certificate.pdf").status_code == 404
    client.post("/logout")
    login(scene.secretariat)
    publish(client, scene)
    client.post("/logout")

    login(admin)
    index = text(client.get("/results/"))
    mine = [p for p in all_participants(scene) if p.agency_id == admin.agency_id]
    assert index.count('data-testid="agency-result"') == len(mine)
    assert "winner: Top 45 Inovasi Pelayanan Publik Terpuji" in index
    download = client.get(f"/results/proposals/{winner.id}/certificate.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert pdf_info(download.data)["Title"] == winner.title
    # Rendered on demand when the batch's file is not there.
    app.config["KIPP_CERTIFICATE_PATH"] = str(tmp_path / "empty")
    on_demand = client.get(f"/results/proposals/{winner.id}/certificate.pdf")
    assert on_demand.status_code == 200 and pdf_info(on_demand.data)["Title"] == winner.title
    # Another agency's certificate and outcome do not exist for this person.
    stranger = next(p for p in scene.winners + scene.finalists_only if p.agency_id != admin.agency_id)
    assert client.get(f"/results/proposals/{stranger.id}/certificate.pdf").status_code == 404
    assert client.get(f"/results/proposals/{stranger.id}").status_code == 404
    # A proposal without a certificate has none to download.
    failed = scene.others[ProposalStatus.ADMIN_FAILED]
    if failed.agency_id == admin.agency_id:
        assert client.get(f"/results/proposals/{failed.id}/certificate.pdf").status_code == 404
    client.post("/logout")

    upp = scene.rounds.upps[winner.agency_id]
    login(upp)
    assert client.get(f"/results/proposals/{winner.id}/certificate.pdf").status_code == 200
    outsider = AdminLokalFactory()
    client.post("/logout")
    login(outsider)
    assert client.get(f"/results/proposals/{winner.id}/certificate.pdf").status_code == 404


# --- the workbook -------------------------------------------------------------------------------


def add_stage_data(scene, db_session, *, extra: int = 0):
    """Scores, an objection and presentation slots, and ``extra`` more screened proposals."""
    from kipp.scoring import services as scoring

    edition = scene.edition
    schemes = {stage: scoring.create_scheme(None, edition, stage)
               for stage in (StageKind.EVALUATION, StageKind.PANEL_REVIEW, StageKind.PRESENTATION)}
    participants = all_participants(scene)
    for n in range(extra):
        participants.append(ProposalFactory(edition=edition, unit=scene.rounds.upps[participants[0].agency_id].unit,
                                            group=edition.groups[0], status=ProposalStatus.NOT_NOMINATED))
    for rank, proposal in enumerate(participants, start=1):
        db_session.add(ProposalScore(scheme_id=schemes[StageKind.EVALUATION].id, proposal_id=proposal.id,
                                     sheets=3, raw_total=90 - rank / 10, rank=rank))
    finalists = scene.winners + scene.finalists_only
    for rank, proposal in enumerate(finalists, start=1):
        db_session.add(ProposalScore(scheme_id=schemes[StageKind.PRESENTATION].id, proposal_id=proposal.id,
                                     sheets=2, raw_total=85 - rank, rank=rank))
        db_session.add(PresentationSlot(edition_id=edition.id, proposal_id=proposal.id,
                                        starts_at=scene.winners_list.frozen_at, presentation_minutes=7,
                                        interview_minutes=13, attendance=Attendance.PRESENTED))
    db_session.add(Objection(edition_id=edition.id, proposal_id=scene.disqualified.id, reference="SGH-2033-0007",
                             name="Pelapor Rahasia", contact="pelapor@contoh.id", reason="Data palsu.",
                             client_hash="0" * 64, status=ObjectionStatus.UPHELD, ruling="Terbukti data palsu.",
                             ruled_by_id=scene.secretariat.id, ruled_at=scene.winners_list.frozen_at))
    db_session.flush()


def test_the_workbook_has_a_sheet_per_stage(client, secretariat, scene, db_session):
    from openpyxl import load_workbook

    add_stage_data(scene, db_session)
    response = client.get(f"/admin/editions/{scene.edition.id}/publication/results.xlsx")
    assert response.status_code == 200
    assert "kipp-2033-results.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["About", "Screening", "Evaluation ranking", "Nominees", "Panel and finalists",
                               "Objections", "Presentations", "Final result"]
    about = [[c for c in row if c is not None] for row in book["About"].iter_rows(values_only=True)]
    flat = " | ".join(str(c) for row in about for c in row)
    assert WINNERS_DECREE in flat and FINALISTS_DECREE in flat and "Objections" in flat
    assert "The filers' names, contacts and texts are not exported" in flat

    def rows(name):
        return list(book[name].iter_rows(values_only=True))

    screening = {r[0]: r for r in rows("Screening")[1:]}
    failed = scene.others[ProposalStatus.ADMIN_FAILED]
    assert screening[failed.number][7] == "failed"
    assert screening[scene.winners[0].number][7] == "passed"
    assert scene.draft.title not in str(rows("Screening"))

    final = rows("Final result")
    header = final[0]
    winner = scene.winners[0]
    row = next(r for r in final[1:] if r[2] == winner.number)
    assert row[header.index("Evaluation: score")] == 84.2
    assert row[header.index("Presentation: weight (%)")] == 50
    assert row[header.index("Tier")] == "Top 45 (Top Inovasi Terpuji)"
    assert row[header.index("Chosen")] == "Yes"

    objections = rows("Objections")
    assert objections[1][0] == "SGH-2033-0007" and "Terbukti data palsu." in objections[1]
    assert "Pelapor Rahasia" not in str(objections) and "pelapor@contoh.id" not in str(objections)
    assert "Data palsu." not in [c for r in objections for c in r]

    presentations = rows("Presentations")
    assert len(presentations) == 1 + len(scene.winners) + len(scene.finalists_only)
    assert "presented" in presentations[1]

    evaluation = rows("Evaluation ranking")
    assert evaluation[1][0] == 1 and len(evaluation) == 1 + len(all_participants(scene))


def test_the_workbook_reads_a_constant_number_of_queries(client, secretariat, scene, db_session):
    add_stage_data(scene, db_session)
    url = f"/admin/editions/{scene.edition.id}/publication/results.xlsx"
    edition_id = scene.edition.id
    _response, small = count_queries(client, db_session, url)
    edition = db.session.get(Edition, edition_id)
    for n in range(12):
        ProposalFactory(edition=edition, group=edition.groups[0], status=ProposalStatus.ADMIN_FAILED)
    _response, large = count_queries(client, db_session, url)
    assert len(large) == len(small)


def test_the_results_page_reads_a_constant_number_of_queries(client, secretariat, scene, db_session):
    publish(client, scene)
    edition_id, finalists_id, shown = scene.edition.id, scene.rounds.shortlist.id, len(scene.finalists_only)
    _response, small = count_queries(client, db_session, "/public/2033/results")
    # More finalists (confirmed, not winners) on the same lists.
    edition = db.session.get(Edition, edition_id)
    finalists = db_session.get(Shortlist, finalists_id)
    from kipp.selection.models import ShortlistEntry

    for n in range(5):
        proposal = ProposalFactory(edition=edition, group=edition.groups[0], status=ProposalStatus.FINALIST_ONLY,
                                   answered=True)
        finalists.entries.append(ShortlistEntry(proposal_id=proposal.id, group_code=edition.groups[0].code,
                                                rank=50 + n, cluster=proposal.agency.cluster, proposed=True,
                                                chosen=True))
    db_session.flush()
    response, large = count_queries(client, db_session, "/public/2033/results")
    assert len(large) == len(small)
    assert text(response).count('data-testid="result-finalist"') == shown + 5


def test_services_answer_what_the_progress_guards_ask(client, secretariat, scene, db_session):
    assert not services.is_published(scene.edition)
    assert services.published_winners(scene.edition) is None
    publish(client, scene)
    db_session.expire_all()
    edition = db.session.get(Edition, scene.edition.id)
    assert services.is_published(edition)
    assert services.published_winners(edition).id == scene.winners_list.id
    assert services.participation(edition) == (
        len({p.agency_id for p in all_participants(scene)}), len(all_participants(scene)))
    assert db_session.scalar(sa.select(Proposal.status).where(Proposal.id == scene.winners[0].id)) \
        is ProposalStatus.WINNER  # publishing changes no proposal
