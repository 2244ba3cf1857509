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
import multiprocessing
import os
import signal
import stat
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.errors import OutputLocked
from grader.model import LoadedSubmission, StudentResult
from grader.outputs import (
    StudentFiles,
    read_results,
    remove_partial_files,
    write_class_files,
    write_student_files,
)
from grader.pipeline import grade_submission
from grader.sandbox.client import default_python
from grader.sandbox.proxy import WorkerPool
from grader.similarity import find_similar, pairs_for_summary
from grader.submission import discover, load
from grader.testing.collect import collect
from grader.testing.fixtures import injected_values, load_data, load_reference
from grader.testing.runner import TestContext
from grader.written import questions_of


@dataclass(frozen=True)
class BatchReport:
    """What a batch did: who was graded now, who was already done, what was ignored."""

    graded: tuple[str, ...]
    skipped: tuple[str, ...]
    ignored: tuple[str, ...]
    out: Path


def build_context(assignment: Assignment, include_hidden: bool = True) -> TestContext:
    """Load tests, data and reference once for a grading process."""
    data = load_data(assignment)
    inject = injected_values(assignment, data)
    reference = load_reference(assignment, inject)
    return TestContext(assignment, collect(assignment, include_hidden), reference, data, inject, questions_of(assignment))


def new_pool(assignment: Assignment) -> WorkerPool:
    return WorkerPool(assignment.python or default_python(), assignment.limits, assignment.preload)


# ---------------------------------------------------------------- grading processes

_PROCESS_STATE: dict[str, Any] = {}


def _init_forked_process() -> None:
    """A grading process forked from the batch: the context is inherited, only its worker pool is its own."""
    _die_with_parent()
    _PROCESS_STATE["pool"] = new_pool(_PROCESS_STATE["context"].assignment)


def _die_with_parent() -> None:
    """Linux: a grading process dies with the batch, so a batch killed with SIGKILL leaves nothing grading."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _grade_in_process(student: str, path: str) -> StudentResult:
    return grade_submission(_PROCESS_STATE["context"], _PROCESS_STATE["pool"], student, Path(path))


# ---------------------------------------------------------------- the batch


def submission_fingerprint(path: Path, assignment_fingerprint: str) -> str:
    """What decides whether a finished student must be graded again."""
    from grader.report.html import grader_version

    digest = hashlib.sha256(assignment_fingerprint.encode())
    digest.update(grader_version().encode())
    digest.update(_grader_source_hash().encode())
    files = [path] if not path.is_dir() or path.is_symlink() else sorted(path.rglob("*"))
    for file in files:
        digest.update(str(file.relative_to(path.parent)).encode())
        digest.update(_content_key(file))
    return digest.hexdigest()


def _content_key(file: Path) -> bytes:
    """A file's bytes; for a link its target, for anything else that is not a regular file its kind.

    Never follows a link or opens a FIFO or device: a hand-in must not make the fingerprint
    read /dev/zero or block on a pipe.
    """
    try:
        info = file.lstat()
    except OSError:
        return b"missing"
    if stat.S_ISLNK(info.st_mode):
        return b"link:" + os.fsencode(os.readlink(file))
    if stat.S_ISDIR(info.st_mode):
        return b"dir"
    if not stat.S_ISREG(info.st_mode):
        return b"special"
    digest = hashlib.sha256()
    try:
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return b"unreadable"
    return digest.digest()


def _grader_source_hash() -> str:
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for file in sorted(root.rglob("*")):
        if file.suffix in (".py", ".j2") and "__pycache__" not in file.parts:
            digest.update(file.read_bytes())
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
) -> BatchReport:
    """Grade every submission under `submissions` into `out`, resuming an earlier run."""
    with output_lock(out):
        remove_partial_files(out)  # left by a run that was killed mid-write; only the lock holder may do this
        entries, ignored = discover(submissions)
        assignment_print = assignment.fingerprint()
        todo = []
        skipped = []
        fingerprints = {}
        for student, path in entries:
            fingerprints[student] = submission_fingerprint(path, assignment_print)
            marker = out / student / ".fingerprint"
            if marker.is_file() and (out / student / "result.json").is_file() and marker.read_text() == fingerprints[student]:
                skipped.append(student)
            else:
                todo.append((student, path))
        for result in _run(assignment, todo, jobs, progress):
            write_student_files(out, result, assignment, options, fingerprints[result.student])
        results = read_results(out, [s for s, _ in entries])
        similar = pairs_for_summary(find_similar(assignment, [(s, load(s, p)) for s, p in entries], _template(assignment)))
        write_class_files(out, assignment, results, [p.name for p in ignored], options, similar)
    return BatchReport(tuple(s for s, _ in todo), tuple(skipped), tuple(p.name for p in ignored), out)


def _template(assignment: Assignment) -> LoadedSubmission | None:
    """The student template, whose own code similarity leaves out."""
    return load("template", assignment.template) if assignment.template is not None else None


def _run(assignment: Assignment, todo: list[tuple[str, Path]], jobs: int, progress: bool) -> Iterator[StudentResult]:
    if not todo:
        return
    # built here first so that a broken test file, question or reference stops the batch with its message
    context = build_context(assignment)
    if jobs <= 1 or len(todo) <= 1:
        yield from _run_here(context, todo, progress)
    else:
        yield from _run_forked(context, todo, jobs, progress)


def _progress(total: int, progress: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="student", disable=not progress, file=sys.stderr)


def _run_here(context: TestContext, todo: list[tuple[str, Path]], progress: bool) -> Iterator[StudentResult]:
    """One student after the other in this process (-j 1)."""
    pool = new_pool(context.assignment)
    bar = _progress(len(todo), progress)
    try:
        for student, path in todo:
            yield grade_submission(context, pool, student, path)
            bar.update()
    finally:
        pool.close()
        bar.close()


def _run_forked(context: TestContext, todo: list[tuple[str, Path]], jobs: int, progress: bool) -> Iterator[StudentResult]:
    """`jobs` grading processes forked from this one, so they inherit the loaded tests, data and reference.

    They are forked (at the first submit) before the progress bar starts its monitor thread.
    """
    _PROCESS_STATE["context"] = context
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(jobs, mp_context=fork, initializer=_init_forked_process) as executor:
        futures: dict[Future[StudentResult], str] = {
            executor.submit(_grade_in_process, student, str(path)): student for student, path in todo
        }
        bar = _progress(len(todo), progress)
        try:
            for future in as_completed(futures):
                bar.update()
                yield _result_or_failure(future, futures[future], context.assignment)
        finally:
            bar.close()


def _result_or_failure(future: Future[StudentResult], student: str, assignment: Assignment) -> StudentResult:
    """A grading process that died takes no grade with it: the student gets a recorded error."""
    try:
        return future.result()
    except Exception as error:
        from grader.scoring import score

        message = f"the grader failed on this submission ({type(error).__name__}: {error}); grade it again"
        return score(assignment, student, (), (message,), "unreadable")


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
