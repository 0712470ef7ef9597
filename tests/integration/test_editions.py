"""Edition settings through the secretariat's pages: template, copy, edits, validation, audit, access."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from kipp.audit.models import AuditEvent
from kipp.db import utcnow
from kipp.editions import services
from kipp.editions.kinds import GroupCode, StageKind
from kipp.editions.models import Category, Edition, RequiredDocument, Section, Stage
from kipp.editions.template_2023 import TEMPLATE_2023, StageSpec
from kipp.i18n import WIB, from_wib, to_wib
from tests.factories import (
    AdminLokalFactory,
    EvaluatorFactory,
    PanelistFactory,
    SecretariatFactory,
    UppFactory,
)

pytestmark = pytest.mark.integration

UMUM_WEIGHTS_2023 = {
    "ringkasan": Decimal("0"),
    "latar_belakang": Decimal("10"),
    "kebaruan": Decimal("15"),
    "implementasi": Decimal("5"),
    "signifikansi": Decimal("30"),
    "adaptabilitas": Decimal("20"),
    "sumber_daya": Decimal("5"),
    "keberlanjutan": Decimal("15"),
}


@pytest.fixture()
def secretariat(login: Any) -> Any:
    user = SecretariatFactory()
    login(user)
    return user


def _edition(db_session: Any, year: int) -> Edition:
    edition = db_session.scalar(sa.select(Edition).where(Edition.year == year))
    assert edition is not None
    return edition


def _seed(db_session: Any, actor: Any, year: int = 2023) -> Edition:
    """An edition from the template, committed so a refused request's rollback keeps it."""
    edition = services.create_from_template(actor, year=year, name=f"KIPP {year}")
    db_session.commit()
    return edition


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _events(db_session: Any, action: str, object_id: Any = None) -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == str(object_id))
    return list(db_session.scalars(query))


def _wib_wall(value: dt.datetime) -> dt.datetime:
    return to_wib(value).replace(tzinfo=None)


# --- Creating and copying ------------------------------------------------------------------

def test_create_from_template_has_the_2023_sections_and_weights(client: Any, secretariat: Any, db_session: Any) -> None:
    response = client.post("/admin/editions/new-from-template",
                           data={"tpl-year": "2026", "tpl-name": "Kompetisi Inovasi Pelayanan Publik 2026"})
    assert response.status_code == 302
    edition = _edition(db_session, 2026)
    assert response.headers["Location"].endswith(f"/admin/editions/{edition.id}/")
    assert edition.name == "Kompetisi Inovasi Pelayanan Publik 2026"
    assert edition.copied_from_id is None

    umum = edition.group(GroupCode.UMUM)
    assert {s.key: s.weight for s in umum.sections} == UMUM_WEIGHTS_2023
    assert [s.key for s in umum.sections] == list(UMUM_WEIGHTS_2023)
    assert umum.total_weight == Decimal("100")
    assert edition.group(GroupCode.KHUSUS).total_weight == Decimal("100")
    assert edition.group(GroupCode.REPLIKASI) is None
    assert (umum.nominee_count, umum.finalist_count, umum.winner_count, umum.quota_per_agency) == (198, 99, 45, 10)
    assert len(edition.categories) == 10
    assert {d.key for d in edition.documents} >= {"sk_inovator", "surat_undangan"}
    assert sorted(s.kind for s in edition.stages) == sorted(StageKind)

    # Dates moved three years on the WIB wall clock: 6 May 23:59 WIB stays 23:59 WIB.
    submission = edition.stage(StageKind.SUBMISSION)
    assert _wib_wall(submission.closes_at) == dt.datetime(2026, 5, 6, 23, 59)
    assert submission.closes_at == dt.datetime(2026, 5, 6, 16, 59, tzinfo=dt.timezone.utc)

    created = _events(db_session, "edition.created_from_template", edition.id)
    assert len(created) == 1 and created[0].actor_id == secretariat.id
    assert created[0].after["year"] == 2026
    assert len(_events(db_session, "section.added")) == len(umum.sections) + len(edition.group(GroupCode.KHUSUS).sections)

    page = _text(client.get(f"/admin/editions/{edition.id}/groups/{umum.id}/sections"))
    assert 'data-testid="section-signifikansi"' in page
    assert 'data-testid="weight-total">100%' in page
    assert 'data-testid="weight-warning"' not in page


def test_template_for_the_system_actor_and_29_february(db_session: Any) -> None:
    leap = dataclasses.replace(
        TEMPLATE_2023,
        year=2024,
        stages=(StageSpec(StageKind.SUBMISSION, "Pengajuan", "Submission",
                          dt.datetime(2024, 2, 1), dt.datetime(2024, 2, 29, 23, 59)),),
    )
    edition = services.create_from_template(None, year=2025, name="KIPP 2025", template=leap)
    stage = edition.stage(StageKind.SUBMISSION)
    assert _wib_wall(stage.closes_at) == dt.datetime(2025, 2, 28, 23, 59)
    event = _events(db_session, "edition.created_from_template", edition.id)[0]
    assert event.actor_id is None and event.actor_label == "system"


def test_copy_from_last_year(client: Any, secretariat: Any, db_session: Any) -> None:
    source = _seed(db_session, secretariat, 2023)
    index = _text(client.get("/admin/editions/"))
    assert 'name="copy-year" required type="number" value="2024"' in index
    assert f'<option selected value="{source.id}">' in index

    response = client.post("/admin/editions/copy",
                           data={"copy-source_id": str(source.id), "copy-year": "2024", "copy-name": "KIPP 2024"})
    assert response.status_code == 302
    copy = _edition(db_session, 2024)
    assert copy.copied_from_id == source.id
    assert copy.legal_basis == source.legal_basis

    def sections(edition: Edition) -> dict[str, list[tuple[Any, ...]]]:
        return {
            g.code.value: [(s.key, s.title_id, s.title_en, s.guidance_id, s.word_limit, s.weight,
                            s.evidence_required, s.position) for s in g.sections]
            for g in edition.groups
        }

    assert sections(copy) == sections(source)
    assert [(c.code, c.name_id) for c in copy.categories] == [(c.code, c.name_id) for c in source.categories]
    assert [(d.key, d.group_codes, d.mandatory) for d in copy.documents] == [
        (d.key, d.group_codes, d.mandatory) for d in source.documents
    ]
    # New rows, not the old ones moved.
    assert {s.id for g in copy.groups for s in g.sections}.isdisjoint({s.id for g in source.groups for s in g.sections})
    for old in source.stages:
        new = copy.stage(old.kind)
        assert _wib_wall(new.opens_at) == _wib_wall(old.opens_at).replace(year=2024)
        assert _wib_wall(new.closes_at) == _wib_wall(old.closes_at).replace(year=2024)
    event = _events(db_session, "edition.copied", copy.id)[0]
    assert event.actor_id == secretariat.id and event.after["copied_from_id"] == source.id
    page = _text(client.get(f"/admin/editions/{copy.id}/"))
    assert "Copied from KIPP 2023 (2023)." in page


def test_duplicate_year_is_refused_with_a_message(client: Any, secretariat: Any, db_session: Any) -> None:
    source = _seed(db_session, secretariat, 2023)
    response = client.post("/admin/editions/new-from-template", data={"tpl-year": "2023", "tpl-name": "Lagi"})
    assert response.status_code == 200
    page = _text(response)
    assert "There is already an edition for 2023." in page
    assert 'value="Lagi"' in page  # what was typed is kept
    response = client.post("/admin/editions/copy",
                           data={"copy-source_id": str(source.id), "copy-year": "2023", "copy-name": "Salinan"})
    assert "There is already an edition for 2023." in _text(response)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Edition)) == 1


def test_year_out_of_range_is_refused(client: Any, secretariat: Any, db_session: Any) -> None:
    response = client.post("/admin/editions/new-from-template", data={"tpl-year": "1999", "tpl-name": "Lama"})
    assert response.status_code == 200
    assert "The year must be between 2014 and 2100." in _text(response)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Edition)) == 0


# --- General settings --------------------------------------------------------------------------

def test_edit_general_settings_is_audited(client: Any, secretariat: Any, db_session: Any) -> None:
    edition = _seed(db_session, secretariat, 2023)
    response = client.post(f"/admin/editions/{edition.id}/", data={
        "year": "2023", "name": "KIPP Tahun 2023", "theme": "Inovasi untuk semua",
        "legal_basis": "PermenPANRB 7/2021", "max_file_mb": "10", "max_proposal_mb": "50", "max_files_per_section": "5",
        "max_files_per_proposal": "20", "reminder_days": "3", "reviewers_per_proposal": "3", "balanced_load": "y", "coi_same_province": "hard",
    })
    assert response.status_code == 302
    db_session.refresh(edition)
    assert (edition.name, edition.theme, edition.legal_basis) == ("KIPP Tahun 2023", "Inovasi untuk semua",
                                                                  "PermenPANRB 7/2021")
    event = _events(db_session, "edition.updated", edition.id)[-1]
    assert event.before["name"] == "KIPP 2023" and event.after["name"] == "KIPP Tahun 2023"


# --- Sections ------------------------------------------------------------------------------------

def test_edit_section_word_limit_and_weight_is_audited(client: Any, secretariat: Any, db_session: Any) -> None:
    edition = _seed(db_session, secretariat)
    section = next(s for s in edition.group(GroupCode.UMUM).sections if s.key == "signifikansi")
    response = client.post(f"/admin/editions/{edition.id}/sections/{section.id}", data={
        "key": "signifikansi", "title_id": "Signifikansi", "title_en": "Significance",
        "word_limit": "650", "weight": "25", "evidence_required": "y",
        "guidance_id": "Dampak terukur.", "guidance_en": "Measurable impact.",
    })
    assert response.status_code == 302
    db_session.refresh(section)
    assert (section.word_limit, section.weight, section.guidance_en) == (650, Decimal("25"), "Measurable impact.")

    event = _events(db_session, "section.updated", section.id)[-1]
    assert event.actor_id == secretariat.id
    assert (event.before["word_limit"], event.after["word_limit"]) == (600, 650)
    assert Decimal(event.before["weight"]) == Decimal("30") and Decimal(event.after["weight"]) == Decimal("25")
    assert ("word_limit", 600, 650) in event.changes
    assert event.object_label == "2023 umum/signifikansi"

    # The weights now sum to 95: a warning, not an error.
    page = _text(client.get(response.headers["Location"]))
    assert "The section weights add up to 95%, not 100%." in page
    assert 'data-testid="weight-total">95%' in page


def test_section_validation_messages_sit_next_to_the_field(client: Any, secretariat: Any, db_session: Any) -> None:
    edition = _seed(db_session, secretariat)
    umum = edition.group(GroupCode.UMUM)
    url = f"/admin/editions/{edition.id}/groups/{umum.id}/sections"
    base = {"title_id": "Judul", "title_en": "Title", "word_limit": "100", "weight": "0"}

    page = _text(client.post(url, data={**base, "key": "kebaruan"}))
    assert "This group already has a section with the key “kebaruan”." in page
    assert 'value="Judul"' in page
    page = _text(client.post(url, data={**base, "key": "Bukan Kunci"}))
    assert "Use lowercase letters, digits and underscores only" in page
    assert re.search(r'class="form-control is-invalid" id="key"', page)
    page = _text(client.post(url, data={**base, "key": "baru", "weight": "120"}))
    assert "The weight must be between 0 and 100." in page
    assert len(umum.sections) == 8

    response = client.post(url, data={**base, "key": "spbe", "weight": "0"})
    assert response.status_code == 302
    db_session.refresh(umum)
    assert [s.key for s in umum.sections][-1] == "spbe"
    assert _events(db_session, "section.added")[-1].after["key"] == "spbe"


def test_delete_and_move_sections(client: Any, secretariat: Any, db_session: Any) -> None:
    edition = _seed(db_session, secretariat)
    umum = edition.group(GroupCode.UMUM)
    ringkasan, latar = umum.sections[0], umum.sections[1]
    assert client.post(f"/admin/editions/{edition.id}/sections/{latar.id}/move/up").status_code == 302
    db_session.expire_all()
    assert [s.key for s in umum.sections][:2] == ["latar_belakang", "ringkasan"]
    moved = _events(db_session, "section.moved", latar.id)[-1]
    assert moved.before["position"] == 1 and moved.after["position"] == 0
    assert moved.before["order"][:2] == ["ringkasan", "latar_belakang"]
    assert moved.after["order"][:2] == ["latar_belakang", "ringkasan"]

    section_id = ringkasan.id
    client.post(f"/admin/editions/{edition.id}/sections/{section_id}/delete")
    assert db_session.get(Section, section_id) is None
    deleted = _events(db_session, "section.deleted", section_id)
    assert deleted[-1].before["key"] == "ringkasan" and deleted[-1].after is None


def test_section_of_another_edition_is_not_found(client: Any, secretariat: Any, db_session: Any) -> None:
    first = _seed(db_session, secretariat, 2023)
    second = _seed(db_session, secretariat, 2024)
    section = first.group(GroupCode.UMUM).sections[0]
    assert client.get(f"/admin/editions/{second.id}/sections/{section.id}").status_code == 404


# --- Groups --------------------------------------------------------------------------------------

def test_group_tier_validation_and_add_replikasi(client: Any, secretariat: Any, db_session: Any) -> None:
    edition = _seed(db_session, secretariat)
    umum = edition.group(GroupCode.UMUM)
    data = {"name_id": "Kelompok Umum", "name_en": "General group", "min_age_months": "24", "quota_per_agency": "",
            "nominee_count": "50", "finalist_count": "99", "winner_count": "45",
            "winner_title": "Top 45 Inovasi Pelayanan Publik Terpuji"}
    page = _text(client.post(f"/admin/editions/{edition.id}/groups/{umum.id}", data=data))
    assert "There must be at least as many nominees as finalists." in page
    db_session.refresh(umum)
    assert umum.nominee_count == 198 and umum.quota_per_agency == 10

    response = client.post(f"/admin/editions/{edition.id}/groups/{umum.id}", data={**data, "nominee_count": "200"})
    assert response.status_code == 302
    db_session.refresh(umum)
    assert (umum.nominee_count, umum.quota_per_agency) == (200, None)  # empty quota: no quota
    event = _events(db_session, "edition_group.updated", umum.id)[-1]
    assert (event.before["quota_per_agency"], event.after["quota_per_agency"]) == (10, None)

    response = client.post(f"/admin/editions/{edition.id}/groups", data={
        "code": "replikasi", "name_id": "Kelompok Replikasi", "name_en": "Replication group",
        "min_age_months": "12", "quota_per_agency": "5", "nominee_count": "30", "finalist_count": "15",
        "winner_count": "5", "winner_title": "Top 5 Replikasi",
    })
    assert response.status_code == 302
    db_session.expire_all()
    replikasi = edition.group(GroupCode.REPLIKASI)
    assert (replikasi.min_age_months, replikasi.quota_per_agency) == (12, 5)
    page = _text(client.get(f"/admin/editions/{edition.id}/groups"))
    assert "This group has no sections yet." in page


def test_group_only_document_blocks_deleting_the_group(client: Any, secretariat: Any, db_session: Any) -> None:
    edition = _seed(db_session, secretariat)
    khusus = edition.group(GroupCode.KHUSUS)
    response = client.post(f"/admin/editions/{edition.id}/groups/{khusus.id}/delete", follow_redirects=True)
    page = _text(response)
    assert "applies only to this group" in page
    assert edition.group(GroupCode.KHUSUS) is not None

    invitation = next(d for d in edition.documents if d.key == "surat_undangan")
    client.post(f"/admin/editions/{edition.id}/documents/{invitation.id}/delete")
    assert db_session.get(RequiredDocument, invitation.id) is None
    response = client.post(f"/admin/editions/{edition.id}/groups/{khusus.id}/delete")
    assert response.status_code == 302
    db_session.expire_all()
    assert edition.group(GroupCode.KHUSUS) is None
    assert _events(db_session, "edition_group.deleted", khusus.id)[-1].before["code"] == "khusus"


# --- Categories, documents, SDGs -------------------------------------------------------------------

def test_categories_add_edit_and_duplicate(client: Any, secretariat: Any, db_session: Any) -> None:
    edition = _seed(db_session, secretariat)
    url = f"/admin/editions/{edition.id}/categories"
    page = _text(client.post(url, data={"code": "kesehatan", "name_id": "Kesehatan", "name_en": "Health"}))
    assert "This edition already has a category with the code “kesehatan”." in page
    assert client.post(url, data={"code": "digital", "name_id": "Transformasi Digital",
                                  "name_en": "Digital Transformation"}).status_code == 302
    category = db_session.scalar(sa.select(Category).where(Category.edition_id == edition.id,
                                                            Category.code == "digital"))
    assert category.position == 10
    response = client.post(f"{url}/{category.id}", data={"code": "digital", "name_id": "Digitalisasi Layanan",
                                                          "name_en": "Digital services"})
    assert response.status_code == 302
    event = _events(db_session, "category.updated", category.id)[-1]
    assert (event.before["name_id"], event.after["name_id"]) == ("Transformasi Digital", "Digitalisasi Layanan")


def test_documents_for_chosen_groups(client: Any, secretariat: Any, db_session: Any) -> None:
    edition = _seed(db_session, secretariat)
    url = f"/admin/editions/{edition.id}/documents"
    response = client.post(url, data={"key": "surat_kesediaan", "name_id": "Surat Kesediaan Replikasi",
                                      "name_en": "Willingness to be replicated", "group_codes": ["umum", "khusus"],
                                      "mandatory": "y"})
    assert response.status_code == 302
    document = db_session.scalar(sa.select(RequiredDocument).where(RequiredDocument.key == "surat_kesediaan"))
    assert document.group_codes == "khusus,umum" and document.mandatory
    edit_page = _text(client.get(f"{url}/{document.id}"))
    assert re.search(r'checked[^>]*value="khusus"|value="khusus"[^>]*checked', edit_page)
    response = client.post(f"{url}/{document.id}", data={"key": "surat_kesediaan", "name_id": "Surat Kesediaan",
                                                          "name_en": "Willingness"})
    assert response.status_code == 302
    db_session.refresh(document)
    assert document.group_codes == "" and not document.mandatory  # no group ticked: every group


def test_sdgs_are_listed_read_only(client: Any, secretariat: Any, db_session: Any) -> None:
    edition = _seed(db_session, secretariat)
    page = _text(client.get(f"/admin/editions/{edition.id}/sdgs"))
    assert page.count('<li class="list-group-item">') == 17
    assert client.post(f"/admin/editions/{edition.id}/sdgs").status_code == 405


# --- Stages ----------------------------------------------------------------------------------------

def test_stage_closing_before_opening_is_refused(client: Any, secretariat: Any, db_session: Any) -> None:
    edition = _seed(db_session, secretariat)
    stage = edition.stage(StageKind.OBJECTION)
    before = (stage.opens_at, stage.closes_at)
    response = client.post(f"/admin/editions/{edition.id}/stages/{stage.id}", data={
        "kind": "objection", "name_id": "Masa sanggah diubah", "name_en": "Objections",
        "opens_at": "2023-06-20T08:00", "closes_at": "2023-06-16T08:00",
    })
    assert response.status_code == 200
    page = _text(response)
    assert "The stage must close after it opens." in page
    assert re.search(r'class="form-control is-invalid" id="closes_at"', page)
    assert 'value="Masa sanggah diubah"' in page and 'value="2023-06-16T08:00"' in page
    db_session.refresh(stage)
    assert (stage.opens_at, stage.closes_at) == before
    assert stage.name_id != "Masa sanggah diubah"


def test_stage_edit_in_wib_and_status_badges(client: Any, secretariat: Any, db_session: Any) -> None:
    edition = _seed(db_session, secretariat)
    stage = edition.stage(StageKind.SUBMISSION)
    edit_page = _text(client.get(f"/admin/editions/{edition.id}/stages/{stage.id}"))
    assert 'value="2023-02-27T00:00"' in edit_page and 'value="2023-05-06T23:59"' in edit_page

    now_wib = to_wib(utcnow()).replace(tzinfo=None, second=0, microsecond=0)
    opens, closes = now_wib - dt.timedelta(days=1), now_wib + dt.timedelta(days=1)
    response = client.post(f"/admin/editions/{edition.id}/stages/{stage.id}", data={
        "kind": "submission", "name_id": "Pengajuan proposal", "name_en": "Proposal submission",
        "opens_at": opens.strftime("%Y-%m-%dT%H:%M"), "closes_at": closes.strftime("%Y-%m-%dT%H:%M"),
    })
    assert response.status_code == 302
    db_session.refresh(stage)
    assert stage.opens_at == from_wib(opens)
    assert stage.opens_at.astimezone(WIB).replace(tzinfo=None) == opens
    event = _events(db_session, "stage.updated", stage.id)[-1]
    assert event.before["opens_at"] != event.after["opens_at"]

    page = _text(client.get(f"/admin/editions/{edition.id}/stages"))
    row = page.split('data-testid="stage-submission"')[1].split("</tr>")[0]
    assert ">open</span>" in row and closes.strftime("%d-%m-%Y %H:%M") + " WIB" in row
    other = page.split('data-testid="stage-screening"')[1].split("</tr>")[0]
    assert ">closed</span>" in other
    assert "opens before a stage that comes earlier" in page  # submission now opens after screening
    index = _text(client.get("/admin/editions/"))
    assert "Proposal submission" in index.split('data-testid="editions-table"')[1]


def test_stage_kind_is_unique_per_edition(client: Any, secretariat: Any, db_session: Any) -> None:
    edition = _seed(db_session, secretariat)
    stage = edition.stage(StageKind.FIELD_VERIFICATION)
    with pytest.raises(services.EditionError) as refused:
        services.add_stage(secretariat, edition, kind=StageKind.FIELD_VERIFICATION, name_id="Lagi", name_en="Again",
                           opens_at=stage.opens_at, closes_at=stage.closes_at)
    assert refused.value.code == "stage_kind_taken" and refused.value.field == "kind"
    db_session.rollback()

    page = _text(client.get(f"/admin/editions/{edition.id}/stages"))
    assert 'data-testid="add-form"' not in page  # every kind is scheduled
    client.post(f"/admin/editions/{edition.id}/stages/{stage.id}/delete")
    assert db_session.get(Stage, stage.id) is None
    response = client.post(f"/admin/editions/{edition.id}/stages", data={
        "kind": "field_verification", "name_id": "Verifikasi lapangan", "name_en": "Field verification",
        "opens_at": "2023-07-18T08:00", "closes_at": "2023-07-21T17:00",
    })
    assert response.status_code == 302
    db_session.expire_all()
    new = edition.stage(StageKind.FIELD_VERIFICATION)
    assert _wib_wall(new.closes_at) == dt.datetime(2023, 7, 21, 17, 0)
    assert _events(db_session, "stage.added", new.id)[-1].actor_id == secretariat.id


# --- Access ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("factory", [AdminLokalFactory, UppFactory, EvaluatorFactory, PanelistFactory])
def test_other_roles_get_404(client: Any, login: Any, db_session: Any, factory: Any) -> None:
    edition = services.create_from_template(None, year=2023, name="KIPP 2023")
    db_session.commit()
    login(factory())
    assert client.get("/admin/editions/").status_code == 404
    assert client.get(f"/admin/editions/{edition.id}/stages").status_code == 404
    response = client.post("/admin/editions/new-from-template", data={"tpl-year": "2030", "tpl-name": "X"})
    assert response.status_code == 404
    assert db_session.scalar(sa.select(Edition).where(Edition.year == 2030)) is None


def test_anonymous_is_sent_to_login(client: Any, db_session: Any) -> None:
    response = client.get("/admin/editions/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
