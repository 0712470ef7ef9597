"""Aggregation, run by the workers: a proposal's aggregate after each submitted sheet, and a
stage's full recomputation (aggregates, normalisation, ranking) as one task with progress.

Both are pure functions of the submitted sheets whose judges still hold the proposal, written
as upserts: running them twice, or again after a worker died half-way, gives the same rows."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable

import sqlalchemy as sa

from kipp.accounts.models import User
from kipp.audit.services import record
from kipp.db import dialect_insert, execute_visible_now, lock_for_transaction, utcnow
from kipp.editions.models import EditionGroup
from kipp.errors import DomainError
from kipp.extensions import db
from kipp.judging.models import RunStatus
from kipp.outbox.dispatch import enqueue
from kipp.outbox.registry import handles
from kipp.proposals.models import Proposal
from kipp.scoring import rules
from kipp.scoring.models import AggregationRun, ProposalScore, ScoreSheet, ScoringScheme, SheetStatus
from kipp.scoring.services import AGGREGATE_PROPOSAL, RECOMPUTE_STAGE, published_pairs, rule_aspects, tie_break_keys

WRITE_BATCH = 500
NORMALISATION_METHOD = "z-score per judge, rescaled to the stage's pooled mean and standard deviation"


@dataclass
class Figures:
    """A proposal's aggregate as it should be stored."""

    proposal_id: int
    group: str
    number: str
    sheets: int
    raw_total: Decimal | None
    std_dev: Decimal | None
    spread: Decimal | None
    disagreement: bool
    aspect_means: dict[str, str]
    normalised_total: Decimal | None = None
    rank: int | None = None


class _SheetReader:
    """Reads a group's sheets: the weighted total (rules.weighted_total) and each aspect's weighted
    part (rules.weighted_part). A stage's sheets hold few distinct values (whole points, mostly), so
    each typed value is parsed, multiplied by its weight and turned into a part once per aspect;
    the total adds the products in the aspects' order and divides once, as rules.weighted_total
    does, with the same Decimal operations (so the same result to the last digit)."""

    def __init__(self, aspects: list[rules.Aspect]) -> None:
        self.aspects = aspects
        self.keys = tuple(a.key for a in aspects)
        self.total_weight = sum((a.weight for a in aspects), Decimal(0))
        self.countable = bool(aspects) and self.total_weight > 0
        # Per aspect: (type, raw value) -> (product, part), or None for an unscored aspect.
        self.known: list[dict[tuple[type, Any], tuple[Decimal, Decimal] | None]] = [{} for _ in aspects]

    def _entry(self, index: int, raw: Any) -> tuple[Decimal, Decimal] | None:
        value = rules.parse_score(raw)
        if value is None:
            return None
        aspect = self.aspects[index]
        return value * aspect.weight, rules.weighted_part(value, aspect, self.aspects)

    def read(self, scores: dict[str, Any]) -> tuple[Decimal, tuple[Decimal, ...]] | None:
        """(weighted total, parts) of a sheet, or None when it cannot be counted (an aspect unscored)."""
        if not self.countable:
            return None
        acc = Decimal(0)
        sheet_parts = []
        for index, key in enumerate(self.keys):
            raw = (scores.get(key) or {}).get("value")
            known = self.known[index]
            try:
                entry = known[(type(raw), raw)]
            except KeyError:
                entry = known[(type(raw), raw)] = self._entry(index, raw)
            except TypeError:  # an unhashable value (not a score): parsed each time
                entry = self._entry(index, raw)
            if entry is None:
                return None
            acc += entry[0]
            sheet_parts.append(entry[1])
        return rules.quantize(acc / self.total_weight), tuple(sheet_parts)


def _counted_sheets(scheme: ScoringScheme, proposal_ids: Iterable[int] | None = None, *,
                   held: set[tuple[int, int]] | None = None) -> list[tuple[int, int, dict]]:
    """(proposal id, member id, scores) of every submitted sheet whose judge still holds the proposal
    (``held``: the stage's published pairs, when the caller has them already)."""
    ids = list(proposal_ids) if proposal_ids is not None else None
    query = sa.select(ScoreSheet.proposal_id, ScoreSheet.member_id, ScoreSheet.scores).where(
        ScoreSheet.scheme_id == scheme.id, ScoreSheet.status == SheetStatus.SUBMITTED)
    if ids is not None:
        query = query.where(ScoreSheet.proposal_id.in_(ids))
    if held is None:
        held = published_pairs(scheme, ids)
    return [(p, m, scores) for p, m, scores in db.session.execute(query) if (p, m) in held]


def _proposal_info(scheme: ScoringScheme, proposal_ids: set[int], *, whole_stage: bool) -> dict[int, tuple[Any, str]]:
    """Proposal id -> (group code, number). For a whole stage the edition's proposals are read
    without an IN list of thousands of ids (binding and parsing that costs more than the rows)."""
    if not proposal_ids:
        return {}
    query = (sa.select(Proposal.id, EditionGroup.code, Proposal.number)
             .join(EditionGroup, EditionGroup.id == Proposal.group_id))
    info: dict[int, tuple[Any, str]] = {}
    if whole_stage:
        for pid, group, number in db.session.execute(query.where(Proposal.edition_id == scheme.edition_id)):
            if pid in proposal_ids:
                info[pid] = (group, number or "")
    missing = proposal_ids - info.keys()  # all of them for a few proposals; none, normally, for a stage
    if missing:
        for pid, group, number in db.session.execute(query.where(Proposal.id.in_(sorted(missing)))):
            info[pid] = (group, number or "")
    return info


def compute(scheme: ScoringScheme, proposal_ids: Iterable[int] | None = None, *,
            with_ranking: bool = False) -> dict[int, Figures]:
    """The figures of the stage's proposals (or of those listed) from their counted sheets."""
    ids = list(proposal_ids) if proposal_ids is not None else None
    held = published_pairs(scheme, ids)
    expected = {p for p, _m in held}
    sheets = _counted_sheets(scheme, ids, held=held)
    proposal_ids_all = expected | {p for p, _m, _s in sheets}
    info = _proposal_info(scheme, proposal_ids_all, whole_stage=ids is None)
    aspects_by_group = {group: rule_aspects(scheme, group) for group in {g for g, _n in info.values()}}
    threshold = Decimal(scheme.disagreement_threshold)
    totals: dict[tuple[int, int], Decimal] = {}
    # Per proposal, the weighted parts of each counted sheet, in the order of the group's aspects.
    parts: dict[int, list[tuple[Decimal, ...]]] = defaultdict(list)
    readers = {group: _SheetReader(aspects) for group, aspects in aspects_by_group.items()}
    for proposal_id, member_id, scores in sheets:
        read = readers[info[proposal_id][0]].read(scores)
        if read is None:
            continue  # a sheet submitted under different aspects; it cannot be counted
        totals[(member_id, proposal_id)] = read[0]
        parts[proposal_id].append(read[1])
    by_proposal: dict[int, list[Decimal]] = defaultdict(list)
    for (_member, proposal_id), total in totals.items():
        by_proposal[proposal_id].append(total)
    figures = {}
    zero = Decimal(0)
    for proposal_id in proposal_ids_all:
        summary = rules.summarise(by_proposal.get(proposal_id, []), threshold)
        mine = parts.get(proposal_id)
        means = {} if not mine else {
            key: str(rules.quantize(sum(column, zero) / len(column)))
            for key, column in zip(readers[info[proposal_id][0]].keys, zip(*mine))}
        group, number = info[proposal_id]
        figures[proposal_id] = Figures(proposal_id, getattr(group, "value", group), number, summary.sheets,
                                       summary.mean, summary.std_dev, summary.spread, summary.disagreement, means)
    if with_ranking:
        _normalise_and_rank(scheme, figures, totals)
    return figures


def _normalise_and_rank(scheme: ScoringScheme, figures: dict[int, Figures],
                        totals: dict[tuple[int, int], Decimal]) -> None:
    if scheme.normalise:
        normalised = rules.normalise(totals, min_sheets=scheme.normalise_min_sheets,
                                     scale=rules.Scale(scheme.scale_min, scheme.scale_max))
        per_proposal: dict[int, list[Decimal]] = defaultdict(list)
        for (_member, proposal_id), value in normalised.items():
            per_proposal[proposal_id].append(value)
        for proposal_id, values in per_proposal.items():
            figures[proposal_id].normalised_total = rules.quantize(sum(values, Decimal(0)) / len(values))
    keys = tie_break_keys(scheme)
    by_group: dict[str, list[rules.RankEntry]] = defaultdict(list)
    for item in figures.values():
        chosen = item.normalised_total if scheme.normalise else item.raw_total
        ties = tuple(Decimal(item.aspect_means.get(k, "0")) for k in keys)
        by_group[item.group].append(rules.RankEntry(item.proposal_id, chosen, ties, (item.number,)))
    for entries in by_group.values():
        for position, entry in rules.rank(entries):
            figures[entry.item].rank = position


_STORED = ("sheets", "raw_total", "normalised_total", "std_dev", "spread", "disagreement", "aspect_means", "rank")
# A single proposal's aggregate leaves the ranking columns to the stage's recomputation.
_AGGREGATE = tuple(c for c in _STORED if c not in ("normalised_total", "rank"))


def _write(scheme: ScoringScheme, figures: dict[int, Figures], *, with_ranking: bool,
           on_batch: Callable[[int, int], None] | None = None) -> int:
    """Upsert the figures (only rows that differ are written); returns the rows written.
    ``on_batch(done, batches)`` after each batch of a long write."""
    columns = _STORED if with_ranking else _AGGREGATE
    existing = {row.proposal_id: row for row in db.session.execute(
        sa.select(ProposalScore.id, ProposalScore.proposal_id, *(getattr(ProposalScore, c) for c in columns))
        .where(ProposalScore.scheme_id == scheme.id,
               *([ProposalScore.proposal_id.in_(list(figures))] if not with_ranking else [])))}
    now = utcnow()
    changed = []
    for proposal_id, item in figures.items():
        values = {c: getattr(item, c) for c in columns}
        row = existing.get(proposal_id)
        if row is None or any(_differs(getattr(row, c), values[c]) for c in columns):
            changed.append({"scheme_id": scheme.id, "proposal_id": proposal_id, "computed_at": now, **values})
    stale_ids = [row.id for pid, row in existing.items() if pid not in figures] if with_ranking else []
    if stale_ids:
        db.session.execute(sa.delete(ProposalScore).where(ProposalScore.id.in_(stale_ids)))
    # An upsert, not an insert after a look: another aggregation of the same proposal (two judges
    # submitting at once) may write its row between this one's look and its write.
    insert = dialect_insert(db.session, ProposalScore.__table__)
    upsert = insert.on_conflict_do_update(
        index_elements=[ProposalScore.scheme_id, ProposalScore.proposal_id],
        set_={c: insert.excluded[c] for c in (*columns, "computed_at")})
    batches = [changed[i:i + WRITE_BATCH] for i in range(0, len(changed), WRITE_BATCH)]
    for done, batch in enumerate(batches, start=1):
        db.session.execute(upsert, batch)
        if on_batch is not None:
            on_batch(done, len(batches))
    return len(changed) + len(stale_ids)


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return (None if old is None else Decimal(old)) != (None if new is None else Decimal(new))
    return old != new


def queue_recompute(scheme: ScoringScheme, actor: User | None = None) -> AggregationRun:
    """A full recomputation, unless one is already waiting to start (it will see this change too)."""
    waiting = db.session.scalar(sa.select(AggregationRun).where(
        AggregationRun.scheme_id == scheme.id, AggregationRun.status == RunStatus.QUEUED).limit(1))
    if waiting is not None:
        return waiting
    run = AggregationRun(scheme_id=scheme.id, requested_by_id=actor.id if actor else None)
    db.session.add(run)
    db.session.flush()
    enqueue(RECOMPUTE_STAGE, run_id=run.id)
    return run


def request_recompute(actor: User, scheme: ScoringScheme) -> AggregationRun:
    """The secretariat asks for a full recomputation of the stage (the service behind the button)."""
    if db.session.scalar(sa.select(ScoreSheet.id).where(ScoreSheet.scheme_id == scheme.id).limit(1)) is None:
        raise DomainError("no sheets", code="empty")
    run = queue_recompute(scheme, actor)
    record(actor, "scoring.recompute_requested", run)
    return run


@handles(AGGREGATE_PROPOSAL)
def aggregate_proposal(outbox_id: int, *, scheme_id: int, proposal_id: int) -> None:
    """The task after a sheet was submitted, reopened or discarded."""
    scheme = db.session.get(ScoringScheme, scheme_id)
    if scheme is None:
        return
    figures = compute(scheme, [proposal_id])
    if not figures:
        db.session.execute(sa.delete(ProposalScore).where(ProposalScore.scheme_id == scheme.id,
                                                          ProposalScore.proposal_id == proposal_id))
    else:
        _write(scheme, figures, with_ranking=False)
    scheme.ranking_stale = True
    queue_recompute(scheme)


# A run in these states is (still, or again) to be done when its message is delivered: RUNNING
# when a worker died during it, FAILED when it raised and its message came back to be retried.
_TO_RUN = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.FAILED)


@handles(RECOMPUTE_STAGE)
def recompute_stage(outbox_id: int, *, run_id: int) -> None:
    """The task: every aggregate, the normalisation and the ranking of a stage, with progress.

    One transaction, committed with the outbox message: a second copy of the message waits for
    the message's lock, and another run of the same stage for the stage's lock, and then finds its
    run done or runs it on what this one committed; a worker that dies leaves nothing written.
    The secretariat follows the progress, written apart from that transaction."""
    run = db.session.get(AggregationRun, run_id)
    if run is None:
        return
    lock_for_transaction(db.session, RECOMPUTE_STAGE, run.scheme_id)
    db.session.refresh(run)  # as the run that held the lock left it
    if run.status not in _TO_RUN:
        return
    scheme = db.session.get(ScoringScheme, run.scheme_id)
    started = dt.datetime.now(dt.timezone.utc)
    # The run's progress is committed apart, its outcome at the end with the rest: on PostgreSQL,
    # had this transaction written the run's row before, the progress would wait for it forever.
    show = functools.partial(_show_progress, run_id)
    show(5, status=RunStatus.RUNNING, started_at=utcnow(), finished_at=None, error=None)
    try:
        figures = compute(scheme, with_ranking=True)
        show(50)
        written = _write(scheme, figures, with_ranking=True,
                         on_batch=lambda done, batches: show(50 + 45 * done // batches))
    except Exception as error:
        db.session.rollback()
        failed = db.session.get(AggregationRun, run_id)
        failed.status, failed.finished_at, failed.error = RunStatus.FAILED, utcnow(), repr(error)[:2000]
        db.session.commit()
        raise
    scheme.ranking_stale = False
    scheme.ranked_at = utcnow()
    scheme.ranking_params = ranking_params(scheme)
    run.status, run.progress, run.finished_at, run.error = RunStatus.DONE, 100, utcnow(), None
    run.result = {"proposals": len(figures), "written": written,
                  "seconds": round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 3)}
    record(None, "scoring.recomputed", run, after=run.result)


def _show_progress(run_id: int, progress: int, **values: Any) -> None:
    execute_visible_now(db.session, sa.update(AggregationRun.__table__)
                        .where(AggregationRun.__table__.c.id == run_id).values(progress=progress, **values))


def ranking_params(scheme: ScoringScheme) -> dict[str, Any]:
    """How the ranking was computed, recorded with it."""
    return {
        "total": "normalised" if scheme.normalise else "raw",
        "normalisation": {"method": NORMALISATION_METHOD, "min_sheets": scheme.normalise_min_sheets}
        if scheme.normalise else None,
        "tie_break": tie_break_keys(scheme),
        "passing_grade": str(scheme.passing_grade) if scheme.passing_grade is not None else None,
        "disagreement_threshold": str(scheme.disagreement_threshold),
        "scale": [scheme.scale_min, scheme.scale_max],
    }
