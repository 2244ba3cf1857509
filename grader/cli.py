"""Arguments in, exit code out. The commands only call into the modules that do the work."""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.errors import GraderError, UsageError

# `grade`'s exit codes: 0 every student graded (whatever they scored); 2 usage; 3 the assignment or its
# tests are broken (a test the reference fails); 4 the output folder is locked by another run;
# 5 the grader failed on some students (status `error`: graded again by the next run); 130 interrupted.
GRADER_FAILED = 5


def _grade_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", type=Path, help="folder with one STUDENT.ipynb, STUDENT.py or STUDENT/ per student")
    parser.add_argument("-a", "--assignment", help="assignment id (folder under assignments/) or path to its folder")
    parser.add_argument("-o", "--out", type=Path, default=Path("grades"), help="output folder (default: grades/)")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="parallel grading processes (default: one per core)")
    parser.add_argument("--pdf", action="store_true", help="also write feedback.pdf per student")
    parser.add_argument("--gradescope", action="store_true", help="also write gradescope/STUDENT.json")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--cluster", metavar="ADDRESS", help="grade on a Dask cluster: a scheduler address "
                        "(tcp://host:8786) or local:N for N local worker processes (pip install 'mlgrader[cluster]')")
    parser.add_argument("--no-cache", action="store_true", help="compute every value of the reference and of the "
                        "student's shared results anew (slower; for checking that the caches change no grade)")
    parser.add_argument("--require-isolation", choices=("bwrap", "unshare", "none"), default=None,
                        help="refuse to grade where the sandbox is weaker than this (on a cluster: skip such workers)")
    _python_argument(parser)


def _executor(args: argparse.Namespace, assignment: Any, jobs: int) -> Any:
    """Where the hand-ins are graded: forked processes here (default), or a Dask cluster."""
    if args.cluster:
        from grader.cluster import DaskExecutor

        return DaskExecutor(assignment, args.cluster, args.require_isolation, cache=not args.no_cache)
    from grader.environment import current_environment, meets
    from grader.executors import ForkExecutor

    here = current_environment(assignment.python or sys.executable)
    if not meets(here, args.require_isolation):
        raise UsageError(f"--require-isolation {args.require_isolation}: this machine's sandbox is "
                         f"'{here.isolation}' (apt-get install bubblewrap)")
    return ForkExecutor(assignment, jobs, cache=not args.no_cache)


def _python_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--python", metavar="PATH", help="run student code with this interpreter, e.g. a venv "
                        "with the course's older NumPy (default: the assignment's [sandbox] python, else the grader's)")


def _run_grade(args: argparse.Namespace) -> int:
    from grader.batch import default_jobs, grade_batch
    from grader.catalog import find_assignment, guess_assignment
    from grader.outputs import StudentFiles
    from grader.sandbox.launcher import isolation_notes
    from grader.submission import discover, load, one_handin_message

    if not args.submissions.is_dir():
        raise UsageError(f"{args.submissions} is not a folder of submissions")
    if args.assignment:
        assignment = find_assignment(args.assignment)
    else:
        with tempfile.TemporaryDirectory() as scratch:  # archives are unpacked for the guess, then dropped
            entries, _ = discover(args.submissions, unpack_to=Path(scratch))
            assignment = guess_assignment([load(s, p) for s, p in entries[:20]])
    refusal = one_handin_message(args.submissions, assignment)
    if refusal is not None:
        raise UsageError(refusal)
    if args.python:
        assignment = assignment.with_python(args.python)
    if not args.cluster:
        for note in isolation_notes(assignment.python or sys.executable):
            print(f"note: {note}", file=sys.stderr)
    jobs = args.jobs or default_jobs()
    report = grade_batch(assignment, args.submissions, args.out, jobs,
                         StudentFiles(pdf=args.pdf, gradescope=args.gradescope), progress=not args.quiet,
                         executor=_executor(args, assignment, jobs))
    print(f"{assignment.id}: graded {len(report.graded)}, unchanged {len(report.skipped)}, "
          f"ignored {len(report.ignored)} -> {report.out}/gradebook.csv, {report.out}/summary.html")
    if report.errors:
        print(f"error: the grader failed on {len(report.errors)} student(s), not through their fault: "
              f"{', '.join(report.errors)}. No points were decided for them and nothing was saved as final; "
              f"the reasons are in {report.out}/summary.html. Run the same command again to grade them.",
              file=sys.stderr)
        return GRADER_FAILED
    return 0


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("handin", type=Path, help="your notebook, .py file or folder of modules")
    parser.add_argument("-t", "--task", help="only this task's public tests (e.g. 1a)")
    parser.add_argument("-a", "--assignment", help="assignment id or path to its folder (default: guessed)")
    _python_argument(parser)


def _run_check(args: argparse.Namespace) -> int:
    from grader.selfcheck import find_for_check, print_check, run_check

    if args.python and args.handin.exists():
        args.assignment = find_for_check(args.handin, args.assignment).with_python(args.python)

    report = run_check(args.handin, args.task, args.assignment)
    print_check(report)
    return 0 if report.passed == len(report.lines) else 1  # pytest's convention: 1 when a test failed


def _assign_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="assignment id or path to its folder")
    parser.add_argument("-o", "--out", type=Path, default=None,
                        help="template destination (default: the TOML's template, else student_template/ID)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the template or store is stale")
    parser.add_argument("--no-freeze", action="store_true", help="do not refresh tests/public/expected.npz")
    parser.add_argument("--public", type=Path, default=None, metavar="DIR",
                        help="also copy what students need for `grader check` to DIR/ID (no hidden tests), "
                             "and the student kit DIR/ID.zip (template, public checks, README, the grader's wheel)")
    parser.add_argument("--no-kit", action="store_true", help="with --public: no DIR/ID.zip")


def _run_assign(args: argparse.Namespace) -> int:
    from grader.assign import assign, public_material
    from grader.catalog import find_assignment

    assignment = find_assignment(args.assignment)
    report = assign(assignment, args.out, check=args.check, freeze=not args.no_freeze)
    verb = "out of date" if args.check else "wrote"
    for path in report.stale:
        print(f"{verb}: {path}")
    if report.store is not None and report.store_stale:
        print(f"{verb}: {report.store}")
    if not report.stale and not report.store_stale:
        print(f"{assignment.id}: {report.template} is up to date" + ("" if args.no_freeze else ", and so is the store"))
    if args.public is not None and not args.check:
        material = public_material(assignment, args.public)
        print(f"public material: {material}")
        if not args.no_kit:
            import tempfile

            from grader.kit import build_wheel, student_kit

            with tempfile.TemporaryDirectory() as scratch:
                kit = student_kit(assignment, args.public, material, build_wheel(Path(scratch)), report.template)
                print(f"student kit: {kit}")
    return 1 if args.check and (report.stale or report.store_stale) else 0


def _pdf_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", type=Path, help="the notebook to turn into a PDF")
    parser.add_argument("-o", "--out", type=Path, default=None, help="the PDF to write (default: NOTEBOOK.pdf)")


def _run_pdf(args: argparse.Namespace) -> int:
    from grader.notebook_pdf import notebook_to_pdf

    if not args.notebook.is_file():
        raise UsageError(f"{args.notebook} is not a file")
    out = notebook_to_pdf(args.notebook, args.out or args.notebook.with_suffix(".pdf"))
    print(f"wrote {out}")
    return 0


def _gradescope_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="assignment id or path to its folder")
    parser.add_argument("-o", "--out", type=Path, default=Path("autograder.zip"), help="the bundle (default: autograder.zip)")


def _run_gradescope(args: argparse.Namespace) -> int:
    from grader.catalog import find_assignment
    from grader.gradescope_bundle import build_bundle

    print(f"wrote {build_bundle(find_assignment(args.assignment), args.out)}")
    return 0


def _review_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="the output folder of `grade`")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")


def _run_review(args: argparse.Namespace) -> int:
    from grader.review.serve import serve

    serve(args.out, args.port)
    return 0


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="the output folder of `grade`")
    parser.add_argument("--format", choices=("canvas", "moodle", "csv"), required=True, help="which LMS imports the file")
    parser.add_argument("--per-task", action="store_true", help="also one column per task")
    parser.add_argument("--roster", type=Path, default=None, help="CSV mapping student ids to names, e-mails, LMS and SIS ids")
    parser.add_argument("--name", default="", help="the assignment's name in the LMS (default: its title)")
    parser.add_argument("--canvas-id", default="", help="Canvas's id of the assignment, when it already exists there")
    parser.add_argument("-o", "--output", type=Path, default=None, help="the file to write (default: OUT/export-FORMAT.csv)")


def _run_export(args: argparse.Namespace) -> int:
    from grader.lms import ExportOptions, export
    from grader.lms_import import read_roster
    from grader.report.files import write_atomic

    people = read_roster(args.roster) if args.roster else {}
    text = export(args.out, args.format, people, ExportOptions(args.per_task, args.name, args.canvas_id))
    target = args.output or args.out / f"export-{args.format}.csv"
    write_atomic(target, text)
    print(f"wrote {target}")
    return 0


def _import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export", type=Path, help="the zip the LMS exported (all submissions of one assignment)")
    parser.add_argument("-o", "--out", type=Path, required=True, help="the submissions folder to write")
    parser.add_argument("--lms", choices=("canvas", "moodle", "gradescope"), default=None, help="default: recognised")
    parser.add_argument("--roster", type=Path, default=None, help="CSV mapping LMS ids to names and e-mails")


def _run_import(args: argparse.Namespace) -> int:
    from grader.lms_import import import_export

    found = import_export(args.export, args.out, args.lms, args.roster)
    for entry in found.students:
        notes = (["late"] if entry.late else []) + ([] if entry.in_roster else ["not on the roster"])
        print(f"{entry.person.student}\t{entry.person.name}\t{', '.join(entry.files)}"
              + (f"\t({', '.join(notes)})" if notes else ""))
    for person in found.missing:
        print(f"no hand-in: {person.student} {person.name}")
    print(f"{found.lms}: {len(found.students)} hand-ins -> {found.dest} "
          f"({len(found.unknown)} not on the roster, {len(found.missing)} on the roster without a hand-in); "
          f"who is who: {found.dest.parent / (found.dest.name + '-students.csv')}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description="Grade machine-learning homework in a sandbox.")
    commands = parser.add_subparsers(dest="command", required=True)
    _grade_arguments(commands.add_parser("grade", help="grade a folder of submissions (instructor)"))
    _check_arguments(commands.add_parser("check", help="run the public tests on your hand-in (student)"))
    _assign_arguments(commands.add_parser("assign", help="write the student template from the reference (instructor)"))
    _pdf_arguments(commands.add_parser("pdf", help="turn a notebook into a PDF with its math rendered (student)"))
    _gradescope_arguments(commands.add_parser("gradescope", help="build the Gradescope autograder bundle (instructor)"))
    _review_arguments(commands.add_parser("review", help="review and override grades in a local web page (instructor)"))
    _export_arguments(commands.add_parser("export", help="write the grades as Canvas, Moodle or plain CSV (instructor)"))
    _import_arguments(commands.add_parser("import", help="turn an LMS submission export zip into a submissions folder (instructor)"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`grader COMMAND ...`; the last thing its process does (see `_before_exit`)."""
    try:
        return _dispatch(argv)
    finally:
        _before_exit()


def _before_exit() -> None:
    """Spare the exiting interpreter its last garbage collections (0.2-0.3 s over matplotlib's, numpy's and
    pytest's objects, a quarter of a small `grade` run) by freezing what is alive: the process ends anyway."""
    gc.freeze()


def _dispatch(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {
        "grade": _run_grade,
        "check": _run_check,
        "assign": _run_assign,
        "pdf": _run_pdf,
        "gradescope": _run_gradescope,
        "review": _run_review,
        "export": _run_export,
        "import": _run_import,
    }
    try:
        return handlers[args.command](args)
    except GraderError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted: finished students are saved; run the same command again to resume", file=sys.stderr)
        return 130


def grade_main(argv: Sequence[str] | None = None) -> int:
    """`grade ...`, the same as `grader grade ...`."""
    return main(["grade", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
