"""The students' self-check: the public tests of one hand-in, with the grader's own extraction and sandbox.

`grader check HANDIN [-t TASK]` and, inside a notebook, `from grader import check; check("1a")`.
Only public tests run, and they never need the reference: what they compare against comes
from the store beside them (`grader.testing.expected`) when the reference is not at hand.
So a student's run gives each public test the verdict the instructor's `grade` gives it.

The assignment is the one named (`-a` id or folder), else the one the notebook's metadata
names, else the one whose needed names the hand-in defines best, looked for in an
`assignments/` folder beside the hand-in or above it, then `$GRADER_ASSIGNMENTS`,
`./assignments` and this checkout's.
"""

from __future__ import annotations

import fnmatch
import html
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader.assignment import Assignment, load_assignment
from grader.catalog import assignment_roots
from grader.errors import UsageError
from grader.extract import extract
from grader.model import Diagnosis, LoadedSubmission
from grader.report.hints import hint
from grader.submission import load
from grader.testing.collect import Suite

SUMMARY_TAIL = "hidden tests run when you hand in"


@dataclass(frozen=True)
class CheckLine:
    """One public test's verdict, as a student reads it."""

    task: str
    name: str
    passed: bool
    message: str
    diagnoses: tuple[Diagnosis, ...]

    @property
    def hints(self) -> tuple[str, ...]:
        return tuple(h for h in (hint(d) for d in self.diagnoses) if h)


@dataclass(frozen=True)
class SelfCheck:
    """The verdicts of the public tests on one hand-in; plain text for terminals, HTML for Jupyter."""

    assignment: str
    title: str
    handin: Path
    expected_from: str  # "reference" or "store"
    lines: tuple[CheckLine, ...]
    notes: tuple[str, ...] = ()  # what could not be read, which file was checked

    @property
    def passed(self) -> int:
        return sum(line.passed for line in self.lines)

    @property
    def summary(self) -> str:
        return f"public tests: {self.passed}/{len(self.lines)} passed; {SUMMARY_TAIL}"

    def text(self, ascii_only: bool = False) -> str:
        """Terminal lines: a header, one line per test (failures with message and hints), the summary."""
        ok, bad = ("ok", "FAIL") if ascii_only else ("\u2714", "\u2718")
        out = [f"{self.handin.name}: public tests of {self.assignment} ({self.title})"]
        if self.expected_from == "reference":
            out.append("  (the reference is here: expected values are computed from it, not read from the store)")
        out += [f"  note: {note}" for note in self.notes]
        width = max((len(line.task) for line in self.lines), default=2)
        for line in self.lines:
            out.append(f"{line.task:<{width}}  {ok if line.passed else bad} {line.name}")
            if line.passed:
                continue
            pad = " " * (width + 4)
            out += [f"{pad}{text}" for text in line.message.splitlines() if text.strip()]
            out += [f"{pad}hint: {text}" for text in line.hints]
        out.append(self.summary)
        return "\n".join(out)

    def html(self) -> str:
        """A compact table for Jupyter."""
        rows = []
        for line in self.lines:
            mark = ('<span style="color:#1a7f37">&#10004;</span>' if line.passed
                    else '<span style="color:#cf222e">&#10008;</span>')
            detail = "".join(f"<div>{html.escape(t)}</div>" for t in line.message.splitlines() if t.strip())
            detail += "".join(f"<div><i>hint:</i> {html.escape(t)}</div>" for t in line.hints)
            if detail:
                detail = f'<div style="font-size:90%;color:#555">{detail}</div>'
            rows.append(f"<tr><td>{html.escape(line.task)}</td><td>{mark}</td>"
                        f"<td>{html.escape(line.name)}{detail}</td></tr>")
        notes = "".join(f"<p>note: {html.escape(e)}</p>" for e in self.notes)
        return (f'<div class="grader-check"><p><b>{html.escape(self.assignment)}</b>: public tests of '
                f"{html.escape(self.handin.name)}</p>{notes}"
                '<table style="text-align:left"><thead><tr><th>task</th><th></th><th>test</th></tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table><p>{html.escape(self.summary)}</p></div>")

    def _repr_html_(self) -> str:
        return self.html()

    def __str__(self) -> str:
        return self.text()


# ---------------------------------------------------------------- which assignment


def _roots_near(path: Path) -> list[Path]:
    start = path.resolve() if path.is_dir() else path.resolve().parent
    return [folder / "assignments" for folder in (start, *start.parents) if (folder / "assignments").is_dir()]


def _candidates(path: Path) -> dict[str, Path]:
    """Assignment folders by id, the ones nearest the hand-in first."""
    found: dict[str, Path] = {}
    for root in [*_roots_near(path), *assignment_roots()]:
        for folder in sorted(root.iterdir()):
            if (folder / "assignment.toml").is_file():
                found.setdefault(folder.name, folder)
    return found


def find_for_check(handin: Path, spec: str | None = None) -> Assignment:
    """The assignment of a hand-in: named by `spec` (id or folder), by notebook metadata, or by its names."""
    candidates = _candidates(handin)
    if spec:
        if (Path(spec) / "assignment.toml").is_file():
            return load_assignment(Path(spec))
        if spec in candidates:
            return load_assignment(candidates[spec])
        raise UsageError(f"no assignment {spec!r}; known: {', '.join(sorted(candidates)) or 'none'} "
                         "(or give the folder holding its assignment.toml)")
    loaded = load(_student_id(handin), handin)
    named = {f.metadata_assignment for f in loaded.files if f.metadata_assignment}
    if len(named) == 1 and next(iter(named)) in candidates:
        return load_assignment(candidates[next(iter(named))])
    return _by_names(loaded, [load_assignment(folder) for folder in candidates.values()])


def _by_names(loaded: LoadedSubmission, assignments: list[Assignment]) -> Assignment:
    """The assignment most of whose needed names the hand-in defines; refuse a tie."""
    scores = {a.id: len(extract(loaded.files, a.needs, frozenset(a.inject)).resolved) for a in assignments}
    best = max(scores.values(), default=0)
    winners = [a for a in assignments if scores[a.id] == best and best > 0]
    if len(winners) != 1:
        detail = ", ".join(f"{i} ({s} names)" for i, s in sorted(scores.items())) or "no assignments found"
        raise UsageError(f"cannot tell which assignment this is ({detail}); name it with -a ASSIGNMENT")
    return winners[0]


def _student_id(handin: Path) -> str:
    return handin.stem if handin.is_file() else handin.resolve().name


# ---------------------------------------------------------------- running


def run_check(handin: Path, task: str | None = None, assignment: str | Assignment | None = None) -> SelfCheck:
    """The public tests (of one task, or all) on a notebook, module or folder, as the grader runs them."""
    from grader.pipeline import grade_submission
    from grader.session import build_context, new_pool

    if not handin.exists():
        raise UsageError(f"{handin} does not exist")
    chosen = assignment if isinstance(assignment, Assignment) else find_for_check(handin, assignment)
    context = build_context(chosen, include_hidden=False)
    suite = context.suite.public()
    if task is not None:
        if task not in {t.id for t in chosen.tasks}:
            raise UsageError(f"{chosen.id} has no task {task!r}; its tasks: {', '.join(t.id for t in chosen.tasks)}")
        suite = Suite(suite.for_task(task))
    context = replace(context, suite=suite, questions=())  # written answers are graded when handed in
    pool = new_pool(chosen)
    try:
        result = grade_submission(context, pool, _student_id(handin), handin)
    finally:
        pool.close()
    lines = tuple(
        CheckLine(t.id, test.name, test.passed, test.message, test.diagnoses)
        for t in result.tasks for test in t.tests if test.visibility == "public"
    )
    source = "reference" if context.expected is not None and context.expected.live else "store"
    return SelfCheck(chosen.id, chosen.title, handin, source, lines, tuple(result.errors))


# ---------------------------------------------------------------- inside a notebook


def notebook_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The saved file of the running notebook: given, or told by the kernel, or the only one here."""
    if explicit is not None:
        return Path(explicit)
    told = [os.environ.get("JPY_SESSION_NAME")]
    namespace = _user_namespace()
    told += [namespace.get("__session__"), namespace.get("__vsc_ipynb_file__")]
    for name in told:
        if isinstance(name, str) and name.endswith(".ipynb"):
            for path in (Path(name), Path.cwd() / name, Path.cwd() / Path(name).name):
                if path.is_file():
                    return path
    here = sorted(Path.cwd().glob("*.ipynb"))
    if len(here) == 1:
        return here[0]
    raise UsageError("cannot tell which notebook this is" + (f" ({len(here)} here)" if here else "")
                     + ": name it, as in check(\"1a\", notebook=\"my_notebook.ipynb\")")


def _user_namespace() -> dict[str, Any]:
    shell = _shell()
    return dict(getattr(shell, "user_ns", {}) or {}) if shell is not None else {}


def _shell() -> Any:
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


def notebook_handin(notebook: Path, assignment: str | None = None) -> tuple[Path, Assignment]:
    """What to check for a notebook: the notebook, or its folder when the tasks live in modules beside it."""
    try:
        chosen = find_for_check(notebook, assignment)
    except UsageError:
        chosen = find_for_check(notebook.parent, assignment)
    patterns = {part for need in chosen.needs if ":" in need for part in need.split(":", 1)[0].split("|")}
    beside = [p.stem for p in notebook.parent.glob("*.py")]
    if any(fnmatch.fnmatch(stem, pattern) for stem in beside for pattern in patterns):
        return notebook.parent, chosen
    return notebook, chosen


def check(task: str | None = None, notebook: str | os.PathLike[str] | None = None,
          assignment: str | None = None) -> None:
    """Run the public tests of `task` (all tasks if None) on the notebook's SAVED file and show the verdicts.

    In Jupyter the verdicts are an HTML table; elsewhere plain text. Save the notebook first:
    the check reads the file, as the grader will. `run_check` returns the verdicts instead.
    """
    path = notebook_path(notebook)
    handin, chosen = notebook_handin(path, assignment)
    report = run_check(handin, task, chosen)
    saved = time.strftime("%H:%M:%S", time.localtime(path.stat().st_mtime))
    report = replace(report, notes=(*report.notes, f"checked {path.name} as saved at {saved}"))
    shell = _shell()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import display

        display(report)
    else:
        print_check(report)


def _can_print(text: str) -> bool:
    try:
        text.encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def print_check(report: SelfCheck) -> None:
    """Print a report for a terminal, with ASCII marks where the terminal cannot show ✔ and ✘."""
    print(report.text(ascii_only=not _can_print("\u2714\u2718")))
