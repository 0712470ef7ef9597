"""A proposal as one printable document: HTML from templates/proposals/print.html, PDF through WeasyPrint.

The template is a whole HTML page by default (the agency side serves it as
is); ``standalone=False`` gives only the document's body, for pages that put
it inside their own layout. The PDF is rendered without fetching anything:
the stylesheet is read from the static folder and every URL is refused, so a
proposal can never make the server request an address.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from sqlalchemy.orm import joinedload, selectinload

from kipp.agencies.models import Agency, Region
from kipp.editions.models import EditionGroup, RequiredDocument
from kipp.extensions import db
from kipp.proposals.models import Proposal, ProposalFile

TEMPLATE = "proposals/print.html"
STYLESHEET = "css/proposal-print.css"
PDF_MIMETYPE = "application/pdf"


def load(proposal_id: int, *, where: Any = None) -> Proposal | None:
    """The proposal with everything the document shows, in a fixed handful of queries.

    ``where`` scopes the lookup (an agency sees only its own proposals).
    """
    query = (
        sa.select(Proposal)
        .where(Proposal.id == proposal_id)
        .options(
            joinedload(Proposal.edition),
            joinedload(Proposal.group).selectinload(EditionGroup.sections),
            joinedload(Proposal.category),
            joinedload(Proposal.agency).joinedload(Agency.region).joinedload(Region.parent),
            joinedload(Proposal.unit),
            selectinload(Proposal.sdgs),
            selectinload(Proposal.answers),
            selectinload(Proposal.files).joinedload(ProposalFile.section),
            selectinload(Proposal.files).joinedload(ProposalFile.document),
        )
    )
    if where is not None:
        query = query.where(where)
    return db.session.scalar(query)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024 or unit == "MB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover


def context(proposal: Proposal) -> dict[str, Any]:
    """What templates/proposals/print.html needs, for any view that renders it.

    The template also uses the app-wide globals ``status_label``, ``holder_label``, ``localized``,
    ``agency_type_label`` and the ``wib`` filter (kipp/web.py).
    """
    answers = {a.section_id: a for a in proposal.answers}
    sections = [(s, answers.get(s.id)) for s in proposal.group.sections]
    documents = [
        d for d in db.session.scalars(
            sa.select(RequiredDocument).where(RequiredDocument.edition_id == proposal.edition_id)
            .order_by(RequiredDocument.position)
        )
        if d.applies_to(proposal.group.code)
    ]
    attached = {f.document_id for f in proposal.files if f.document_id is not None}
    missing_documents = [d for d in documents if d.mandatory and d.id not in attached]
    return {
        "proposal": proposal,
        "sections": sections,
        "files": proposal.files,
        "missing_documents": missing_documents,
        "total_words": sum(a.word_count for _s, a in sections if a is not None),
        "human_size": human_size,
    }


def render_html(proposal: Proposal, *, standalone: bool = True, for_pdf: bool = False) -> str:
    return render_template(TEMPLATE, standalone=standalone, for_pdf=for_pdf, **context(proposal))


def unavailable() -> str | None:
    """None when WeasyPrint can render here, else why not (package or system library missing)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def _refusing_fetcher() -> Any:
    """A URL fetcher that fetches nothing (WeasyPrint's fetcher API changed in version 66)."""
    try:
        from weasyprint.urls import URLFetcher
    except ImportError:  # older WeasyPrint: any callable
        def refuse(url: str, *args: Any, **kwargs: Any) -> Any:
            raise ValueError(f"kipp does not fetch {url!r} while printing")

        return refuse

    class RefusingFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError(f"kipp does not fetch {url!r} while printing")

    return RefusingFetcher()


def render_pdf(proposal: Proposal) -> bytes:
    from weasyprint import CSS, HTML

    fetcher = _refusing_fetcher()
    stylesheet = Path(current_app.static_folder or "", STYLESHEET).read_text(encoding="utf-8")
    html = HTML(string=render_html(proposal, for_pdf=True), url_fetcher=fetcher)
    return html.write_pdf(stylesheets=[CSS(string=stylesheet, url_fetcher=fetcher)])


def pdf_filename(proposal: Proposal) -> str:
    label = proposal.number or f"draft-{proposal.id}"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in label)
    return f"proposal-{safe}.pdf"


def pdf_response(proposal: Proposal) -> Any:
    """The proposal as an inline PDF, or a 503 page where WeasyPrint cannot render."""
    from flask import Response, render_template
    from flask_babel import gettext as _

    if unavailable() is not None:
        return render_template("errors/error.html", code=503,
                               message=_("PDF printing is not available on this server.")), 503
    return Response(render_pdf(proposal), mimetype=PDF_MIMETYPE,
                    headers={"Content-Disposition": f"inline; filename={pdf_filename(proposal)}"})
