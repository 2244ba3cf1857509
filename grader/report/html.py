"""The feedback and summary pages, rendered from Jinja2 templates.

Jinja2, the compiled templates and matplotlib are loaded on the first page, or ahead of it by
`prepare_reports` (the batch calls it while the grading processes work).
"""

from __future__ import annotations

import functools
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from grader.model import ModuleCode, StudentResult, TestResult, TraceFrame
from grader.report.digest import ClassDigest, digest
from grader.report.hints import hint
from grader.report.mathsvg import math_markup, render_math_in_markdown_html
from grader.report.plots import histogram_svg, import_matplotlib, record_svg

if TYPE_CHECKING:
    import jinja2


@functools.cache
def grader_version() -> str:
    """The installed grader's version."""
    try:
        return version("mlgrader")
    except PackageNotFoundError:
        return "0+unknown"


def template_environment() -> jinja2.Environment:
    """The Jinja2 environment of every page this grader writes: its templates, autoescaped, strict."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("grader.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def _environment() -> jinja2.Environment:
    """Built once per process, so that each template is compiled once, not once per student (50 ms each time)."""
    env = template_environment()
    env.globals.update(fmt=_fmt, hint=hint, version=grader_version())
    env.filters["ticks"] = _ticks
    return env


def prepare_reports() -> None:
    """Load now what the first pages will need (Jinja2, the compiled templates, matplotlib), e.g. while others work."""
    for name in ("feedback.html.j2", "summary.html.j2"):
        _environment().get_template(name)
    import_matplotlib()


def _ticks(text: str) -> Markup:
    """Escaped text whose `backticked` names show as code."""
    return Markup(re.sub(r"`([^`\n]+)`", r"<code>\1</code>", str(escape(text))))


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"  # not decided (a student the grader failed on)
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _code_listing(sources: tuple[ModuleCode, ...]) -> Any:
    """A function that draws the student's code around the frames of a traceback."""

    def listing(frames: tuple[TraceFrame, ...]) -> Markup:
        last = frames[-1]
        for module in sources:
            for unit in module.units:
                lines = unit.source.splitlines()
                first = unit.first_line
                if unit.filename == last.filename and first <= last.line < first + len(lines):
                    rows = []
                    for number, text in enumerate(lines, start=first):
                        mark = ' class="marked"' if number == last.line else ""
                        rows.append(Markup(f"<span{mark}>{number:4d}  {escape(text)}</span>"))
                    caption = escape(f"{unit.filename}, line {last.line}, in {last.function}")
                    return Markup(f"<div class='meta'>{caption}</div><pre class='code'>") + Markup("\n").join(rows) + Markup("</pre>")
        return Markup(f"<div class='meta'>{escape(last.filename)}, line {last.line}</div>")

    return listing


@dataclass(frozen=True)
class Drawn:
    """One recorded item ready for the page: inline beside the verdict, or a plot on a row of its own."""

    markup: Markup
    inline: bool


def _figures(test: TestResult) -> list[Drawn]:
    """What a test recorded, drawn: a written answer as rendered math, plots as SVG."""
    out = []
    for record in test.records:
        if record.kind == "math":
            latex = str(record.payload.get("latex", ""))
            out.append(Drawn(Markup("<div class='read'>read: ") + _math(latex) + Markup("</div>"), True))
        elif record.kind == "text":
            text = Markup(render_math_in_markdown_html(str(escape(str(record.payload.get("text", ""))))))
            out.append(Drawn(Markup("<div class='read'>read: ") + text + Markup("</div>"), True))
        else:
            svg = record_svg(record)
            if svg is not None:
                out.append(Drawn(Markup(svg), False))
    return out


def _math(latex: str) -> Markup:
    """LaTeX drawn as SVG (no JavaScript, so the PDF shows it too); the source when it cannot be drawn."""
    return math_markup(latex, display=True)


def feedback_html(result: StudentResult, title: str, reviews: Sequence[Any] = ()) -> str:
    """One student's feedback page: every task, every test, hints, code and recorded plots.

    `reviews` are the instructor's reviews applied to `result` (`grader.reviews.AppliedReview`): each
    reviewed test is marked as reviewed by the instructor, with the comment.
    """
    template = _environment().get_template("feedback.html.j2")
    marks = {(r.task, r.test): r for r in reviews}
    earlier = _repeated_messages(result)
    return template.render(result=result, title=title, code_listing=_code_listing(result.sources), figures=_figures,
                           review_of=lambda task, test: marks.get((task.id, test.name)),
                           repeated=lambda task, test: earlier.get((task.id, test.name)))


def _repeated_messages(result: StudentResult) -> dict[tuple[str, str], str]:
    """Failed public tests whose message and diagnoses an earlier one already showed: the earlier test's name.

    Several tests of one cause (a missing function, one wrong formula) then say it once.
    """
    first: dict[tuple[str, tuple[str, ...]], str] = {}
    repeats = {}
    for task in result.tasks:
        for test in task.tests:
            if test.visibility != "public" or test.passed or not test.message:
                continue
            cause = (test.message, tuple(d.value for d in test.diagnoses))
            if cause in first:
                repeats[(task.id, test.name)] = first[cause]
            else:
                first[cause] = test.name
    return repeats


def summary_html(
    title: str,
    task_ids: Sequence[str],
    results: Iterable[dict[str, Any]] | ClassDigest,
    ignored: Sequence[str],
    similar: Sequence[dict[str, Any]] = (),
    seconds: Mapping[str, Any] | None = None,  # student -> outputs.GradingRecord
) -> str:
    """The class page: histogram, table of students, pass rates hardest first, common diagnoses.

    `results` is the students' result.json objects (any iterable, walked once) or their digest.
    """
    return "".join(summary_html_chunks(title, task_ids, results, ignored, similar, seconds))


def summary_html_chunks(
    title: str,
    task_ids: Sequence[str],
    results: Iterable[dict[str, Any]] | ClassDigest,
    ignored: Sequence[str],
    similar: Sequence[dict[str, Any]] = (),
    seconds: Mapping[str, Any] | None = None,  # student -> outputs.GradingRecord
) -> Iterator[str]:
    """`summary_html` piece by piece, for writing a big class's page without holding it whole."""
    found = results if isinstance(results, ClassDigest) else digest(results)
    rows = found.rows
    graded = [r for r in rows if r["status"] == "graded"]
    max_score = rows[0]["max_score"] if rows else 0
    scores = [r["score"] for r in rows if r["status"] != "error"]  # no points were decided for `error`
    template = _environment().get_template("summary.html.j2")
    return template.generate(
        title=title,
        task_ids=task_ids,
        results=rows,
        max_score=max_score,
        mean=sum(scores) / len(scores) if scores else 0,
        histogram=Markup(histogram_svg(scores, max_score)) if scores else "",
        task_stats=_task_stats(task_ids, graded),
        test_rates=_test_rates(found),
        diagnoses=_common_diagnoses(found),
        unreadable=[r for r in rows if r["status"] == "unreadable"],
        failed=[r for r in rows if r["status"] == "error"],
        review=[(r["student"], t["id"]) for r in rows for t in r["tasks"] if t.get("held")],
        ignored=ignored,
        similar=similar,
        seconds=seconds or {},
        environments=Counter(str(g.environment or "not recorded") for g in (seconds or {}).values()),
    )


def _task_stats(task_ids: Sequence[str], results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per task: its points, and the class's mean, spread, lowest and highest score."""
    rows = []
    for task_id in task_ids:
        scores = [float(t["score"]) for r in results for t in r["tasks"] if t["id"] == task_id]
        maxima = [float(t["max_score"]) for r in results for t in r["tasks"] if t["id"] == task_id]
        if not scores:
            continue
        mean = statistics.fmean(scores)
        rows.append({"task": task_id, "max": maxima[0], "mean": mean, "sd": statistics.pstdev(scores),
                     "low": min(scores), "high": max(scores),
                     "full": sum(1 for s, m in zip(scores, maxima, strict=True) if s >= m) / len(scores)})
    return rows


def _test_rates(found: ClassDigest) -> list[dict[str, Any]]:
    rows = [{"task": k[0], "name": k[1], "rate": found.passed[k] / found.seen[k]} for k in found.seen]
    return sorted(rows, key=lambda row: (row["rate"], row["task"], row["name"]))


def _common_diagnoses(found: ClassDigest) -> list[dict[str, Any]]:
    total = found.graded or 1
    ordered = sorted(found.diagnoses.items(), key=lambda item: (-item[1], item[0]))[:20]
    return [{"task": t, "code": c, "share": n / total} for (t, c), n in ordered]
