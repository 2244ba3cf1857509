"""A whole class: parallel grading processes, a progress bar, atomic per-student results, resume.

Each grading process loads the assignment, its tests, the reference and the data once,
keeps a warm sandbox worker ready, and grades one student at a time. The parent writes
each student's files as soon as that student is done (atomically, fingerprint last),
so a batch killed midway resumes where it stopped: a student is graded again only if
the submission, the assignment or the grader changed.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grader.assignment import Assignment
from grader.canary import canary_key, check_canary, values_dir
from grader.environment import GradingEnvironment, grader_source_hash
from grader.errors import OutputLocked
from grader.executors import Executor, ForkExecutor, Job
from grader.model import StudentResult
from grader.outputs import (
    StudentFiles,
    class_files_current,
    read_results,
    remove_partial_files,
    write_class_files,
    write_student_files,
)
from grader.report.files import write_atomic
from grader.report.html import prepare_reports
from grader.reviews import handin_fingerprint
from grader.submission import discover


@dataclass(frozen=True)
class BatchReport:
    """What a batch did: who was graded now, who was already done, what was ignored, who ended in error."""

    graded: tuple[str, ...]
    skipped: tuple[str, ...]
    ignored: tuple[str, ...]
    out: Path
    errors: tuple[str, ...] = ()  # students the grader failed on (status `error`): graded again next run


# ---------------------------------------------------------------- the batch


def submission_fingerprint(path: Path, assignment_fingerprint: str) -> str:
    """What decides whether a finished student must be graded again: the hand-in, the assignment and the grader."""
    from grader.report.html import grader_version

    digest = hashlib.sha256(assignment_fingerprint.encode())
    digest.update(grader_version().encode())
    digest.update(grader_source_hash().encode())
    digest.update(handin_fingerprint(path).encode())
    return digest.hexdigest()


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """One `grade` run per output folder at a time; a second one is refused, not interleaved."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".grader.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputLocked(f"another grade run is writing to {out}; wait for it to finish or use another -o") from None
        yield


def grade_batch(
    assignment: Assignment,
    submissions: Path,
    out: Path,
    jobs: int,
    options: StudentFiles,
    progress: bool = True,
    executor: Executor | None = None,
) -> BatchReport:
    """Grade every submission under `submissions` into `out`, resuming an earlier run.

    `executor` says where hand-ins are graded (default: `jobs` forked grading processes). Before
    the first student, the canary runs every test on the reference and the template
    (`grader.canary`; not again for a key that passed before): a broken test stops the batch with
    exit 3 and grades nobody. A student is
    skipped when their hand-in, the assignment, the grader and the grading environment are
    all as they were when they were last graded.
    """
    executor = executor or ForkExecutor(assignment, jobs)
    with output_lock(out):
        remove_partial_files(out)  # left by a run that was killed mid-write; only the lock holder may do this
        entries, ignored = discover(submissions, unpack_to=out / ".unpacked")
        # Per hand-in, the batch keeps its path as a string (a Path object is four times larger) and its
        # fingerprint: with the class files, all that grows with the class (about 0.3 KB a hand-in).
        handins = {student: str(path) for student, path in entries}
        del entries
        assignment_print = assignment.fingerprint()
        try:
            environments = executor.environments()
        except BaseException:
            executor.close()
            raise
        todo: list[str] = []
        skipped = []
        fingerprints: dict[str, str] = {}
        for student, path in handins.items():
            handin = submission_fingerprint(Path(path), assignment_print)
            stored = _read(out / student / ".fingerprint") if (out / student / "result.json").is_file() else None
            if stored in {graded_fingerprint(handin, environment) for environment in environments}:
                skipped.append(student)
            else:
                todo.append(student)
            fingerprints[student] = handin
        errors = []
        try:
            if todo:
                key = canary_key(assignment_print, assignment.template, environments)
                executor.start(values_dir(out, key))
                check_canary(executor, assignment.id, out, key)
                results = executor.run([Job(student, Path(handins[student])) for student in todo])
                prepare_reports()  # while the grading processes work, not after them
                # imported here: a rerun with nothing to grade never needs it
                from grader.similarity import signature_maker

                signatures = signature_maker(assignment, out, write_atomic)
                for result in _with_progress(results, len(todo), progress):
                    graded = graded_fingerprint(fingerprints[result.student], _environment_of(result, environments))
                    handin_path = Path(handins[result.student])
                    write_student_files(out, result, assignment, options, graded, handin_path)
                    # the similarity report's part for this hand-in, while the grading processes go on
                    signatures.make_for(result.student, handin_path, fingerprints[result.student])
                    if result.status == "error":
                        errors.append(result.student)
        finally:
            executor.close()
        students = [s for s in handins if (out / s / "result.json").is_file()]
        ignored_names = [p.name for p in ignored]
        if todo or not class_files_current(out, assignment, students, ignored_names, options):
            from grader.similarity import similar_code

            similar = similar_code(assignment, list(handins.items()), fingerprints, out, write_atomic).summary_rows()
            write_class_files(out, assignment, read_results(out, students), ignored_names, options, similar)
    return BatchReport(tuple(todo), tuple(skipped), tuple(p.name for p in ignored), out,
                       tuple(sorted(errors)))


def graded_fingerprint(handin_fingerprint: str, environment: GradingEnvironment | None) -> str:
    """A finished student's fingerprint: their hand-in's (with the assignment and grader) and where it was graded."""
    return f"{handin_fingerprint}:{environment.digest() if environment is not None else 'unknown'}"


def _environment_of(result: StudentResult, environments: tuple[GradingEnvironment, ...]) -> GradingEnvironment | None:
    return next((e for e in environments if e.describe() == result.environment), None)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _with_progress(results: Iterator[StudentResult], total: int, progress: bool) -> Iterator[StudentResult]:
    """The results as they come, counted on a progress bar (no monitor thread: processes are forked meanwhile)."""
    from tqdm import tqdm

    tqdm.monitor_interval = 0
    bar = tqdm(total=total, unit="student", disable=not progress, file=sys.stderr)
    try:
        for result in results:
            bar.update()
            yield result
    finally:
        bar.close()


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
