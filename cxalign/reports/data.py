"""The gap report as plain data: the one input of the results dashboard and the PDF.

:func:`build_report` turns a :class:`~cxalign.analysis.SurveyAnalysis` (the scoring
result), the survey's comments and a few facts about the survey into frozen
dataclasses of primitive values. Templates only format and lay out what is here:
every figure comes from ``analysis.result`` (cxalign/scoring/model.py), nothing is
recomputed and nothing that scoring suppressed can reappear. What this module adds is
words: the one-line readings, the executive-summary findings and the "what to do next"
list drawn from the priorities.

:func:`build_charts` draws the SVG charts from that data, so the page and the PDF show
the same pictures. :func:`report_for_survey` does both for a survey in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from markupsafe import Markup

from cxalign.analysis import CommentGroup, SurveyAnalysis
from cxalign.instruments.spec import GROUP_LABELS, GROUPS
from cxalign.reports import charts
from cxalign.scoring import DimensionGroupStats, DimensionResult, ItemGroupStats, ItemResult

if TYPE_CHECKING:
    from cxalign.analysis.trends import Trend

__all__ = [
    "CLASSIFICATION_LABELS",
    "Alignment",
    "CommentQuestion",
    "CommentSection",
    "DimensionRow",
    "Finding",
    "GroupCount",
    "GroupFigures",
    "ItemRow",
    "NextStep",
    "Notice",
    "ReportCharts",
    "ReportData",
    "SurveyMeta",
    "build_charts",
    "build_report",
    "report_for_survey",
    "survey_meta",
]

# Scoring names classifications in words ("blind spot"); templates and charts use keys.
CLASSIFICATION_KEYS = {
    "blind spot": "blind_spot",
    "hidden strength": "hidden_strength",
    "shared strength": "shared_strength",
    "shared weakness": "shared_weakness",
}
CLASSIFICATION_LABELS = {
    "blind_spot": "Blind spot",
    "hidden_strength": "Hidden strength",
    "shared_strength": "Shared strength",
    "shared_weakness": "Shared weakness",
}
CONFIDENCE_LABELS = {
    "supported": "Statistically supported",
    "not supported": "Not statistically supported",
    "indicative": "Indicative (one respondent)",
    "not testable": "Not testable",
    "no data": "No data",
    "suppressed": "Suppressed",
}
GROUP_PLURAL = {"executive": "executives", "cx_professional": "CX professionals"}
QUADRANT_LABELS = {
    "concentrate here": "Concentrate here",
    "keep up the good work": "Keep up the good work",
    "low priority": "Low priority",
    "possible overkill": "Possible overkill",
}
SHORT_ITEM_LIST = 12  # blind spots / hidden strengths listed before "and N more"

# What to do about each built-in dimension when it comes up as a priority. Custom
# dimensions (other codes) get the generic advice of their classification.
DIMENSION_ACTIONS = {
    "LEAD_FOCUS": "Make customer outcomes a standing item in executive meetings and in leaders' "
    "messages to staff, so that the focus executives feel is visible to the people who run CX.",
    "AWARE": "Have the CX team brief the executive team every quarter on its goals, initiatives "
    "and latest results, and check that each executive can name the top three.",
    "ENGAGE": "Agree a regular slot in which executives ask the CX team for advice before "
    "decisions that affect customers, and track how often it happens.",
    "STRATEGY": "Write customer experience into the business strategy and the annual plan, with "
    "owners and targets, instead of running it as a stand-alone programme.",
    "INVEST": "Give customer experience a budget line of its own and review the spend against "
    "customer outcomes, so that funding is visible rather than borrowed.",
    "ACCOUNT": "Tie part of executive objectives and variable pay to customer-experience goals, "
    "and tell the organisation that you have done so.",
    "CX_LEAD": "Give the CX leader a regular seat at the executive table and a direct line to "
    "the chief executive.",
    "VOC": "Put leading indicators (customer effort, complaint themes, operational signals) on "
    "the executive dashboard next to the lagging survey scores, and review them monthly.",
    "LOOP": "Report how complaints are resolved and which root causes were fixed, so that "
    "executives can see the loop being closed.",
    "EMPLOYEE": "Ask frontline staff what stops them from serving customers well, give them the "
    "authority to put things right, and report back on what changed.",
    "DISCIPLINE": "Agree one customer-experience management cycle (measure, prioritise, act, "
    "review) with owners and a calendar, and keep to it.",
    "CUST_VIEW": "Test the executive view against customers' own: put customer verbatims and "
    "benchmark data in front of the executive team at least once a quarter.",
}
GENERIC_ACTIONS = {
    "blind_spot": "Ask the CX team to show the executive team the evidence behind their view, "
    "agree one visible change, and set a date to check whether the gap has narrowed.",
    "hidden_strength": "Show executives the evidence the CX team sees, recognise the work, and "
    "decide how to build on it.",
    "shared_weakness": "Name an executive owner, agree what good looks like and fund the first "
    "step: both sides already agree that this needs work.",
}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class SurveyMeta:
    """What the report says about the survey itself (not computed by scoring)."""

    survey_id: int
    title: str
    organisation: str
    status: str
    opens_on: date | None
    closes_on: date | None
    comment_minimum: int


@dataclass(frozen=True)
class Notice:
    level: str  # "warning" or "info"
    message: str


@dataclass(frozen=True)
class GroupCount:
    """Who answered in one group, against its anonymity threshold."""

    group: str
    label: str
    n: int
    n_responding: int
    threshold: int
    suppressed: bool
    reason: str | None


@dataclass(frozen=True)
class Alignment:
    index: float | None
    index_text: str  # rounded, "—" when there is no index
    apart_text: str | None  # 100 − rounded index: "the two sides are x% of the scale apart"
    band: str | None
    reading: str  # one line for the dashboard and the summary
    detail: str  # the scoring engine's full reading
    caveat: str
    n_dimensions: int
    profile_correlation: float | None
    lins_concordance: float | None
    distance: float | None
    elevation_share: float | None
    scatter_share: float | None
    shape_share: float | None
    profile_reading: str | None


@dataclass(frozen=True)
class GroupFigures:
    """One group's figures on an item (means in scale points) or a dimension (POMP)."""

    n: int
    mean: float | None
    mean_pomp: float | None
    sd: float | None
    dont_know_share: float | None
    agreement: float | None  # r_wg (items) or r*_wg(J) (dimensions)
    consensus: str  # "agreed", "split", "few", "single", "none"
    consensus_text: str
    distribution: tuple[int, ...] = ()


@dataclass(frozen=True)
class ItemRow:
    code: str
    dimension_code: str
    dimension_name: str
    executive_text: str
    cx_text: str
    points: int
    scale_labels: tuple[str, ...]
    reverse: bool
    executive: GroupFigures | None  # None: the group is suppressed
    cx_professional: GroupFigures | None
    gap_points: float | None
    gap_pomp: float | None
    ci_low: float | None  # points
    ci_high: float | None
    cliffs_delta: float | None
    delta_magnitude: str | None
    q: float | None
    confidence: str
    confidence_label: str
    classification: str | None  # key: blind_spot, hidden_strength, shared_strength, ...
    classification_label: str | None
    level: str | None
    split: bool  # low consensus in at least one group

    @property
    def notable(self) -> bool:
        return self.level in ("notable", "major")


@dataclass(frozen=True)
class DimensionRow:
    code: str
    name: str
    description: str
    finding: str
    importance: float
    points: int | None
    executive: GroupFigures | None
    cx_professional: GroupFigures | None
    gap_pomp: float | None
    ci_low_pomp: float | None
    ci_high_pomp: float | None
    cliffs_delta: float | None
    delta_magnitude: str | None
    effect_size: float | None
    effect_size_kind: str | None
    confidence: str
    confidence_label: str
    classification: str | None
    classification_label: str | None
    level: str | None
    level_pomp: float | None
    performance_pomp: float | None
    quadrant: str | None
    priority_rank: int | None
    reliability: float | None
    reliability_method: str | None
    reading: str
    items: tuple[ItemRow, ...]

    @property
    def notable(self) -> bool:
        return self.level in ("notable", "major")


@dataclass(frozen=True)
class NextStep:
    """One entry of "what to do next", built from one priority."""

    rank: int
    dimension_code: str
    name: str
    kind: str  # "gap" or "shared weakness"
    classification: str
    classification_label: str
    level: str
    confidence: str
    confidence_label: str
    importance: float
    gap_pomp: float
    level_pomp: float
    priority_score: float
    summary: str  # the scoring engine's sentence
    why: str
    evidence: str | None  # the item that shows it most plainly
    action: str


@dataclass(frozen=True)
class Finding:
    """One headline of the executive summary."""

    title: str
    text: str
    tone: str  # blind_spot, hidden_strength, shared_weakness, neutral


@dataclass(frozen=True)
class CommentQuestion:
    code: str
    question: str
    comments: tuple[str, ...]
    suppressed: bool
    notice: str | None


@dataclass(frozen=True)
class CommentSection:
    group: str
    label: str
    questions: tuple[CommentQuestion, ...]

    @property
    def count(self) -> int:
        return sum(len(q.comments) for q in self.questions)


@dataclass(frozen=True)
class ReportData:
    survey_id: int
    title: str
    organisation: str
    status: str
    opens_on: date | None
    closes_on: date | None
    generated_on: date
    instrument_name: str
    instrument_version: int
    method_version: str
    data_version: str
    gap_threshold_pomp: float
    gap_major_pomp: float
    strength_cut_pomp: float
    mean_importance: float
    groups: tuple[GroupCount, ...]
    any_suppressed: bool
    has_results: bool  # both groups visible: gaps exist
    alignment: Alignment
    dimensions: tuple[DimensionRow, ...]  # instrument order
    dimensions_by_gap: tuple[DimensionRow, ...]  # largest positive gap first
    blind_spots: tuple[ItemRow, ...]  # items, largest gap first
    hidden_strengths: tuple[ItemRow, ...]  # items, largest (negative) gap first
    shared_weaknesses: tuple[DimensionRow, ...]
    top_gap: ItemRow | None  # the largest statistically supported notable item gap
    findings: tuple[Finding, ...]
    overview_reading: str | None  # one sentence under the dimension chart
    next_steps: tuple[NextStep, ...]
    comments: tuple[CommentSection, ...]
    notices: tuple[Notice, ...]  # warnings first
    counts: dict[str, int]  # dimensions per classification key, items per classification key
    # Waves of the series up to this one (cxalign.analysis.trends); None unless two have results.
    trend: Trend | None = None

    @property
    def items(self) -> tuple[ItemRow, ...]:
        return tuple(item for dim in self.dimensions for item in dim.items)

    @property
    def top_priorities(self) -> tuple[NextStep, ...]:
        return self.next_steps[:3]

    def group(self, group: str) -> GroupCount:
        return next(g for g in self.groups if g.group == group)

    @property
    def blind_spots_short(self) -> tuple[ItemRow, ...]:
        return self.blind_spots[:SHORT_ITEM_LIST]

    @property
    def hidden_strengths_short(self) -> tuple[ItemRow, ...]:
        return self.hidden_strengths[:SHORT_ITEM_LIST]


@dataclass(frozen=True)
class ReportCharts:
    """SVG markup (server-rendered, shared by the page and the PDF)."""

    dimensions: Markup  # dumbbell: executives vs CX professionals per dimension
    gaps: Markup  # diverging bars with confidence intervals
    importance_performance: Markup
    items: dict[str, Markup]  # per dimension code: the items' dumbbell
    trend: Markup | None = None  # the alignment index across waves, when there is a trend


# --------------------------------------------------------------------------- building


def _key(classification: str | None) -> str | None:
    return CLASSIFICATION_KEYS.get(classification or "")


def _consensus(stats: ItemGroupStats | DimensionGroupStats) -> tuple[str, str]:
    if stats.n == 0:
        return "none", "no answers"
    if stats.n == 1:
        return "single", "one answer"
    if stats.consensus_descriptive_only:
        return "few", "too few to judge"
    if stats.low_consensus:
        return "split", "split view"
    return "agreed", "agreed"


def _item_figures(stats: ItemGroupStats | None) -> GroupFigures | None:
    if stats is None:
        return None
    consensus, text = _consensus(stats)
    return GroupFigures(
        n=stats.n,
        mean=stats.mean,
        mean_pomp=stats.mean_pomp,
        sd=stats.sd,
        dont_know_share=stats.dont_know_share,
        agreement=stats.rwg,
        consensus=consensus,
        consensus_text=text,
        distribution=tuple(stats.distribution),
    )


def _dimension_figures(stats: DimensionGroupStats | None) -> GroupFigures | None:
    if stats is None:
        return None
    consensus, text = _consensus(stats)
    return GroupFigures(
        n=stats.n,
        mean=stats.mean_pomp,
        mean_pomp=stats.mean_pomp,
        sd=stats.sd_pomp,
        dont_know_share=stats.dont_know_share,
        agreement=stats.rwg_j,
        consensus=consensus,
        consensus_text=text,
    )


def _item_row(item: ItemResult, analysis: SurveyAnalysis) -> ItemRow:
    spec = analysis.instrument.item(item.code)
    dimension = analysis.instrument.dimension_of(item.code)
    key = _key(item.classification)
    executive, cx = _item_figures(item.executive), _item_figures(item.cx_professional)
    return ItemRow(
        code=item.code,
        dimension_code=dimension.code,
        dimension_name=dimension.name,
        executive_text=spec.executive,
        cx_text=spec.cx_professional,
        points=item.points,
        scale_labels=tuple(spec.scale.labels),
        reverse=item.reverse,
        executive=executive,
        cx_professional=cx,
        gap_points=item.gap_points,
        gap_pomp=item.gap_pomp,
        ci_low=item.ci_low,
        ci_high=item.ci_high,
        cliffs_delta=item.cliffs_delta,
        delta_magnitude=item.cliffs_delta_magnitude,
        q=item.q,
        confidence=item.confidence,
        confidence_label=CONFIDENCE_LABELS.get(item.confidence, item.confidence),
        classification=key,
        classification_label=CLASSIFICATION_LABELS.get(key or ""),
        level=item.level,
        split=any(f is not None and f.consensus == "split" for f in (executive, cx)),
    )


def _dimension_reading(dim: DimensionResult) -> str:
    if dim.gap_pomp is None:
        if dim.confidence == "suppressed":
            return "No comparison: one group is below its anonymity threshold."
        return "No comparison: one group has not answered these items."
    confidence = CONFIDENCE_LABELS.get(dim.confidence, dim.confidence).lower()
    gap = abs(round(dim.gap_pomp))
    if dim.classification == "blind spot":
        return (
            f"Executives rate this {gap} points higher than CX professionals do "
            f"({dim.level} gap, {confidence})."
        )
    if dim.classification == "hidden strength":
        return (
            f"Executives rate this {gap} points lower than CX professionals do "
            f"({dim.level} gap, {confidence})."
        )
    level = round(dim.level_pomp) if dim.level_pomp is not None else None
    if dim.classification == "shared strength":
        return f"Both sides rate this well ({level} of 100 on average) and broadly agree."
    return (
        f"Both sides agree this is not good enough ({level} of 100 on average): a shared weakness."
    )


def _dimension_row(dim: DimensionResult, analysis: SurveyAnalysis, items) -> DimensionRow:
    spec = next(d for d in analysis.instrument.dimensions if d.code == dim.code)
    key = _key(dim.classification)
    return DimensionRow(
        code=dim.code,
        name=dim.name,
        description=spec.description,
        finding=spec.finding,
        importance=dim.importance,
        points=dim.points,
        executive=_dimension_figures(dim.executive),
        cx_professional=_dimension_figures(dim.cx_professional),
        gap_pomp=dim.gap_pomp,
        ci_low_pomp=dim.ci_low_pomp,
        ci_high_pomp=dim.ci_high_pomp,
        cliffs_delta=dim.cliffs_delta,
        delta_magnitude=dim.cliffs_delta_magnitude,
        effect_size=dim.effect_size,
        effect_size_kind=dim.effect_size_kind,
        confidence=dim.confidence,
        confidence_label=CONFIDENCE_LABELS.get(dim.confidence, dim.confidence),
        classification=key,
        classification_label=CLASSIFICATION_LABELS.get(key or ""),
        level=dim.level,
        level_pomp=dim.level_pomp,
        performance_pomp=dim.performance_pomp,
        quadrant=QUADRANT_LABELS.get(dim.quadrant or "", dim.quadrant),
        priority_rank=dim.priority_rank,
        reliability=dim.reliability.value,
        reliability_method=dim.reliability.method,
        reading=_dimension_reading(dim),
        items=tuple(items),
    )


def _alignment(analysis: SurveyAnalysis) -> Alignment:
    a = analysis.result.alignment
    caveat = (
        "A high index means agreement, not health: both sides can agree that things are "
        "poor, so read it with the dimension levels and the shared weaknesses."
    )
    if a.index is None:
        return Alignment(
            index=None,
            index_text="—",
            apart_text=None,
            band=None,
            reading=a.reading,
            detail=a.reading,
            caveat=caveat,
            n_dimensions=a.n_dimensions,
            profile_correlation=None,
            lins_concordance=None,
            distance=None,
            elevation_share=None,
            scatter_share=None,
            shape_share=None,
            profile_reading=None,
        )
    index_text = f"{a.index:.0f}"
    apart = 100 - int(index_text)
    reading = (
        f"Executives and CX professionals are on average {apart}% of the scale apart ({a.band})."
    )
    return Alignment(
        index=a.index,
        index_text=index_text,
        apart_text=f"{apart}%",
        band=a.band,
        reading=reading,
        detail=a.reading,
        caveat=caveat,
        n_dimensions=a.n_dimensions,
        profile_correlation=a.profile_correlation,
        lins_concordance=a.lins_concordance,
        distance=a.distance,
        elevation_share=a.elevation_share,
        scatter_share=a.scatter_share,
        shape_share=a.shape_share,
        profile_reading=_profile_reading(a.elevation_share, a.scatter_share, a.shape_share),
    )


def _profile_reading(elevation, scatter, shape) -> str | None:
    shares = {"elevation": elevation, "scatter": scatter, "shape": shape}
    if any(v is None for v in shares.values()):
        return None
    largest = max(shares, key=lambda k: shares[k])
    percent = f"{shares[largest] * 100:.0f}%"
    return {
        "shape": f"Most of the distance ({percent}) is in shape: the two sides disagree on "
        "which areas are strong and which are weak, the kind of misalignment most worth "
        "discussing.",
        "elevation": f"Most of the distance ({percent}) is in elevation: one side is more "
        "positive across the board, while both rank the areas much alike.",
        "scatter": f"Most of the distance ({percent}) is in scatter: one side differentiates "
        "far more between areas than the other.",
    }[largest]


def _evidence(kind: str, dimension: DimensionRow | None) -> str | None:
    """The item that shows the priority most plainly, quoted with both groups' means."""
    if dimension is None:
        return None
    rows = [i for i in dimension.items if i.executive and i.cx_professional]
    rows = [i for i in rows if i.executive.mean is not None and i.cx_professional.mean is not None]
    if kind == "blind_spot":
        rows = [i for i in rows if (i.gap_pomp or 0) > 0]
        pick, label = max(rows, key=lambda i: i.gap_pomp or 0, default=None), "Widest gap"
    elif kind == "hidden_strength":
        rows = [i for i in rows if (i.gap_pomp or 0) < 0]
        pick, label = min(rows, key=lambda i: i.gap_pomp or 0, default=None), "Widest gap"
    else:
        pick = min(rows, key=lambda i: i.cx_professional.mean_pomp or 0, default=None)
        label = "Lowest-rated item"
    if pick is None:
        return None
    return (
        f"{label}: “{pick.cx_text}” Executives {pick.executive.mean:.1f}, "
        f"CX professionals {pick.cx_professional.mean:.1f} of {pick.points}."
    )


def _next_step(entry, dimension: DimensionRow | None = None) -> NextStep:
    key = _key(entry.classification) or "shared_weakness"
    gap = abs(round(entry.gap_pomp))
    confidence = CONFIDENCE_LABELS.get(entry.confidence, entry.confidence).lower()
    if key == "blind_spot":
        why = (
            f"Executives score {entry.name} {gap} points higher than the CX professionals "
            f"who deliver it ({entry.level} gap, {confidence})."
        )
    elif key == "hidden_strength":
        why = (
            f"CX professionals score {entry.name} {gap} points higher than executives do "
            f"({entry.level} gap, {confidence}): something is working that leaders do not see."
        )
    else:
        why = (
            f"Both sides agree that {entry.name} falls short ({round(entry.level_pomp)} of 100 "
            "on average), with no notable gap between them: agreement, not health."
        )
    if key == "hidden_strength":
        action = GENERIC_ACTIONS["hidden_strength"]
    else:
        action = DIMENSION_ACTIONS.get(entry.dimension) or GENERIC_ACTIONS[key]
    return NextStep(
        rank=entry.rank,
        dimension_code=entry.dimension,
        name=entry.name,
        kind=entry.kind,
        classification=key,
        classification_label=CLASSIFICATION_LABELS[key],
        level=entry.level,
        confidence=entry.confidence,
        confidence_label=CONFIDENCE_LABELS.get(entry.confidence, entry.confidence),
        importance=entry.importance,
        gap_pomp=entry.gap_pomp,
        level_pomp=entry.level_pomp,
        priority_score=entry.priority_score,
        summary=entry.summary,
        why=why,
        evidence=_evidence(key, dimension),
        action=action,
    )


def _join(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _top_gap(items: Sequence[ItemRow]) -> ItemRow | None:
    """The item with the largest notable gap, statistically supported ones first."""
    candidates = [i for i in items if i.notable and i.gap_pomp is not None]
    if not candidates:
        return None
    return max(candidates, key=lambda i: (i.confidence == "supported", abs(i.gap_pomp or 0)))


def _findings(
    dimensions: Sequence[DimensionRow], top_gap: ItemRow | None, alignment: Alignment
) -> tuple[Finding, ...]:
    compared = [d for d in dimensions if d.gap_pomp is not None]
    if not compared:
        return ()
    findings = []
    blind = sorted(
        (d for d in compared if d.classification == "blind_spot"),
        key=lambda d: -(d.gap_pomp or 0),
    )
    hidden = sorted(
        (d for d in compared if d.classification == "hidden_strength"),
        key=lambda d: d.gap_pomp or 0,
    )
    weak = [d for d in compared if d.classification == "shared_weakness"]
    strong = [d for d in compared if d.classification == "shared_strength"]
    total = len(compared)
    if blind:
        widest = blind[0]
        findings.append(
            Finding(
                title=f"Executives see a better picture on {len(blind)} of {total} dimensions",
                text=f"The widest blind spot is {widest.name}: executives rate it "
                f"{abs(round(widest.gap_pomp or 0))} points higher on a 0–100 scale.",
                tone="blind_spot",
            )
        )
    if top_gap is not None and top_gap.executive and top_gap.cx_professional:
        findings.append(
            Finding(
                title=f"Largest item gap: {top_gap.code}",
                text=f"“{top_gap.cx_text}” Executives average "
                f"{top_gap.executive.mean:.1f}, CX professionals "
                f"{top_gap.cx_professional.mean:.1f} on a {top_gap.points}-point scale.",
                tone=top_gap.classification or "neutral",
            )
        )
    if hidden:
        names = _join(d.name for d in hidden[:2])
        findings.append(
            Finding(
                title=f"{len(hidden)} hidden strength{'s' if len(hidden) != 1 else ''}",
                text=f"Executives underrate {names}: the CX team sees more working than "
                "leaders do.",
                tone="hidden_strength",
            )
        )
    if weak:
        names = _join(d.name for d in weak[:2])
        findings.append(
            Finding(
                title=f"{len(weak)} shared weakness{'es' if len(weak) != 1 else ''}",
                text=f"Both sides agree that {names} "
                f"{'is' if len(weak[:2]) == 1 else 'are'} not good enough.",
                tone="shared_weakness",
            )
        )
    if strong and len(findings) < 4:
        names = _join(d.name for d in strong[:2])
        findings.append(
            Finding(
                title=f"{len(strong)} shared strength{'s' if len(strong) != 1 else ''}",
                text=f"Both sides rate {names} well.",
                tone="shared_strength",
            )
        )
    if alignment.profile_reading and len(findings) < 5:
        findings.append(Finding("How the views differ", alignment.profile_reading, "neutral"))
    return tuple(findings)


def _overview_reading(ordered: Sequence[DimensionRow]) -> str | None:
    """Which dimensions stand out, in one sentence (ordered: largest positive gap first)."""
    blind = [d for d in ordered if d.classification == "blind_spot"]
    hidden = [d for d in ordered if d.classification == "hidden_strength"][::-1]
    if not blind and not hidden:
        return None

    def listed(rows) -> str:
        return _join(f"{d.name} ({round(d.gap_pomp or 0):+d})".replace("-", "\u2212") for d in rows)

    parts = []
    if blind:
        parts.append(f"Executives rate highest above the CX team on {listed(blind[:3])}")
    if hidden:
        parts.append(f"they rate lower than the CX team on {listed(hidden[:2])}")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def _comments(
    groups: Sequence[CommentGroup], analysis: SurveyAnalysis, comment_minimum: int
) -> tuple[CommentSection, ...]:
    sections = []
    for group in GROUPS:
        summary = analysis.result.groups[group]
        questions = []
        for cg in groups:
            if cg.group != group:
                continue
            notice = None
            if cg.suppressed:
                if summary.suppressed:
                    notice = (
                        f"Hidden: fewer than {summary.threshold} {GROUP_PLURAL[group]} answered "
                        "(anonymity threshold)."
                    )
                else:
                    notice = (
                        f"Hidden: fewer than {comment_minimum} {GROUP_PLURAL[group]} answered "
                        "this question, so their comments could identify them."
                    )
            questions.append(
                CommentQuestion(cg.question_code, cg.question, cg.comments, cg.suppressed, notice)
            )
        sections.append(CommentSection(group, GROUP_LABELS[group], tuple(questions)))
    return tuple(sections)


def survey_meta(survey) -> SurveyMeta:
    """The survey facts a report prints, read from a ``Survey`` row."""
    return SurveyMeta(
        survey_id=survey.id,
        title=survey.title,
        organisation=survey.organisation.name,
        status=survey.status,
        opens_on=survey.opens_on,
        closes_on=survey.closes_on,
        comment_minimum=survey.comment_minimum,
    )


def build_report(
    meta: SurveyMeta,
    analysis: SurveyAnalysis,
    comments: Sequence[CommentGroup],
    *,
    generated_on: date | None = None,
    trend: Trend | None = None,
) -> ReportData:
    """The report view-model: every figure from ``analysis.result``, plus readings.

    ``trend`` (from :func:`cxalign.analysis.trends.survey_trend`) is kept only when at least two
    waves have results: a single wave has nothing to compare with.
    """
    result = analysis.result
    item_rows = {item.code: _item_row(item, analysis) for item in result.items}
    dimensions = tuple(
        _dimension_row(dim, analysis, (item_rows[c] for c in dim.item_codes if c in item_rows))
        for dim in result.dimensions
    )
    by_code = {d.code: d for d in dimensions}
    items = [item_rows[item.code] for item in result.items]

    groups = tuple(
        GroupCount(
            group=g.group,
            label=g.label,
            n=g.n,
            n_responding=g.n_responding,
            threshold=g.threshold,
            suppressed=g.suppressed,
            reason=g.reason,
        )
        for g in result.groups
    )
    any_suppressed = any(g.suppressed for g in groups)
    alignment = _alignment(analysis)
    blind_spots = tuple(
        sorted(
            (i for i in items if i.classification == "blind_spot"),
            key=lambda i: -(i.gap_pomp or 0),
        )
    )
    hidden_strengths = tuple(
        sorted(
            (i for i in items if i.classification == "hidden_strength"),
            key=lambda i: i.gap_pomp or 0,
        )
    )
    compared = [d for d in dimensions if d.gap_pomp is not None]
    dimensions_by_gap = tuple(
        sorted(compared, key=lambda d: -(d.gap_pomp or 0))
        + [d for d in dimensions if d.gap_pomp is None]
    )
    top_gap = _top_gap(items)
    next_steps = tuple(_next_step(p, by_code.get(p.dimension)) for p in result.priorities)

    notices = []
    if meta.status == "open":
        notices.append(
            Notice(
                "info",
                "This survey is still open: the figures will change as more people answer.",
            )
        )
    notices += [Notice(n.level, n.message) for n in result.notes]
    notices.sort(key=lambda n: n.level != "warning")

    counts: dict[str, int] = {}
    for key in CLASSIFICATION_LABELS:
        counts[f"dimensions_{key}"] = sum(1 for d in dimensions if d.classification == key)
        counts[f"items_{key}"] = sum(1 for i in items if i.classification == key)
    counts["dimensions_compared"] = len(compared)
    counts["items_compared"] = sum(1 for i in items if i.gap_pomp is not None)
    counts["items_notable"] = sum(1 for i in items if i.notable)

    importances = [d.importance for d in analysis.instrument.dimensions]
    return ReportData(
        survey_id=meta.survey_id,
        title=meta.title,
        organisation=meta.organisation,
        status=meta.status,
        opens_on=meta.opens_on,
        closes_on=meta.closes_on,
        generated_on=generated_on or datetime.now(UTC).date(),
        instrument_name=result.instrument.name,
        instrument_version=result.instrument.version,
        method_version=result.method_version,
        data_version=analysis.data_version,
        gap_threshold_pomp=result.thresholds.gap_notable_pomp,
        gap_major_pomp=result.thresholds.gap_major_pomp,
        strength_cut_pomp=result.thresholds.strength_cut_pomp,
        # The importance-performance cross-hair, as scoring places the quadrants.
        mean_importance=sum(importances) / len(importances) if importances else 0.5,
        groups=groups,
        any_suppressed=any_suppressed,
        has_results=bool(compared),
        alignment=alignment,
        dimensions=dimensions,
        dimensions_by_gap=dimensions_by_gap,
        blind_spots=blind_spots,
        hidden_strengths=hidden_strengths,
        shared_weaknesses=tuple(d for d in dimensions if d.classification == "shared_weakness"),
        top_gap=top_gap,
        findings=_findings(dimensions, top_gap, alignment),
        overview_reading=_overview_reading(dimensions_by_gap),
        next_steps=next_steps,
        comments=_comments(comments, analysis, meta.comment_minimum),
        notices=tuple(notices),
        counts=counts,
        trend=trend if trend is not None and trend.has_trend else None,
    )


# --------------------------------------------------------------------------- charts


def _short_code(code: str) -> str:
    return code.replace("_", " ")[:10]


def build_charts(report: ReportData) -> ReportCharts:
    """The report's SVG charts, drawn from the view-model only."""
    dumbbell = charts.dumbbell_chart(
        [
            charts.DumbbellRow(
                label=d.name,
                executive=d.executive.mean_pomp if d.executive else None,
                cx_professional=d.cx_professional.mean_pomp if d.cx_professional else None,
                gap=d.gap_pomp,
                classification=d.classification,
                level=d.level,
            )
            for d in report.dimensions_by_gap
        ],
        title="Executives and CX professionals, dimension by dimension",
    )
    gaps = charts.diverging_gap_chart(
        [
            charts.GapBar(
                label=d.name,
                gap=d.gap_pomp,
                ci_low=d.ci_low_pomp,
                ci_high=d.ci_high_pomp,
                classification=d.classification,
                level=d.level,
            )
            for d in report.dimensions_by_gap
        ],
        title="Size of the gap, with its 95% confidence interval",
        threshold=report.gap_threshold_pomp,
    )
    ipa = charts.importance_performance_chart(
        [
            charts.IPPoint(
                code=_short_code(d.code),
                label=d.name,
                performance=d.performance_pomp,
                importance=d.importance,
                classification=d.classification,
            )
            for d in report.dimensions
        ],
        title="Importance and performance as CX professionals rate it",
        performance_cut=report.strength_cut_pomp,
        importance_cut=report.mean_importance,
    )
    item_charts = {
        d.code: charts.dumbbell_chart(
            [
                charts.DumbbellRow(
                    label=f"{i.code}",
                    executive=i.executive.mean_pomp if i.executive else None,
                    cx_professional=i.cx_professional.mean_pomp if i.cx_professional else None,
                    gap=i.gap_pomp,
                    classification=i.classification,
                    level=i.level,
                )
                for i in d.items
            ],
            title=f"{d.name}: item by item",
            show_legend=False,
        )
        for d in report.dimensions
    }
    return ReportCharts(dumbbell, gaps, ipa, item_charts, trend_chart(report.trend))


def trend_chart(trend: Trend | None) -> Markup | None:
    """The alignment index per wave (withheld waves break the line)."""
    if trend is None or not trend.has_trend:
        return None
    values = tuple(w.alignment_index for w in trend.waves)
    shown = [v for v in values if v is not None]
    # A 0–100 axis would flatten the movement; start at the decade below the lowest value.
    y_min = max(0.0, 10.0 * (min(shown) // 10.0) - 10.0)
    return charts.trend_line_chart(
        [charts.TrendSeries("Alignment index", values)],
        [w.meta.chart_label for w in trend.waves],
        title="Alignment index across waves",
        y_label="Alignment index",
        y_min=y_min,
        y_max=100.0,
    )


def report_for_survey(
    survey,
    analysis: SurveyAnalysis | None = None,
    *,
    with_trend: bool = False,
    trend: Trend | None = None,
) -> ReportData:
    """Score a survey in the database (unless given its analysis) and build its report.

    ``with_trend`` also scores the earlier waves of its series (unless ``trend`` is given).
    """
    from cxalign.analysis import analyse_survey, load_comments

    analysis = analysis or analyse_survey(survey)
    if trend is None and with_trend:
        from cxalign.analysis.trends import survey_trend

        trend = survey_trend(survey, analysis)
    return build_report(
        survey_meta(survey), analysis, load_comments(survey, analysis.result), trend=trend
    )
