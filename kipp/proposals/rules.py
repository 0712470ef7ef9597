"""Pure rules of the proposal form: words, links, files, completeness (no database access)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import urlsplit

_WORD = re.compile(r"\S+")

# The browser's live counter (static/js/proposal_form.js) counts the same way.
def count_words(text: str | None) -> int:
    return len(_WORD.findall(text or ""))


def video_url_problem(url: str | None) -> str | None:
    """None for an acceptable video link (YouTube or any https page), else a problem code."""
    if not url:
        return "video_missing"
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname or "." not in parts.hostname:
        return "video_not_https"
    if len(url) > 500:
        return "video_too_long"
    return None


ALLOWED_TYPES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


def sniff_content_type(head: bytes) -> str | None:
    """The real type of an upload from its first bytes; None for anything but PDF, PNG, JPEG."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_download_name(original: str, content_type: str) -> str:
    """A filename safe to put in Content-Disposition, with the extension its content deserves."""
    stem = original.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = _UNSAFE.sub("_", stem).strip(" ._") or "file"
    return f"{stem[:80]}.{ALLOWED_TYPES[content_type]}"


@dataclass(frozen=True)
class Missing:
    """One thing that keeps a proposal from being sent or submitted."""

    code: str
    params: dict[str, Any]


def missing_items(
    *,
    title: str,
    category_id: int | None,
    sdg_count: int,
    start_date: Any,
    video_url: str | None,
    is_application: bool | None,
    spbe: dict[str, Any] | None,
    is_replikasi: bool,
    replicates_id: int | None,
    sections: Iterable[Any],
    answers: dict[int, str],
    evidence_sections: set[int],
    documents: Iterable[Any],
    attached_documents: set[int],
) -> list[Missing]:
    """Everything still missing or wrong, in the order of the form."""
    missing: list[Missing] = []
    if not title.strip():
        missing.append(Missing("title", {}))
    if category_id is None:
        missing.append(Missing("category", {}))
    if sdg_count == 0:
        missing.append(Missing("sdg", {}))
    if start_date is None:
        missing.append(Missing("start_date", {}))
    if is_replikasi and replicates_id is None:
        missing.append(Missing("replicates", {}))
    for section in sections:
        words = count_words(answers.get(section.id))
        if words == 0:
            missing.append(Missing("section_empty", {"section": section}))
        elif section.word_limit and words > section.word_limit:
            missing.append(Missing("section_too_long", {"section": section, "words": words,
                                                        "limit": section.word_limit}))
        if section.evidence_required and section.id not in evidence_sections:
            missing.append(Missing("section_evidence", {"section": section}))
    for document in documents:
        if document.mandatory and document.id not in attached_documents:
            missing.append(Missing("document", {"document": document}))
    video_problem = video_url_problem(video_url)
    if video_problem:
        missing.append(Missing(video_problem, {}))
    if is_application is None:
        missing.append(Missing("spbe_question", {}))
    elif is_application and not (spbe or {}).get("app_name"):
        missing.append(Missing("spbe_details", {}))
    return missing


def over_word_limits(sections: Iterable[Any], answers: dict[int, str]) -> list[Missing]:
    return [
        Missing("section_too_long", {"section": s, "words": count_words(answers.get(s.id)), "limit": s.word_limit})
        for s in sections
        if s.word_limit and count_words(answers.get(s.id)) > s.word_limit
    ]
