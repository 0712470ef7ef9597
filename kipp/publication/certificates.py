"""Certificates of an edition's winners and confirmed finalists: who gets one, the PDF, the code.

Every confirmed finalist gets one certificate, for the highest tier it reached: the winners' tier
(the group's winner title) for a winner, the finalist tier (Top 99, khusus, replikasi) for the
others. A certificate carries a verification code, an HMAC of the proposal and the tier with the
app's secret key, and the address of the public page that confirms it is genuine.

The PDF is rendered like the proposal print (kipp.proposals.printing): WeasyPrint with the
stylesheet read from the static folder and every URL refused, so nothing on a certificate can
make the server fetch an address. Certificates are official documents in Bahasa Indonesia.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale, format_date

from kipp.agencies.models import Agency, Unit
from kipp.editions.kinds import GroupCode
from kipp.editions.models import Edition, EditionGroup
from kipp.extensions import db
from kipp.innovations.kinds import WINNER_TIERS, AwardTier
from kipp.proposals.models import Proposal
from kipp.proposals.printing import _refusing_fetcher, unavailable
from kipp.proposals.states import ProposalStatus
from kipp.publication import services
from kipp.publication.models import CertificateBatch
from kipp.selection.models import ShortlistEntry, ShortlistKind
from kipp.urls import external_url

TEMPLATE = "publication/certificate.html"
STYLESHEET = "css/certificate.css"
PDF_MIMETYPE = "application/pdf"
CERTIFICATE_LOCALE = "id"
CODE_LENGTH = 12  # base32 characters: 60 bits, shown as XXXX-XXXX-XXXX

__all__ = ["Certificate", "certificates_of", "certificate_for", "render_certificate", "verification_code",
           "find_by_code", "unavailable"]


@dataclass(frozen=True)
class Certificate:
    proposal_id: int
    tier: AwardTier
    group_code: GroupCode
    number: str

    @property
    def is_winner(self) -> bool:
        return self.tier in WINNER_TIERS

    @property
    def filename(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9_-]+", "-", self.number or f"proposal-{self.proposal_id}").strip("-")
        return f"sertifikat-{safe}-{self.tier.value}.pdf"


def certificates_of(edition: Edition) -> list[Certificate]:
    """Every certificate of the edition (empty until the finalists are confirmed), in a fixed order:
    by group, winners first, then by proposal number. Three queries whatever the size."""
    finalists = services.shortlist(edition, ShortlistKind.FINALISTS)
    if finalists is None or finalists.confirmed_at is None:
        return []
    winners = services.winners_list(edition)
    winner_tiers: dict[int, AwardTier] = {}
    if winners is not None and winners.frozen:
        winner_tiers = {pid: tier for pid, tier in db.session.execute(
            sa.select(ShortlistEntry.proposal_id, ShortlistEntry.tier).where(
                ShortlistEntry.shortlist_id == winners.id, ShortlistEntry.chosen.is_(True)))
            if tier in WINNER_TIERS}
    rows = db.session.execute(
        sa.select(ShortlistEntry.proposal_id, ShortlistEntry.group_code, ShortlistEntry.tier, Proposal.status,
                  Proposal.number)
        .join(Proposal, Proposal.id == ShortlistEntry.proposal_id)
        .where(ShortlistEntry.shortlist_id == finalists.id, ShortlistEntry.chosen.is_(True),
               Proposal.status.in_([s.value for s in services.CONFIRMED_FINALIST_STATES]))
    ).all()
    order = {g.code: g.position for g in edition.groups}
    result = []
    for row in rows:
        won = winner_tiers.get(row.proposal_id) if row.status is ProposalStatus.WINNER else None
        tier = won or services.finalist_tier(row.group_code, row.tier)
        result.append(Certificate(row.proposal_id, tier, row.group_code, row.number or ""))
    result.sort(key=lambda c: (order.get(c.group_code, 99), not c.is_winner, c.number, c.proposal_id))
    return result


def certificate_for(edition: Edition, proposal_id: int) -> Certificate | None:
    return next((c for c in certificates_of(edition) if c.proposal_id == proposal_id), None)


# --- verification codes --------------------------------------------------------------------------


def verification_code(proposal_id: int, tier: AwardTier) -> str:
    """The certificate's code: an HMAC of the proposal and the tier with the secret key."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"kipp-certificate:{proposal_id}:{tier.value}".encode(), hashlib.sha256).digest()
    raw = base64.b32encode(digest).decode()[:CODE_LENGTH]
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(code: str) -> str:
    raw = re.sub(r"[^A-Z2-7]", "", code.upper())[:CODE_LENGTH]
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def find_by_code(edition: Edition, code: str) -> Certificate | None:
    """The edition's certificate with this code, once the results are published."""
    if not services.is_published(edition):
        return None
    wanted = normalise_code(code)
    if len(wanted) != CODE_LENGTH + 2:
        return None
    for certificate in certificates_of(edition):
        if hmac.compare_digest(verification_code(certificate.proposal_id, certificate.tier), wanted):
            return certificate
    return None


# --- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """What a certificate says about the innovation it is given to (plain values: a batch commits
    its progress as it goes, and loaded rows would be read again after each commit)."""

    title: str
    agency: str
    unit: str
    region: str


@dataclass(frozen=True)
class _Decree:
    number: str | None
    date: dt.date | None


class Renderer:
    """Renders certificates of one edition, reading what they show in a few queries up front and
    the stylesheet once (a batch renders a hundred and more)."""

    def __init__(self, edition: Edition, proposal_ids: Iterable[int]) -> None:
        self.edition_id, self.edition_name, self.year = edition.id, edition.name, edition.year
        self.tier_titles: dict[tuple[GroupCode, AwardTier], str] = {}
        self.groups: dict[GroupCode, EditionGroup] = {g.code: g for g in edition.groups}
        self.decrees: dict[ShortlistKind, _Decree] = {}
        for kind in (ShortlistKind.WINNERS, ShortlistKind.FINALISTS):
            found = services.shortlist(edition, kind)
            self.decrees[kind] = _Decree(found.decree_number if found else None, found.decree_date if found else None)
        ids = sorted(set(proposal_ids))
        rows = db.session.execute(
            sa.select(Proposal.id, Proposal.title, Agency.name.label("agency"), Agency.region_code,
                      Unit.name.label("unit"))
            .join(Agency, Agency.id == Proposal.agency_id).join(Unit, Unit.id == Proposal.unit_id)
            .where(Proposal.id.in_(ids), Proposal.edition_id == edition.id)).all() if ids else []
        regions = services.region_names({r.region_code for r in rows})
        self.holders = {r.id: Holder(r.title, r.agency, r.unit, regions.get(r.region_code or "", "")) for r in rows}
        self._fetcher: Any = None
        self._stylesheet: Any = None

    def tier_title(self, certificate: Certificate) -> str:
        key = (certificate.group_code, certificate.tier)
        if key not in self.tier_titles:
            with force_locale(CERTIFICATE_LOCALE):
                self.tier_titles[key] = str(services.tier_title(self.groups[certificate.group_code],
                                                                certificate.tier))
        return self.tier_titles[key]

    def decrees_of(self, certificate: Certificate) -> _Decree:
        """The decree that established the certificate's tier: the winners' or the finalists'."""
        return self.decrees[ShortlistKind.WINNERS if certificate.is_winner else ShortlistKind.FINALISTS]

    def context(self, certificate: Certificate) -> dict[str, Any]:
        """What the certificate shows (in Bahasa Indonesia: call it inside ``force_locale``)."""
        holder = self.holders.get(certificate.proposal_id)
        if holder is None:
            raise LookupError(f"proposal {certificate.proposal_id} is not in edition {self.edition_id}")
        decree = self.decrees_of(certificate)
        code = verification_code(certificate.proposal_id, certificate.tier)
        return {
            "edition_name": self.edition_name,
            "holder": holder,
            "certificate": certificate,
            "tier_title": self.tier_title(certificate),
            "decree_number": decree.number,
            "decree_date": format_date(decree.date, "long") if isinstance(decree.date, dt.date) else None,
            "code": code,
            "verify_url": external_url("results.verify", year=self.year, code=code),
        }

    def html(self, certificate: Certificate) -> str:
        with force_locale(CERTIFICATE_LOCALE):
            context = self.context(certificate)
            return render_template(TEMPLATE, **context)

    def pdf(self, certificate: Certificate) -> bytes:
        from weasyprint import CSS, HTML

        if self._stylesheet is None:
            self._fetcher = _refusing_fetcher()
            css = Path(current_app.static_folder or "", STYLESHEET).read_text(encoding="utf-8")
            self._stylesheet = CSS(string=css, url_fetcher=self._fetcher)
        document = HTML(string=self.html(certificate), url_fetcher=self._fetcher)
        return document.write_pdf(stylesheets=[self._stylesheet])


def render_certificate(proposal_id: int, tier: AwardTier) -> bytes:
    """The PDF of one certificate (what the batch writes and the agency downloads)."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        raise LookupError(f"no proposal {proposal_id}")
    edition = db.session.get(Edition, proposal.edition_id)
    group_code = db.session.get(EditionGroup, proposal.group_id).code
    certificate = Certificate(proposal_id, tier, group_code, proposal.number or "")
    return Renderer(edition, [proposal_id]).pdf(certificate)


# --- where batches write -------------------------------------------------------------------------


def root() -> Path:
    """The certificates folder: beside the uploads, in the instance folder."""
    configured = current_app.config.get("KIPP_CERTIFICATE_PATH")
    return Path(configured) if configured else Path(current_app.config["KIPP_UPLOAD_PATH"]).parent / "certificates"


def batch_folder(batch: CertificateBatch, year: int) -> Path:
    # The creation time makes the name unique even if a database is restored and ids repeat.
    return root() / str(year) / f"batch-{batch.id}-{batch.created_at:%Y%m%d%H%M%S}"


def archive_path(batch: CertificateBatch) -> Path | None:
    return root() / batch.archive_name if batch.archive_name else None


def stored_pdf(edition: Edition, certificate: Certificate) -> Path | None:
    """The file the newest finished batch wrote for this certificate, if it is still there."""
    batch = services.latest_batch(edition, done=True)
    if batch is None:
        return None
    path = batch_folder(batch, edition.year) / certificate.filename
    return path if path.is_file() else None


def pdf_bytes(edition: Edition, certificate: Certificate) -> bytes:
    """The certificate from the batch's file when there is one, else rendered now."""
    path = stored_pdf(edition, certificate)
    if path is not None:
        return path.read_bytes()
    return Renderer(edition, [certificate.proposal_id]).pdf(certificate)
