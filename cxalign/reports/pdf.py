"""The PDF gap report: WeasyPrint, a static-only URL fetcher, and a cache per data version.

Safety. WeasyPrint fetches every stylesheet, image and font a document refers to. The
report's HTML holds respondents' comments and organisations' own item wordings, so the
fetcher here serves nothing but files inside the app's static folder, read from disk,
plus inline ``data:`` URLs. Everything else (``file:``, ``http(s):``, ``ftp:``, paths
that climb out of the static folder, symlinks that point out of it) raises, and
WeasyPrint leaves the resource out. It never falls back to WeasyPrint's own fetcher, so
a crafted comment or item text can make the server neither read a file nor call a URL
(and autoescaping means such text is printed as text in the first place).

The document's base URL is ``cxalign-report:/``, a scheme that ``urllib`` does not
resolve relative references against: a reference such as ``/static/css/report.css``
reaches the fetcher exactly as written, and nothing can turn into a network address.

Caching. A rendered PDF is kept in the ``rendered_report`` table, one row per survey and
paper size, keyed by the data version of the survey and of every earlier wave its trend
section draws on (``cxalign.analysis.trends.series_data_version``: it changes with any answer,
comment or setting of any of those waves, and when a wave joins or leaves the series)
plus a fingerprint of the report layout. Every worker and host shares it.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import DataHandler, Request

import markdown
import weasyprint
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, insert, select
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from cxalign.analysis import SurveyAnalysis, analyse_survey
from cxalign.analysis.trends import series_data_version, survey_trend
from cxalign.config import ROOT
from cxalign.extensions import db
from cxalign.models import RenderedReport, Survey
from cxalign.reports.data import ReportData, build_charts, report_for_survey

__all__ = [
    "BASE_URL",
    "PAPERS",
    "RefusedResource",
    "RenderedPdf",
    "StaticOnlyFetcher",
    "cache_key",
    "check_paper",
    "get_report_pdf",
    "methodology_html",
    "methodology_sections",
    "render_pdf",
    "render_pdf_checked",
    "render_report_html",
    "render_survey_pdf",
]

BASE_URL = "cxalign-report:/"
# paper key -> (CSS page size, label)
PAPERS = {"a4": ("A4", "A4"), "letter": ("letter", "US Letter")}
METHODOLOGY = ROOT / "docs" / "methodology.md"
# Bump when the report's structure changes in a way file timestamps would not show.
REPORT_FORMAT = "cxalign-report/1"
# Files whose change must invalidate cached PDFs.
LAYOUT_FILES = (
    ROOT / "templates" / "reports",
    ROOT / "static" / "css" / "report.css",
    METHODOLOGY,
    Path(__file__).parent,
    ROOT / "cxalign" / "analysis" / "trends.py",
)


LAYOUT_SUFFIXES = (".html", ".css", ".md", ".py")


class RefusedResource(ValueError):
    """The report asked for something outside the static folder."""


class StaticOnlyFetcher(URLFetcher):
    """Serves ``<static_url_path>/...`` from the static folder and ``data:`` URLs; refuses
    everything else. ``refused`` lists what was asked for and refused (for logs and tests).
    """

    def __init__(self, static_folder: str | Path, static_url_path: str = "/static"):
        # No handlers are used: fetch() below never calls the parent's network code.
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.static_root = Path(static_folder).resolve()
        self.prefix = static_url_path.rstrip("/") + "/"
        self.refused: list[str] = []

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        try:
            if url[:5].lower() == "data:":
                return self._data(url)
            path = self.static_path(url)
            body = path.read_bytes()
        except Exception:
            self.refused.append(url)
            raise
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": content_type})

    def open(self, url, data=None, timeout=None):  # never urllib's opener
        return self.fetch(url.full_url if isinstance(url, Request) else url)

    def static_path(self, url: str) -> Path:
        """The file a root-relative static URL names; ``RefusedResource`` for anything else."""
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path.startswith(self.prefix):
            raise RefusedResource(f"the report may only use the app's static files: {url!r}")
        relative = unquote(parts.path[len(self.prefix) :])
        segments = relative.split("/")
        if (
            not relative
            or "\\" in relative
            or "\x00" in relative
            or any(s in ("", ".", "..") for s in segments)
        ):
            raise RefusedResource(f"not a plain static path: {url!r}")
        path = (self.static_root / relative).resolve()
        if not path.is_relative_to(self.static_root) or not path.is_file():
            raise RefusedResource(f"no such static file: {url!r}")
        return path

    @staticmethod
    def _data(url: str) -> URLFetcherResponse:
        response = DataHandler().data_open(Request(url))
        return URLFetcherResponse(url, response.read(), dict(response.headers))


# --------------------------------------------------------------------------- methodology


def _markdown() -> markdown.Markdown:
    md = markdown.Markdown(extensions=["tables"], output_format="html")
    # Our own file, but still: raw HTML prints as text and images are not fetched.
    md.preprocessors.deregister("html_block")
    for pattern in ("html", "image_link", "image_reference", "short_image_ref"):
        if pattern in md.inlinePatterns:
            md.inlinePatterns.deregister(pattern)
    return md


@lru_cache(maxsize=4)
def _methodology_html(path: str, mtime_ns: int) -> str:
    text = Path(path).read_text(encoding="utf-8")
    # The file's own title is replaced by the appendix heading; sections drop one level.
    text = re.sub(r"\A\s*# [^\n]*\n", "", text)
    html = _markdown().convert(text)
    for level in (4, 3, 2):
        html = html.replace(f"<h{level}>", f"<h{level + 1}>").replace(
            f"</h{level}>", f"</h{level + 1}>"
        )
    return html


def methodology_html() -> Markup:
    """docs/methodology.md as HTML for the appendix (``## `` sections become ``<h3>``)."""
    try:
        stat = METHODOLOGY.stat()
    except OSError:
        return Markup("<p>The methodology document is not available on this server.</p>")
    return Markup(_methodology_html(str(METHODOLOGY), stat.st_mtime_ns))


def methodology_sections() -> list[str]:
    """The appendix's section titles, for the table of contents."""
    return re.findall(r"<h3>(.*?)</h3>", str(methodology_html()))


# --------------------------------------------------------------------------- rendering


def check_paper(paper: str | None) -> str:
    paper = (paper or "a4").lower()
    if paper not in PAPERS:
        raise ValueError(f"paper must be one of {', '.join(PAPERS)}, not {paper!r}")
    return paper


def render_report_html(report: ReportData, paper: str = "a4") -> str:
    """The report's HTML (needs an app context): the template with charts and appendix."""
    paper = check_paper(paper)
    static = current_app.static_url_path.rstrip("/")
    # The Jinja environment directly: no request, user or navigation belongs in a report
    # (and the CLI renders without a request).
    template = current_app.jinja_env.get_template("reports/report.html")
    return template.render(
        report=report,
        charts=build_charts(report),
        paper=paper,
        paper_label=PAPERS[paper][1],
        methodology=methodology_html(),
        static_url=lambda filename: f"{static}/{filename}",
    )


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    refused: tuple[str, ...]


def render_pdf(html: str, paper: str = "a4") -> bytes:
    """WeasyPrint with the static-only fetcher (needs an app context for the static folder)."""
    return render_pdf_checked(html, paper).pdf


def render_pdf_checked(html: str, paper: str = "a4") -> RenderedPdf:
    paper = check_paper(paper)
    fetcher = StaticOnlyFetcher(current_app.static_folder, current_app.static_url_path)
    page = CSS(
        string=f"@page {{ size: {PAPERS[paper][0]}; }}", base_url=BASE_URL, url_fetcher=fetcher
    )
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    pdf = document.write_pdf(stylesheets=[page])
    return RenderedPdf(pdf, tuple(fetcher.refused))


def render_survey_pdf(
    survey: Survey, paper: str = "a4", analysis: SurveyAnalysis | None = None
) -> bytes:
    """Score the survey (unless given its analysis) and render its report, uncached."""
    return _render_survey_pdf(survey, paper, analysis)[0]


def _render_survey_pdf(
    survey: Survey, paper: str, analysis: SurveyAnalysis | None = None
) -> tuple[bytes, str]:
    """The PDF and the series data version it was drawn from."""
    analysis = analysis or analyse_survey(survey)
    trend = survey_trend(survey, analysis)
    report = report_for_survey(survey, analysis, trend=trend)
    return render_pdf(render_report_html(report, paper), paper), trend.data_version


# --------------------------------------------------------------------------- cache


def _layout_fingerprint() -> str:
    """Changes when a report template, its stylesheet, the methodology or this code does."""
    parts = [REPORT_FORMAT, weasyprint.__version__]
    for root in LAYOUT_FILES:
        # Recursive: the charts are a package inside reports/.
        paths = sorted(root.rglob("*.*")) if root.is_dir() else [root]
        for path in paths:
            if path.suffix not in LAYOUT_SUFFIXES:
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            parts.append(f"{path.relative_to(ROOT)}:{stat.st_mtime_ns}:{stat.st_size}")
    return "\n".join(parts)


def cache_key(survey: Survey, version: str) -> str:
    """The data version a PDF was drawn from, joined with the layout it was drawn in."""
    layout = hashlib.sha256(
        f"{_layout_fingerprint()}\n{survey.organisation.name}".encode()
    ).hexdigest()[:16]
    return f"{version}+{layout}"


def get_report_pdf(survey: Survey, paper: str = "a4") -> tuple[bytes, bool]:
    """The survey's report as PDF bytes, and whether it came from the cache.

    A cached copy is used while the data version of the survey and of the earlier waves
    in its trend (answers, comments, settings) and the report layout are unchanged;
    otherwise the report is rendered and the cache row for this survey and paper is
    replaced. The cache write is committed here: it is
    independent of whatever else the caller does. Raises ``ValueError`` for an unknown
    paper size.
    """
    paper = check_paper(paper)
    key = cache_key(survey, series_data_version(survey))
    pdf = db.session.scalar(
        select(RenderedReport.pdf).where(
            RenderedReport.survey_id == survey.id,
            RenderedReport.paper == paper,
            RenderedReport.data_version == key,
        )
    )
    if pdf is not None:
        return bytes(pdf), True

    pdf, version = _render_survey_pdf(survey, paper)
    # Answers that arrived while rendering would make this copy stale at once: keep it
    # only when the data it was drawn from is still the data the key names.
    if cache_key(survey, version) == key:
        _store(survey.id, paper, key, pdf)
    return pdf, False


def _store(survey_id: int, paper: str, key: str, pdf: bytes) -> None:
    """Insert or replace the cache row; concurrent workers cannot collide (upsert)."""
    values = {"survey_id": survey_id, "paper": paper, "data_version": key, "pdf": pdf}
    dialect = db.session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as upsert
        else:
            from sqlalchemy.dialects.postgresql import insert as upsert
        from cxalign.models import utcnow

        statement = upsert(RenderedReport).values(**values, created_at=utcnow())
        statement = statement.on_conflict_do_update(
            index_elements=["survey_id", "paper"],
            set_={
                "data_version": statement.excluded.data_version,
                "pdf": statement.excluded.pdf,
                "created_at": statement.excluded.created_at,
            },
        )
        db.session.execute(statement)
    else:  # pragma: no cover - other databases: replace in two steps
        db.session.execute(
            delete(RenderedReport).where(
                RenderedReport.survey_id == survey_id, RenderedReport.paper == paper
            )
        )
        db.session.execute(insert(RenderedReport).values(**values))
    db.session.commit()
