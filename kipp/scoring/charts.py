"""The figures behind a scored stage's charts: each judge's distribution of totals, the mean
totals by cluster and by category, and the completion of the sheets over time.

The numbers are computed here (from a constant number of queries) and drawn as SVG by
``templates/scoring/_charts.html``; the pure helpers (``quantile``, ``five_numbers``,
``nice_axis``) carry no database and are unit-tested on their own.

Only the sheets the aggregates count are charted: submitted, and held by their judge
through a published assignment. So the charts, the ranking and the exports agree."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Sequence

import sqlalchemy as sa
from flask_babel import gettext as _

from kipp.accounts.models import User
from kipp.agencies.kinds import CLUSTER_LABELS, Cluster
from kipp.agencies.models import Agency
from kipp.extensions import db
from kipp.i18n import localized, to_wib
from kipp.judging.models import PoolMember
from kipp.proposals.models import Proposal
from kipp.scoring import rules
from kipp.scoring.models import ProposalScore, ScoreSheet, ScoringScheme, SheetStatus
from kipp.scoring.rules import quantize
from kipp.scoring.services import deadline_of, published_pairs

Number = Decimal | int | float | str


# --- pure helpers ----------------------------------------------------------------------------------


def quantile(values: Sequence[Number], p: Number) -> Decimal:
    """The ``p`` quantile (0 <= p <= 1) by linear interpolation between the closest ranks.

    This is the common definition (Excel's QUARTILE.INC, R's type 7, numpy's default), so a
    secretariat that checks a figure in a spreadsheet finds the same number."""
    if not values:
        raise ValueError("no values")
    share = Decimal(str(p))
    if not Decimal(0) <= share <= Decimal(1):
        raise ValueError(f"p out of [0, 1]: {p}")
    ordered = sorted(Decimal(str(v)) for v in values)
    position = (len(ordered) - 1) * share
    below = int(position)  # position >= 0, so this is the floor
    if below + 1 >= len(ordered):
        return ordered[-1]
    return ordered[below] + (position - below) * (ordered[below + 1] - ordered[below])


@dataclass(frozen=True)
class FiveNumbers:
    minimum: Decimal
    q1: Decimal
    median: Decimal
    q3: Decimal
    maximum: Decimal
    mean: Decimal
    n: int


def five_numbers(values: Sequence[Number]) -> FiveNumbers:
    """Minimum, quartiles, median, maximum and mean (all to two places) and the count."""
    items = [Decimal(str(v)) for v in values]
    if not items:
        raise ValueError("no values")
    return FiveNumbers(
        minimum=quantize(min(items)), q1=quantize(quantile(items, "0.25")), median=quantize(quantile(items, "0.5")),
        q3=quantize(quantile(items, "0.75")), maximum=quantize(max(items)),
        mean=quantize(sum(items, Decimal(0)) / len(items)), n=len(items))


def population_sd(values: Sequence[Number]) -> Decimal:
    """Standard deviation over the values themselves (not a sample), as the aggregates compute it."""
    items = [Decimal(str(v)) for v in values]
    if not items:
        raise ValueError("no values")
    deviation = rules.summarise(items, threshold=Decimal(0)).std_dev
    assert deviation is not None
    return deviation


@dataclass(frozen=True)
class Axis:
    """A linear axis from ``low`` to ``high`` with round tick values between them."""

    low: float
    high: float
    ticks: tuple[float, ...]

    def at(self, value: Number, length: float, *, reverse: bool = False) -> float:
        """Where ``value`` falls on an axis drawn ``length`` units long (from the top when ``reverse``)."""
        span = self.high - self.low or 1.0
        offset = (float(value) - self.low) / span * length
        offset = min(max(offset, 0.0), length)
        return round(length - offset if reverse else offset, 2)


def nice_axis(low: float, high: float, *, target_ticks: int = 5, integers: bool = False) -> Axis:
    """An axis covering ``low``..``high`` whose ticks step by 1, 2 or 5 times a power of ten."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(target_ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if integers:
        step = max(1, round(step))
    start = math.floor(low / step) * step
    end = math.ceil(high / step) * step
    ticks = []
    value = start
    while value <= end + step / 1000:
        ticks.append(round(value, 10))
        value += step
    return Axis(float(start), float(end), tuple(ticks))


# --- 1. each judge's totals --------------------------------------------------------------------------


@dataclass
class JudgeBox:
    member_id: int
    name: str
    affiliation: str | None
    figures: FiveNumbers | None  # None: no submitted sheet yet
    expected: int
    # "harsh" or "lenient" when the judge's median is more than one standard deviation
    # (of the judges' medians) from the stage's overall median.
    flag: str | None = None


@dataclass
class JudgeDistribution:
    boxes: list[JudgeBox]  # judges with sheets, by median (harshest first), then those without
    overall_median: Decimal | None
    medians_sd: Decimal | None
    axis: Axis

    @property
    def plotted(self) -> list[JudgeBox]:
        return [b for b in self.boxes if b.figures is not None]

    @property
    def flagged(self) -> list[JudgeBox]:
        return [b for b in self.boxes if b.flag]


def judge_distribution(scheme: ScoringScheme, sheets: Sequence["CountedSheet"],
                       pairs: set[tuple[int, int]]) -> JudgeDistribution:
    expected: dict[int, int] = defaultdict(int)
    for _proposal, member in pairs:
        expected[member] += 1
    totals: dict[int, list[Decimal]] = defaultdict(list)
    for sheet in sheets:
        if sheet.total is not None:
            totals[sheet.member_id].append(sheet.total)
    member_ids = set(expected) | set(totals)
    people = {mid: (name, affiliation) for mid, name, affiliation in db.session.execute(
        sa.select(PoolMember.id, User.name, User.affiliation).join(User, User.id == PoolMember.user_id)
        .where(PoolMember.id.in_(member_ids)))} if member_ids else {}
    boxes = [JudgeBox(mid, *people.get(mid, ("?", None)), five_numbers(totals[mid]) if totals.get(mid) else None,
                      expected.get(mid, 0)) for mid in member_ids]
    everything = [t for values in totals.values() for t in values]
    overall = quantize(quantile(everything, "0.5")) if everything else None
    medians = [b.figures.median for b in boxes if b.figures is not None]
    spread = population_sd(medians) if len(medians) >= 2 else None
    if overall is not None and spread:
        for box in boxes:
            if box.figures is not None and abs(box.figures.median - overall) > spread:
                box.flag = "harsh" if box.figures.median < overall else "lenient"
    boxes.sort(key=lambda b: (b.figures is None, b.figures.median if b.figures else 0, b.name.lower(), b.member_id))
    return JudgeDistribution(boxes, overall, spread, nice_axis(scheme.scale_min, scheme.scale_max, target_ticks=10))


# --- 2. mean totals by cluster and by category -------------------------------------------------------


@dataclass
class Bar:
    key: str
    label: str
    n: int  # proposals with a total
    mean: Decimal | None


@dataclass
class Breakdown:
    bars: list[Bar]
    axis: Axis

    @property
    def plotted(self) -> list[Bar]:
        return [b for b in self.bars if b.mean is not None]


def _bars(groups: dict[str, list[Decimal]], labels: dict[str, str]) -> list[Bar]:
    bars = []
    for key, label in labels.items():
        values = groups.get(key, [])
        bars.append(Bar(key, label, len(values), quantize(sum(values, Decimal(0)) / len(values)) if values else None))
    return bars


def breakdowns(scheme: ScoringScheme) -> tuple[Breakdown, Breakdown]:
    """The mean raw total of the proposals per cluster and per category (every cluster and
    category of the edition is listed, with n = 0 where nothing is scored yet)."""
    by_cluster: dict[str, list[Decimal]] = defaultdict(list)
    by_category: dict[str, list[Decimal]] = defaultdict(list)
    for raw_total, cluster, category_id in db.session.execute(
            sa.select(ProposalScore.raw_total, Agency.cluster, Proposal.category_id)
            .join(Proposal, Proposal.id == ProposalScore.proposal_id)
            .join(Agency, Agency.id == Proposal.agency_id)
            .where(ProposalScore.scheme_id == scheme.id, ProposalScore.raw_total.is_not(None))):
        by_cluster[Cluster(cluster).value].append(Decimal(raw_total))
        by_category["none" if category_id is None else str(category_id)].append(Decimal(raw_total))
    cluster_labels = {c.value: CLUSTER_LABELS[c] for c in Cluster}
    category_labels = {str(c.id): localized(c, "name") for c in scheme.edition.categories}
    if by_category.get("none"):
        category_labels["none"] = _("No category")
    axis = nice_axis(scheme.scale_min, scheme.scale_max, target_ticks=10)
    return Breakdown(_bars(by_cluster, cluster_labels), axis), Breakdown(_bars(by_category, category_labels), axis)


# --- 3. completion over time -------------------------------------------------------------------------


@dataclass
class Day:
    day: dt.date
    submitted: int
    cumulative: int


@dataclass
class Completion:
    days: list[Day]  # the days (WIB) on which sheets were submitted
    expected: int
    deadline: dt.datetime | None
    start: dt.date | None
    end: dt.date | None
    x_axis: Axis | None
    y_axis: Axis
    x_ticks: list[dt.date] = field(default_factory=list)

    @property
    def submitted(self) -> int:
        return self.days[-1].cumulative if self.days else 0

    @property
    def percent(self) -> float | None:
        return 100 * self.submitted / self.expected if self.expected else None

    @property
    def deadline_day(self) -> dt.date | None:
        return to_wib(self.deadline).date() if self.deadline else None

    def x(self, day: dt.date, length: float) -> float:
        """Where a day (WIB) starts on a time axis drawn ``length`` units long."""
        if self.x_axis is None or self.start is None:
            return 0.0
        return self.x_axis.at((day - self.start).days, length)

    def deadline_x(self, length: float) -> float | None:
        """Where the deadline falls, to the hour (a deadline is usually 23:59 WIB, the day's end)."""
        if self.deadline is None or self.x_axis is None or self.start is None:
            return None
        local = to_wib(self.deadline)
        midnight = dt.datetime.combine(self.start, dt.time(), tzinfo=local.tzinfo)
        return self.x_axis.at((local - midnight).total_seconds() / 86400, length)

    def steps(self, width: float, height: float) -> str:
        """The polyline points of the cumulative count, stepping up on each day with submissions."""
        if not self.days or self.x_axis is None:
            return ""
        level = height
        points = [(0.0, level)]
        for item in self.days:
            x = self.x(item.day, width)
            points.append((x, level))
            level = self.y_axis.at(item.cumulative, height, reverse=True)
            points.append((x, level))
        points.append((width, level))
        return " ".join(f"{x:.2f},{y:.2f}" for x, y in points)


def completion(scheme: ScoringScheme, sheets: Sequence["CountedSheet"], expected: int) -> Completion:
    per_day: dict[dt.date, int] = defaultdict(int)
    for sheet in sheets:
        per_day[to_wib(sheet.submitted_at).date()] += 1
    days, running = [], 0
    for day in sorted(per_day):
        running += per_day[day]
        days.append(Day(day, per_day[day], running))
    deadline = deadline_of(scheme)
    stage = scheme.edition.stage(scheme.stage)
    candidates = [d.day for d in days]
    if stage is not None:
        opened = to_wib(stage.opens_at).date()
        # A stage opened long before anyone scored (e.g. a replayed edition) would squeeze
        # every submission into the last pixels: start a week before the first one instead.
        if days and (days[0].day - opened).days > 30:
            opened = days[0].day - dt.timedelta(days=7)
        candidates.append(opened)
    if deadline is not None:
        candidates.append(to_wib(deadline).date())
    start, end = (min(candidates), max(candidates)) if candidates else (None, None)
    y_axis = nice_axis(0, max(expected, running, 1), target_ticks=5, integers=True)
    if start is None or end is None:
        return Completion(days, expected, deadline, None, None, None, y_axis)
    length = (end - start).days + 1
    x_axis = nice_axis(0, length, target_ticks=min(length, 8), integers=True)
    x_axis = Axis(0.0, float(length), tuple(t for t in x_axis.ticks if t <= length))
    ticks = [start + dt.timedelta(days=int(t)) for t in x_axis.ticks if t < length]
    return Completion(days, expected, deadline, start, end, x_axis, y_axis, ticks)


# --- the page ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountedSheet:
    proposal_id: int
    member_id: int
    total: Decimal | None
    submitted_at: dt.datetime


@dataclass
class StageCharts:
    judges: JudgeDistribution
    by_cluster: Breakdown
    by_category: Breakdown
    completion: Completion


def counted_sheets(scheme: ScoringScheme, pairs: set[tuple[int, int]]) -> list[CountedSheet]:
    rows = db.session.execute(
        sa.select(ScoreSheet.proposal_id, ScoreSheet.member_id, ScoreSheet.weighted_total, ScoreSheet.submitted_at)
        .where(ScoreSheet.scheme_id == scheme.id, ScoreSheet.status == SheetStatus.SUBMITTED))
    return [CountedSheet(p, m, Decimal(total) if total is not None else None, at)
            for p, m, total, at in rows if (p, m) in pairs]


def stage_charts(scheme: ScoringScheme) -> StageCharts:
    pairs = published_pairs(scheme)
    sheets = counted_sheets(scheme, pairs)
    by_cluster, by_category = breakdowns(scheme)
    return StageCharts(judge_distribution(scheme, sheets, pairs), by_cluster, by_category,
                       completion(scheme, sheets, len(pairs)))
