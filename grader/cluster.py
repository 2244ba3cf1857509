"""Grade a class on a Dask cluster: the same guarantees on every worker as on one machine.

Nothing is shared but Dask. The assignment (its folder, reference and template, and the data
the client loaded) travels once per worker process as one content-addressed bundle, installed
by a `WorkerPlugin` that builds the grading session (tests, reference, sandbox pool) once and
closes it at teardown. Each hand-in travels as bytes (`grader.transport`); only results come back.
The client alone writes the output folder.

Faults: a worker that dies has its hand-in graded again on another (Dask reschedules it); a
hand-in whose grading kills a second worker is not tried again and ends in `error`
(`allowed_failures = 1` on the scheduler). Each task asks for one unit of the `sandbox`
resource, which each worker process has once, so a machine never runs more sandboxes than
it runs worker processes (start them with `--nworkers $(nproc) --nthreads 1`).
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from grader.assignment import Assignment, load_assignment, toml_without
from grader.environment import GradingEnvironment, current_environment, grader_source_hash, meets
from grader.errors import UsageError
from grader.executors import Job, grade_or_error
from grader.model import StudentResult
from grader.sandbox.client import default_python
from grader.scoring import grader_failure
from grader.session import GradingSession, build_context
from grader.testing.fixtures import load_data
from grader.transport import pack, unpack

INSTALL_HINT = "grading on a cluster needs Dask: pip install 'mlgrader[cluster]'"
RESOURCE = "sandbox"
ALLOWED_FAILURES = 1  # a hand-in is tried on a second worker after the first died, never on a third

_INSTALLED: dict[str, tuple[GradingSession, threading.Lock]] = {}  # per worker process: bundle digest -> session


def _dask() -> Any:
    try:
        import distributed
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return distributed


# ---------------------------------------------------------------- the assignment as one bundle


class AssignmentBundle:
    """The assignment folder, reference and template as zip bytes, plus the loaded data; named by content."""

    def __init__(self, archive: bytes, data: dict[str, Any], names: dict[str, str], python: str | None = None,
                 cache: bool = True) -> None:
        self.archive = archive
        self.cache = cache
        self.data = data
        self.names = names  # "reference"/"template" -> top-level name inside the bundle
        self.python = python  # the sandbox interpreter the client asked for (`--python`, `[sandbox] python`)
        self.digest = hashlib.sha256(archive + (python or "").encode()).hexdigest()[:20]

    @classmethod
    def build(cls, assignment: Assignment, cache: bool = True) -> AssignmentBundle:
        buffer = io.BytesIO()
        names: dict[str, str] = {}
        with zipfile.ZipFile(buffer, "w") as bundle:
            bundle.writestr(zipfile.ZipInfo("assignment.zip", (1980, 1, 1, 0, 0, 0)), pack(assignment.folder))
            for role in ("reference", "template"):
                path: Path | None = getattr(assignment, role)
                if path is not None and path.exists():
                    bundle.writestr(zipfile.ZipInfo(f"{role}.zip", (1980, 1, 1, 0, 0, 0)), pack(path))
                    names[role] = path.name
        return cls(buffer.getvalue(), load_data(assignment), names, assignment.python, cache)

    def install(self, root: Path) -> Assignment:
        """Unpack under `root` and load the assignment with its reference and template in the bundle."""
        with zipfile.ZipFile(io.BytesIO(self.archive)) as bundle:
            folder = unpack(bundle.read("assignment.zip"), root / "assignment")
            paths = {role: unpack(bundle.read(f"{role}.zip"), root / role) for role in self.names}
        toml = folder / "assignment.toml"
        toml.write_text(_without_paths(toml.read_text(encoding="utf-8")), encoding="utf-8")
        assignment = load_assignment(folder)
        return replace(assignment, reference=paths.get("reference"), template=paths.get("template"),
                       python=self.python)


def _without_paths(text: str) -> str:
    """The TOML without its `reference`, `template` and `data` paths (the bundle brings them) and without
    `[sandbox] python` (the client's choice, set after loading)."""
    return toml_without(text, top_level=("reference", "template", "data"), in_tables={"sandbox": ("python",)})


def _plugin_class() -> Any:
    distributed = _dask()

    class GradingPlugin(distributed.WorkerPlugin):  # type: ignore[misc,name-defined]
        """Installs the bundle in a worker process: a grading session built once, closed at teardown."""

        def __init__(self, bundle: AssignmentBundle) -> None:
            self.bundle = bundle
            self.name = f"grader-{bundle.digest}"

        async def setup(self, worker: Any) -> None:
            if RESOURCE not in worker.state.total_resources:
                await worker.set_resources(**{RESOURCE: 1})
            install(self.bundle, Path(worker.local_directory))

        def teardown(self, worker: Any) -> None:
            session, _ = _INSTALLED.pop(self.bundle.digest, (None, None))
            if session is not None:
                session.close()
            shutil.rmtree(Path(worker.local_directory) / f"grader-{self.bundle.digest}", ignore_errors=True)

    return GradingPlugin


def install(bundle: AssignmentBundle, local_directory: Path) -> None:
    """Build the grading session of a bundle in this worker process (once)."""
    if bundle.digest in _INSTALLED:
        return
    root = local_directory / f"grader-{bundle.digest}"
    shutil.rmtree(root, ignore_errors=True)
    assignment = bundle.install(root)
    session = GradingSession(build_context(assignment, data=bundle.data, cache=bundle.cache))
    _INSTALLED[bundle.digest] = (session, threading.Lock())


# ---------------------------------------------------------------- what runs on a worker


def grade_on_worker(digest: str, student: str, handin: bytes | None, role: str | None = None) -> StudentResult:
    """Grade one hand-in (its bytes), or the bundle's reference or template (`role`), in this worker process."""
    session, lock = _INSTALLED[digest]
    with lock, tempfile.TemporaryDirectory(prefix="grader-handin-") as scratch:
        if role is not None:
            path = getattr(session.assignment, role)
        else:
            assert handin is not None
            path = unpack(handin, Path(scratch))
        return grade_or_error(session, Job(student, path))


def worker_environment(python: str | None) -> dict[str, str]:
    """This worker's grading environment, and the grader it runs (to refuse a mismatch)."""
    environment = asdict(current_environment(python or default_python()))
    return {**environment, "grader": grader_source_hash()}


# ---------------------------------------------------------------- the client's side


class DaskExecutor:
    """Grades on a Dask cluster: `tcp://host:8786`, or `local:N` for a `LocalCluster` of N processes."""

    def __init__(self, assignment: Assignment, address: str, require_isolation: str | None = None,
                 cache: bool = True) -> None:
        self.assignment = assignment
        self.cache = cache
        self.address = address
        self.require_isolation = require_isolation
        self._cluster: Any = None
        self._client: Any = self._connect()
        self._workers: dict[str, GradingEnvironment] = {}
        self._bundle: AssignmentBundle | None = None

    def _connect(self) -> Any:
        distributed = _dask()
        if self.address.startswith("local:"):
            try:
                count = int(self.address.removeprefix("local:"))
            except ValueError:
                raise UsageError(f"--cluster {self.address}: write local:N with N the number of workers") from None
            self._cluster = distributed.LocalCluster(
                n_workers=count, threads_per_worker=1, processes=True, resources={RESOURCE: 1},
                dashboard_address=None, silence_logs=logging.ERROR,
            )
            return distributed.Client(self._cluster)
        try:
            return distributed.Client(self.address, timeout=30)
        except OSError as error:
            raise UsageError(f"cannot reach the Dask scheduler at {self.address}: {error}") from None

    def environments(self) -> tuple[GradingEnvironment, ...]:
        found = self._client.run(worker_environment, self.assignment.python)
        if not found:
            raise UsageError(f"the Dask cluster at {self.address} has no workers")
        mine = grader_source_hash()
        other = sorted(address for address, e in found.items() if e.pop("grader") != mine)
        if other:
            raise UsageError(f"workers {', '.join(other)} run another version of the grader than this client; "
                             "install the same mlgrader on every worker")
        environments = {address: GradingEnvironment(**e) for address, e in found.items()}
        self._workers = {a: e for a, e in environments.items() if meets(e, self.require_isolation)}
        if not self._workers:
            weakest = sorted({e.isolation for e in environments.values()})
            raise UsageError(f"no worker meets --require-isolation {self.require_isolation} (they have "
                             f"{', '.join(weakest)}); install bubblewrap on the workers")
        return tuple(dict.fromkeys(self._workers.values()))

    def start(self, cache_dir: Path) -> None:
        self._client.run_on_scheduler(_set_allowed_failures, ALLOWED_FAILURES)
        self._bundle = AssignmentBundle.build(self.assignment, self.cache)
        self._client.register_plugin(_plugin_class()(self._bundle), name=f"grader-{self._bundle.digest}")

    def canary(self) -> tuple[StudentResult | None, StudentResult | None]:
        results = {}
        for role in ("reference", "template"):
            if self._bundle is not None and role in self._bundle.names:
                results[role] = self._submit(role, None, role).result()
        return results.get("reference"), results.get("template")

    def run(self, jobs: Sequence[Job]) -> Iterator[StudentResult]:
        distributed = _dask()
        futures = {self._submit(job.student, pack(job.path)): job for job in jobs}
        try:
            for future in distributed.as_completed(futures):
                job = futures[future]
                try:
                    yield future.result()
                except distributed.KilledWorker as error:
                    yield grader_failure(self.assignment, job.student, _killed_message(error))
                except Exception as error:  # the grader failed on a worker: never the student's
                    yield grader_failure(self.assignment, job.student,
                                         f"the grader failed on a cluster worker ({type(error).__name__}: {error})")
                finally:
                    future.release()
        except BaseException:
            self._client.cancel(list(futures))
            raise

    def _submit(self, student: str, handin: bytes | None, role: str | None = None) -> Any:
        assert self._bundle is not None
        return self._client.submit(
            grade_on_worker, self._bundle.digest, student, handin, role,
            key=f"grade-{self._bundle.digest}-{student}-{hashlib.sha256(handin or b'').hexdigest()[:12]}",
            resources={RESOURCE: 1}, workers=sorted(self._workers), allow_other_workers=False, pure=False,
        )

    def close(self) -> None:
        if self._bundle is not None:
            try:
                self._client.unregister_worker_plugin(f"grader-{self._bundle.digest}")
            except Exception:  # noqa: BLE001 - a cluster going away at the end is not the batch's failure
                pass
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _set_allowed_failures(count: int, dask_scheduler: Any = None) -> None:
    dask_scheduler.allowed_failures = count


def _killed_message(error: Exception) -> str:
    return (f"the grading process died twice while grading this hand-in, on two cluster workers ({error}); "
            "it is graded again on the next run")
