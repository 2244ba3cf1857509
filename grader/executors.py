"""Executors: where the hand-ins of a batch are graded, behind one interface.

`LocalExecutor` grades in this process, one hand-in after the other (`grader check`, tests).
`ForkExecutor` grades in processes forked from this one, so that they inherit the loaded
context: a grading process that dies (the out-of-memory killer, a bug) takes no grade with it.
Its hand-in is tried once more on a fresh process; a hand-in that kills a second process ends
in the `error` status with the reason, never as a student's 0, and the batch goes on.
The Dask executor (`grader.cluster`) keeps the same promises on many machines.
"""

from __future__ import annotations

import signal
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing import connection, get_context
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from grader.assignment import Assignment
from grader.environment import GradingEnvironment, current_environment
from grader.errors import ConfigError, GraderError
from grader.model import StudentResult
from grader.sandbox.client import default_python
from grader.scoring import grader_failure

if TYPE_CHECKING:  # the session brings the tests, sympy and the reference: imported when there is work
    from grader.session import GradingSession
    from grader.testing.expected import ExpectedValues

RETRIES = 1  # a hand-in whose grading process died is tried once more; a second death is an `error`


@dataclass(frozen=True, slots=True)
class Job:
    """One hand-in to grade."""

    student: str
    path: Path


class Executor(Protocol):
    """Where a batch's hand-ins are graded. Raises only a `GraderError` (which stops the batch)."""

    def environments(self) -> tuple[GradingEnvironment, ...]:
        """What the hand-ins will be graded with (part of each student's fingerprint)."""
        ...

    def start(self, cache_dir: Path) -> None:
        """Load what grading needs (tests, data, reference); called only when there is work.

        `cache_dir` (in the output folder) keeps what is worth keeping between runs: the
        reference's values, so that a resumed batch does not compute them again.
        """
        ...

    def canary(self) -> tuple[StudentResult | None, StudentResult | None]:
        """The reference and the template graded where the students will be."""
        ...

    def run(self, jobs: Sequence[Job]) -> Iterator[StudentResult]:
        """Grade the jobs; the iterator gives each result as it finishes (graded elsewhere: begun on the call)."""
        ...

    def close(self) -> None: ...


class LocalExecutor:
    """One hand-in after the other, in this process."""

    def __init__(self, assignment: Assignment, cache: bool = True) -> None:
        self.assignment = assignment
        self.cache = cache
        self._session: GradingSession | None = None
        self._cache_file: Path | None = None

    @property
    def session(self) -> GradingSession:
        if self._session is None:
            raise RuntimeError("start() the executor first")
        return self._session

    def environments(self) -> tuple[GradingEnvironment, ...]:
        return (current_environment(self.assignment.python or default_python()),)

    def start(self, cache_dir: Path) -> None:
        # built here first so that a broken test file, question or reference stops the batch with its message
        from grader.session import GradingSession

        self._session = GradingSession.for_assignment(self.assignment, cache=self.cache)
        self._cache_file = cache_dir / "expected.npz"
        self._expected().load_cache(self._cache_file)

    def canary(self) -> tuple[StudentResult | None, StudentResult | None]:
        return _canary(self.session, self._cache_file)

    def _expected(self) -> ExpectedValues:
        expected = self.session.context.expected
        assert expected is not None
        return expected

    def run(self, jobs: Sequence[Job]) -> Iterator[StudentResult]:
        for job in jobs:
            yield grade_or_error(self.session, job)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


def _canary(session: GradingSession, cache_file: Path | None) -> tuple[StudentResult | None, StudentResult | None]:
    """Grade the reference and the template; keep every value the reference gave (it ran every test)."""
    reference, template = session.assignment.reference, session.assignment.template
    results = (session.grade("reference", reference) if reference is not None else None,
               session.grade("template", template) if template is not None and template.exists() else None)
    if cache_file is not None:
        expected = session.context.expected
        assert expected is not None
        expected.save_cache(cache_file)
    return results


def grade_or_error(session: GradingSession, job: Job) -> StudentResult:
    """Grade one job; a failure of the grader's own code becomes the student's `error` status, not a crash."""
    try:
        return session.grade(job.student, job.path)
    except GraderError:
        raise
    except Exception as error:  # the grader's bug, never the student's: recorded, regraded next run
        return grader_failure(session.assignment, job.student,
                              f"the grader failed on this hand-in ({type(error).__name__}: {error})")


class ForkExecutor(LocalExecutor):
    """`jobs` grading processes forked from this one, each handed one hand-in at a time.

    This process never runs a test itself, the canary included: a host library that starts threads
    when first used (torch's OpenMP pool) would leave every process forked after it hanging.
    """

    def __init__(self, assignment: Assignment, jobs: int, retries: int = RETRIES, cache: bool = True) -> None:
        super().__init__(assignment, cache)
        self.jobs = max(1, jobs)
        self.retries = retries
        self._children: list[_Child] = []

    def canary(self) -> tuple[StudentResult | None, StudentResult | None]:
        """The canary in a forked process of its own; the values it computed are read back for the others."""
        child = _Child.start(self.session)
        try:
            child.connection.send(("canary", str(self._cache_file) if self._cache_file else None))
            connection.wait([child.connection, child.process.sentinel])
            kind, payload = child.connection.recv() if child.connection.poll() else ("died", None)
        except (EOFError, OSError):
            kind, payload = "died", None
        finally:
            child.stop()
        if kind == "config":
            raise ConfigError(str(payload))
        if kind != "canary":
            raise ConfigError(f"{self.assignment.id}: grading the reference failed: "
                              f"{_death(child.process.exitcode).replace('this hand-in', 'the reference')}")
        if self._cache_file is not None:
            self._expected().load_cache(self._cache_file)
        return payload  # type: ignore[return-value]

    def run(self, jobs: Sequence[Job]) -> Iterator[StudentResult]:
        """Fork the grading processes and hand each its first hand-in now; iterating collects the results.

        The grading has begun when this returns, so the caller may do work of its own meanwhile.
        """
        self.session.close()  # the children start their own sandbox pools; none may share the parent's
        queue = deque(jobs)
        try:
            self._hand_out(queue)
        except BaseException:
            self._stop_children()
            raise
        return self._collect(queue)

    def _hand_out(self, queue: deque[Job]) -> None:
        """Start grading processes up to `jobs` (no more than there is work for) and give every idle one a hand-in."""
        busy = sum(child.job is not None for child in self._children)
        while len(self._children) < min(self.jobs, busy + len(queue)):
            self._children.append(_Child.start(self.session))
        for child in self._children:
            if child.job is None and queue:
                child.give(queue.popleft())

    def _collect(self, queue: deque[Job]) -> Iterator[StudentResult]:
        attempts: Counter[str] = Counter()
        children = self._children
        try:
            while queue or any(child.job for child in children):
                self._hand_out(queue)
                for child in _ready(children):
                    job, outcome = child.collect()
                    if isinstance(outcome, StudentResult):
                        self._hand_out(queue)  # the process grades its next hand-in while this one's files are written
                        yield outcome
                        continue
                    if isinstance(outcome, GraderError):
                        raise outcome
                    children.remove(child)
                    child.stop()
                    attempts[job.student] += 1
                    if attempts[job.student] <= self.retries:
                        queue.appendleft(job)
                    else:
                        yield grader_failure(self.session.assignment, job.student, f"{outcome}; it was tried "
                                             f"{attempts[job.student]} times and is graded again on the next run")
        finally:
            self._stop_children()

    def _stop_children(self) -> None:
        while self._children:
            self._children.pop().stop()

    def close(self) -> None:
        self._stop_children()  # grading processes a caller never collected from
        super().close()


def _ready(children: list[_Child]) -> list[_Child]:
    """The busy children that answered or died."""
    busy = [c for c in children if c.job is not None]
    if not busy:
        return []
    waitables: list[Any] = [c.connection for c in busy] + [c.process.sentinel for c in busy]
    ready = set(connection.wait(waitables))
    return [c for c in busy if c.connection in ready or c.process.sentinel in ready]


class _Child:
    """One forked grading process and the pipe to it."""

    def __init__(self, process: BaseProcess, link: connection.Connection) -> None:
        self.process = process
        self.connection = link
        self.job: Job | None = None

    @classmethod
    def start(cls, session: GradingSession) -> _Child:
        parent_end, child_end = get_context("fork").Pipe()
        process = get_context("fork").Process(target=_child_main, args=(session, child_end), daemon=True)
        process.start()
        child_end.close()
        return cls(process, parent_end)

    def give(self, job: Job) -> None:
        self.job = job
        try:
            self.connection.send(("grade", (job.student, str(job.path))))
        except OSError:
            pass  # the process died between two hand-ins: its sentinel says so, and the job is tried again

    def collect(self) -> tuple[Job, StudentResult | GraderError | str]:
        """The finished job and its result, the batch-stopping error, or why the process died."""
        job = self.job
        assert job is not None
        self.job = None
        try:
            if self.connection.poll():
                kind, payload = self.connection.recv()
                if kind == "result":
                    return job, payload
                return job, ConfigError(str(payload))
        except (EOFError, OSError):
            pass
        self.process.join(5)
        return job, _death(self.process.exitcode)

    def stop(self) -> None:
        try:
            self.connection.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.connection.close()


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        cause = " (killed, e.g. by the out-of-memory killer)" if -code == signal.SIGKILL else ""
        return f"the grading process died while grading this hand-in (signal {name}{cause})"
    return f"the grading process ended while grading this hand-in (exit status {code})"


def _child_main(session: GradingSession, link: connection.Connection) -> None:
    """A grading process: grade what the batch sends until told to stop; die with the batch."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle
    _one_thread_for_forked_libraries()
    try:
        while True:
            try:
                message = link.recv()
            except (EOFError, OSError):
                return
            if message is None:
                return
            kind, payload = message
            try:
                if kind == "canary":
                    link.send(("canary", _canary(session, Path(payload) if payload else None)))
                else:
                    student, path = payload
                    link.send(("result", grade_or_error(session, Job(student, Path(path)))))
            except GraderError as error:
                link.send(("config", error.message))
    finally:
        session.close()


def _one_thread_for_forked_libraries() -> None:
    """A thread pool the parent started (torch's OpenMP) does not exist in a forked child: using it hangs.

    One thread keeps host-side torch in the tests on the calling thread (the students' torch runs in the
    sandbox workers, fresh processes, unaffected).
    """
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            torch.set_num_threads(1)
        except Exception:  # noqa: BLE001 - a torch too broken to set threads is the tests' concern
            pass


def _die_with_parent() -> None:
    """Linux: a grading process dies with the batch, so a batch killed with SIGKILL leaves nothing grading."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
