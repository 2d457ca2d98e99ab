"""A survey's data as plain tables of cells: the one input of every export file.

Nothing here knows CSV, XLSX or HTTP. The privacy rules are the dashboard's own, reused:

* a group below its anonymity threshold (``GapResult.suppressed``, cxalign/scoring) has
  no rows at all; the answers of a hidden group must not reach a file any more than a page;
* comments follow :func:`cxalign.analysis.load_comments`: a question whose comments the
  report hides (hidden group, or fewer writers than the survey's comment minimum) has no
  column;
* erased respondents are left out;
* respondents are named by a stable pseudonym (an HMAC of their id under the app's
  secret, so ids and invitation order cannot be read from it); emails, names and import
  ids appear only when the survey is *not* anonymous to staff. In anonymous surveys the
  start and completion times are given to the day: a minute-exact time next to the
  outbox's reminder times could point to a person.

Everything that was withheld is listed as :class:`Withheld` entries, which the Data page,
the XLSX "About" sheet and the JSON document show.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import func, select

from cxalign.analysis import (
    COUNTED_STATUSES,
    SurveyAnalysis,
    analyse_survey,
    load_comments,
    results_document,
)
from cxalign.extensions import db
from cxalign.instruments.loader import InstrumentError, dump_instrument
from cxalign.instruments.spec import GROUP_LABELS, GROUPS, InstrumentSpec
from cxalign.models import (
    Comment,
    Item,
    OpenQuestion,
    Respondent,
    RespondentStatus,
    Response,
    Survey,
)

#: What an unanswered item and "don't know" look like: the import format's own markers
#: (cxalign/analysis/importer.py), so that an export can be imported again.
DONT_KNOW = "DK"
UNANSWERED = None
RESPONDENT_COLUMN = "respondent"
GROUP_COLUMN = "group"
META_COLUMNS = ("status", "started_at", "completed_at")
IDENTITY_COLUMNS = ("email", "name", "external_ref")
#: Respondents who have answered something. Invited people who never started have no row.
EXPORTED_STATUSES = (RespondentStatus.STARTED.value, RespondentStatus.COMPLETED.value)
GROUP_PLURAL = {"executive": "executives", "cx_professional": "CX professionals"}

Cell = str | int | float | bool | date | datetime | None


@dataclass(frozen=True)
class Table:
    """One sheet: a title (the XLSX sheet name), column names and rows of cells."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


@dataclass(frozen=True)
class Withheld:
    """Something an export leaves out, with the reason in words for people."""

    what: str  # "group", "comments", "erased", "identities", "times"
    reason: str
    group: str | None = None
    question: str | None = None  # open-question code, for "comments"

    def to_dict(self) -> dict:
        return {
            "what": self.what,
            "group": self.group,
            "question": self.question,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RespondentRecord:
    """One exported respondent, before it becomes a row."""

    pseudonym: str
    group: str
    status: str
    started: date | datetime | None
    completed: date | datetime | None
    answers: dict[str, int | str]  # item code -> value or "DK" (unanswered items absent)
    comments: dict[str, str]  # open-question code -> text (withheld questions absent)
    email: str | None = None
    name: str | None = None
    external_ref: str | None = None


@dataclass(frozen=True)
class SurveyData:
    """Everything the responses exports show of one survey, and what they withhold."""

    survey_id: int
    item_codes: tuple[str, ...]
    question_codes: tuple[str, ...]  # shown open questions, executives' first
    respondents: list[RespondentRecord]
    withheld: tuple[Withheld, ...]
    identities: bool  # emails, names and import ids included
    exact_times: bool  # times to the second (else to the day)
    analysis: SurveyAnalysis = field(repr=False)

    def counts(self) -> dict[str, int]:
        answers = sum(1 for r in self.respondents for v in r.answers.values() if v != DONT_KNOW)
        dont_know = sum(1 for r in self.respondents for v in r.answers.values() if v == DONT_KNOW)
        return {
            "respondents": len(self.respondents),
            "answers": answers,
            "dont_know": dont_know,
            "comments": sum(len(r.comments) for r in self.respondents),
        }


def pseudonym(survey_id: int, respondent_id: int, secret: str | None = None) -> str:
    """A respondent's stable export id: the same in every export of the survey.

    An HMAC under the app's secret, so the database id (and with it the order in which
    people were invited) cannot be read back from it. Rotating SECRET_KEY changes it.
    """
    key = (secret if secret is not None else current_app.config["SECRET_KEY"]).encode()
    message = f"cxalign-export-pseudonym:{survey_id}:{respondent_id}".encode()
    return "p-" + hmac.new(key, message, hashlib.sha256).hexdigest()[:12]


def shows_identities(survey: Survey) -> bool:
    """Emails, names and import ids are exported only from surveys not anonymous to staff
    (and never after the personal data was purged: there is nothing left to show)."""
    return not survey.anonymous_to_staff and survey.personal_data_purged_at is None


def _moment(value: datetime | None, exact: bool) -> date | datetime | None:
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.replace(microsecond=0) if exact else value.date()


def survey_data(survey: Survey, analysis: SurveyAnalysis | None = None) -> SurveyData:
    """Load the respondents, answers and comments that exports may show, in bulk."""
    analysis = analysis or analyse_survey(survey)
    result = analysis.result
    hidden_groups = [g for g in GROUPS if result.suppressed(g)]
    shown_groups = [g for g in GROUPS if g not in hidden_groups]
    comment_groups = load_comments(survey, result)
    shown_questions = {c.question_code for c in comment_groups if not c.suppressed}
    item_codes = tuple(item.code for item in analysis.instrument.items)
    question_codes = tuple(c.question_code for c in comment_groups if not c.suppressed)
    identities = shows_identities(survey)
    exact = not survey.anonymous_to_staff

    withheld: list[Withheld] = []
    for group in hidden_groups:
        reason = result.groups[group].reason or "Below the anonymity threshold."
        withheld.append(
            Withheld(
                "group",
                f"{GROUP_LABELS[group]}: no rows. {reason}",
                group=group,
            )
        )
    for comments in comment_groups:
        if comments.suppressed and comments.group not in hidden_groups:
            withheld.append(
                Withheld(
                    "comments",
                    f"Comments to “{comments.question}” ({GROUP_PLURAL[comments.group]}): "
                    f"withheld because fewer than {survey.comment_minimum} people wrote one, "
                    "as on the dashboard.",
                    group=comments.group,
                    question=comments.question_code,
                )
            )
    erased = db.session.scalar(
        select(func.count(Respondent.id)).where(
            Respondent.survey_id == survey.id, Respondent.erased_at.is_not(None)
        )
    )
    if erased:
        withheld.append(
            Withheld(
                "erased",
                f"{erased} erased respondent{'s are' if erased != 1 else ' is'} left out.",
            )
        )
    if not identities:
        reason = (
            f"Personal data was purged on {survey.personal_data_purged_at:%d %b %Y}: respondents "
            "appear under pseudonymous ids only."
            if survey.personal_data_purged_at is not None
            else "This survey is anonymous to staff: respondents appear under pseudonymous "
            "ids, without emails, names or import ids."
        )
        withheld.append(Withheld("identities", reason))
    if not exact:
        withheld.append(
            Withheld(
                "times",
                "Start and completion times are given to the day, so that they cannot be "
                "matched against invitation and reminder times.",
            )
        )

    respondents = _records(
        survey, shown_groups, shown_questions, analysis, identities=identities, exact=exact
    )
    return SurveyData(
        survey_id=survey.id,
        item_codes=item_codes,
        question_codes=question_codes,
        respondents=respondents,
        withheld=tuple(withheld),
        identities=identities,
        exact_times=exact,
        analysis=analysis,
    )


def _records(
    survey: Survey,
    groups: list[str],
    questions: set[str],
    analysis: SurveyAnalysis,
    *,
    identities: bool,
    exact: bool,
) -> list[RespondentRecord]:
    if not groups:
        return []
    exported = (
        Respondent.survey_id == survey.id,
        Respondent.erased_at.is_(None),
        Respondent.status.in_(EXPORTED_STATUSES),
        Respondent.group.in_(groups),
    )
    people = db.session.execute(
        select(
            Respondent.id,
            Respondent.group,
            Respondent.status,
            Respondent.started_at,
            Respondent.completed_at,
            Respondent.email,
            Respondent.name,
            Respondent.external_ref,
        ).where(*exported)
    ).all()
    code_of_item = dict(
        db.session.execute(
            select(Item.id, Item.code).where(Item.instrument_id == survey.instrument_id)
        ).all()
    )
    answers: dict[int, dict[str, int | str]] = defaultdict(dict)
    for respondent_id, item_id, value, dont_know in db.session.execute(
        select(Response.respondent_id, Response.item_id, Response.value, Response.dont_know)
        .join(Respondent, Respondent.id == Response.respondent_id)
        .where(*exported)
    ):
        code = code_of_item.get(item_id)
        if code is None:
            continue
        if dont_know:
            answers[respondent_id][code] = DONT_KNOW
        elif value is not None:
            answers[respondent_id][code] = int(value)
    comments: dict[int, dict[str, str]] = defaultdict(dict)
    if questions:
        for respondent_id, code, text in db.session.execute(
            select(Comment.respondent_id, OpenQuestion.code, Comment.text)
            .join(OpenQuestion, OpenQuestion.id == Comment.question_id)
            .join(Respondent, Respondent.id == Comment.respondent_id)
            .where(*exported, Respondent.group == OpenQuestion.group)
        ):
            if code in questions and text.strip():
                comments[respondent_id][code] = text.strip()
    secret = current_app.config["SECRET_KEY"]
    records = [
        RespondentRecord(
            pseudonym=pseudonym(survey.id, person.id, secret),
            group=person.group,
            status=person.status,
            started=_moment(person.started_at, exact),
            completed=_moment(person.completed_at, exact),
            answers=answers.get(person.id, {}),
            comments=comments.get(person.id, {}),
            email=person.email if identities else None,
            name=person.name if identities else None,
            external_ref=person.external_ref if identities else None,
        )
        for person in people
    ]
    # Executives first, then by pseudonym: an order that reveals nothing about who was
    # invited when (database ids would).
    records.sort(key=lambda r: (GROUPS.index(r.group), r.pseudonym))
    return records


# --------------------------------------------------------------------------- responses


def responses_table(data: SurveyData, *, import_format: bool = False) -> Table:
    """One row per respondent: ``respondent, group, <ITEM>..., <OPEN>...`` then details.

    ``import_format`` gives exactly the columns ``cxalign import-responses`` reads, and only
    the completed questionnaires that the results count (and that have something in them),
    so importing the file into a wave of the same instrument reproduces the figures.
    """
    columns = (RESPONDENT_COLUMN, GROUP_COLUMN, *data.item_codes, *data.question_codes)
    if not import_format:
        columns += META_COLUMNS
        if data.identities:
            columns += IDENTITY_COLUMNS
    counted = {s.value for s in COUNTED_STATUSES}
    rows = []
    for record in data.respondents:
        if import_format and (
            record.status not in counted or not (record.answers or record.comments)
        ):
            continue
        row: list[Cell] = [record.pseudonym, record.group]
        row += [record.answers.get(code, UNANSWERED) for code in data.item_codes]
        row += [record.comments.get(code) for code in data.question_codes]
        if not import_format:
            row += [record.status, record.started, record.completed]
            if data.identities:
                row += [record.email, record.name, record.external_ref]
        rows.append(tuple(row))
    return Table("Responses", columns, rows)


def questions_table(survey: Survey, data: SurveyData) -> Table:
    """The items and open questions behind the response columns, with both wordings."""
    spec = data.analysis.instrument
    rows: list[tuple[Cell, ...]] = []
    for dim in spec.dimensions:
        for item in dim.items:
            rows.append(
                (
                    item.code,
                    "item",
                    dim.code,
                    dim.name,
                    item.executive,
                    item.cx_professional,
                    f"1-{item.scale.points}: " + " / ".join(item.scale.labels),
                    item.reverse,
                    item.dont_know,
                )
            )
    for question in spec.open_questions:
        rows.append(
            (
                question.code,
                f"open question ({GROUP_PLURAL[question.group]})",
                None,
                None,
                question.text if question.group == "executive" else None,
                question.text if question.group == "cx_professional" else None,
                "free text" if question.code in data.question_codes else "free text (withheld)",
                None,
                None,
            )
        )
    columns = (
        "code",
        "kind",
        "dimension",
        "dimension_name",
        "executive_wording",
        "cx_professional_wording",
        "scale",
        "reverse_coded",
        "dont_know_offered",
    )
    return Table("Questions", columns, rows)


# --------------------------------------------------------------------------- results

#: Per-group figures of an item or dimension row: (column suffix, item key, dimension key).
GROUP_FIGURES = (
    ("n", "n", "n"),
    ("mean", "mean", "mean"),
    ("sd", "sd", "sd"),
    ("median", "median", "median"),
    ("mean_pomp", "mean_pomp", "mean_pomp"),
    ("sd_pomp", "sd_pomp", "sd_pomp"),
    ("dont_know_share", "dont_know_share", "dont_know_share"),
    ("consensus", "rwg", "rwg_j"),
    ("low_consensus", "low_consensus", "low_consensus"),
)
#: Gap figures: (column, key in the item/dimension dict). Missing keys are empty cells.
GAP_FIGURES = (
    ("gap_points", "gap_points"),
    ("gap_pomp", "gap_pomp"),
    ("ci_low", "ci_low"),
    ("ci_high", "ci_high"),
    ("ci_low_pomp", "ci_low_pomp"),
    ("ci_high_pomp", "ci_high_pomp"),
    ("ci_method", "ci_method"),
    ("cliffs_delta", "cliffs_delta"),
    ("cliffs_delta_magnitude", "cliffs_delta_magnitude"),
    ("effect_size", "effect_size"),
    ("effect_size_kind", "effect_size_kind"),
    ("p", "p"),
    ("q", "q"),
    ("test", "method"),
    ("supported", "supported"),
    ("confidence", "confidence"),
    ("classification", "classification"),
    ("gap_level", "level"),
    ("priority_score", "priority_score"),
    ("priority_rank", "priority_rank"),
)
RESULT_COLUMNS = (
    "kind",
    "dimension",
    "code",
    "name",
    "executive_wording",
    "cx_professional_wording",
    "importance",
    "points",
    "reverse_coded",
    *(f"{group}_{suffix}" for group in GROUPS for suffix, _i, _d in GROUP_FIGURES),
    *(column for column, _key in GAP_FIGURES),
)


def _group_cells(stats: dict | None, dimension: bool) -> list[Cell]:
    if stats is None:  # a suppressed group: no figures at all
        return [None] * len(GROUP_FIGURES)
    return [
        stats.get(dim_key if dimension else item_key) for _s, item_key, dim_key in GROUP_FIGURES
    ]


def results_table(document: dict, instrument: InstrumentSpec) -> Table:
    """Dimension rows, each followed by its items: every figure straight from the result.

    ``document`` is :func:`cxalign.analysis.results_document`, the API's JSON, so these
    cells equal the dashboard, the PDF and ``GET /api/v1/surveys/<id>/results``.
    """
    items = {item["code"]: item for item in document["items"]}
    wordings = {item.code: (item.executive, item.cx_professional) for item in instrument.items}
    rows: list[tuple[Cell, ...]] = []
    for dim in document["dimensions"]:
        row: list[Cell] = [
            "dimension",
            dim["code"],
            dim["code"],
            dim["name"],
            None,
            None,
            dim["importance"],
            dim["points"],
            None,
        ]
        for group in GROUPS:
            row += _group_cells(dim[group], dimension=True)
        row += [dim.get(key) for _column, key in GAP_FIGURES]
        rows.append(tuple(row))
        for code in dim["item_codes"]:
            item = items[code]
            executive, cx = wordings.get(code, (None, None))
            row = ["item", dim["code"], code, None, executive, cx, None]
            row += [item["points"], item["reverse"]]
            for group in GROUPS:
                row += _group_cells(item[group], dimension=False)
            row += [item.get(key) for _column, key in GAP_FIGURES]
            rows.append(tuple(row))
    return Table("Results", RESULT_COLUMNS, rows)


def summary_table(document: dict) -> Table:
    """The headline figures and notes, as figure/value pairs (XLSX "Summary" sheet)."""
    survey = document["survey"]
    alignment = document["alignment"]
    rows: list[tuple[Cell, ...]] = [
        ("survey", survey["title"]),
        ("organisation", survey["organisation"]),
        ("status", survey["status"]),
        ("method_version", document["method_version"]),
        ("instrument", f"{document['instrument']['name']} (v{document['instrument']['version']})"),
        ("alignment_index", alignment["index"]),
        ("alignment_band", alignment["band"]),
        ("alignment_reading", alignment["reading"]),
        ("profile_correlation", alignment["profile_correlation"]),
        ("lins_concordance", alignment["lins_concordance"]),
    ]
    for group in GROUPS:
        g = document["groups"][group]
        rows += [
            (f"{group}_completed", g["n"]),
            (f"{group}_responding", g["n_responding"]),
            (f"{group}_anonymity_threshold", g["threshold"]),
            (f"{group}_shown", g["visible"]),
        ]
        if g["reason"]:
            rows.append((f"{group}_hidden_because", g["reason"]))
    for note in document["notes"]:
        rows.append((f"note: {note['code']}", note["message"]))
    return Table("Summary", ("figure", "value"), rows)


# --------------------------------------------------------------------------- whole survey

FORMAT = "cxalign-survey-export"
FORMAT_VERSION = 1


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _instrument_block(data: SurveyData) -> dict:
    spec = data.analysis.instrument
    try:
        return dump_instrument(spec)  # the instrument file format: importable as it is
    except InstrumentError:
        # Two scales under one name cannot be written as an instrument file; say each
        # item's scale in full instead.
        block = {
            "key": spec.key,
            "version": spec.version,
            "name": spec.name,
            "description": spec.description,
            "dimensions": [
                {
                    "code": dim.code,
                    "name": dim.name,
                    "description": dim.description,
                    "importance": dim.importance,
                    "items": [
                        {
                            "code": item.code,
                            "executive": item.executive,
                            "cx_professional": item.cx_professional,
                            "scale": {"kind": item.scale.kind, "labels": list(item.scale.labels)},
                            "reverse": item.reverse,
                            "dont_know": item.dont_know,
                        }
                        for item in dim.items
                    ],
                }
                for dim in spec.dimensions
            ],
            "open_questions": [
                {"code": q.code, "group": q.group, "text": q.text} for q in spec.open_questions
            ],
        }
        return block


def survey_document(survey: Survey, data: SurveyData, *, exported_at: datetime) -> dict:
    """The whole survey as one JSON-able dict (``format_version`` says which layout)."""
    respondents = []
    for record in data.respondents:
        entry: dict = {
            "id": record.pseudonym,
            "group": record.group,
            "status": record.status,
            "started_at": _iso(record.started),
            "completed_at": _iso(record.completed),
        }
        if data.identities:
            entry |= {
                "email": record.email,
                "name": record.name,
                "external_ref": record.external_ref,
            }
        entry["answers"] = {
            code: record.answers[code] for code in data.item_codes if code in record.answers
        }
        entry["comments"] = {
            code: record.comments[code] for code in data.question_codes if code in record.comments
        }
        respondents.append(entry)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": _iso(exported_at),
        "survey": {
            "id": survey.id,
            "title": survey.title,
            "organisation": survey.organisation.name,
            "status": survey.status,
            "introduction": survey.introduction or "",
            "opens_on": _iso(survey.opens_on),
            "closes_on": _iso(survey.closes_on),
            "opened_at": _iso(survey.opened_at),
            "closed_at": _iso(survey.closed_at),
            "anonymity_executive": survey.anonymity_executive,
            "anonymity_cx": survey.anonymity_cx,
            "comment_minimum": survey.comment_minimum,
            "gap_threshold": survey.gap_threshold,
            "anonymous_to_staff": survey.anonymous_to_staff,
            "retention_days": survey.retention_days,
            "personal_data_purged_at": _iso(survey.personal_data_purged_at),
            "series_key": survey.series_key,
            "previous_survey_id": survey.previous_survey_id,
        },
        "instrument": _instrument_block(data),
        "identities_included": data.identities,
        "withheld": [w.to_dict() for w in data.withheld],
        "counts": data.counts(),
        "respondents": respondents,
        "results": results_document(survey, data.analysis),
    }


def about_table(title: str, lines: list[str], data: SurveyData | None) -> Table:
    """The XLSX "About" sheet: what the file is and what it leaves out."""
    rows: list[tuple[Cell, ...]] = [(line,) for line in lines]
    if data is not None:
        rows.append(("",))
        if data.withheld:
            rows.append(("Withheld from this file:",))
            rows += [(f"• {w.reason}",) for w in data.withheld]
        else:
            rows.append(("Nothing was withheld from this file.",))
    return Table("About", (title,), rows)
