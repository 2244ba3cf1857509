"""Clusters of identical code and near matches across a class, near-linear in its size.

Per task, students whose normalised code has the same hash form a group; a group of two or more
whose code is at least `MIN_NODES` large is a **cluster** (what the exact method reports as every
pair inside it, `identical` or `renamed`). Near matches are looked for between groups, one
representative each, among those at least `MIN_NODES_NEAR` large: candidates come from
locality-sensitive hashing of the MinHash of each group's token trigrams (datasketch's `MinHashLSH`),
a candidate whose estimated Jaccard is far below what a near match has is dropped, and the rest are compared
exactly with the same difflib ratio as the pairwise method (>= `NEAR_RATIO`), in both directions
when the pairs of students need both (difflib is not quite symmetric).

Recall. Byte copies and renamed copies have equal hashes and are never missed. For a near match, two
groups become candidates when they share one of 25 bands of 5 rows of a 128-value MinHash of their token
trigrams: with a trigram Jaccard J they are missed with probability (1 - J**5)**25, which is below 4e-6
for a copy with a line or two changed in 250 tokens of code (J >= 0.83), 1.1e-3 for a dozen one-token
edits scattered through it (J = 0.75), and 0.13 at the worst case a ratio of 0.95 allows (J = 0.6; see
`signatures`). A candidate whose estimated Jaccard is under `PREFILTER` (0.45, 3.5 standard deviations
below 0.6) is dropped without reading its code. Unrelated code (J about 0.3) becomes a candidate with
probability 6%, and most of those are dropped by the prefilter.

Cost. Each student's signature is computed once (load, extract, normalise, hash) and read back on
later runs while their submission's fingerprint is unchanged; only the signatures of the current task
are indexed at a time; code is read from disk only for candidates that survive the prefilter and for
what the summary shows.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.assignment import Assignment
from grader.model import LoadedSubmission
from grader.similarity.normalise import (
    MIN_NODES,
    MIN_NODES_NEAR,
    NEAR_RATIO,
    near_ratio,
    template_pieces,
    tokens_of,
)
from grader.similarity.report import Cluster, NearMatch, SimilarityReport
from grader.similarity.signatures import (
    NUM_PERM,
    Signature,
    SignatureStore,
    compute,
    context_key,
    signature_key,
    sketch,
)
from grader.submission import load

BANDS, ROWS = 25, 5
PREFILTER = 0.45
RATIOS_FORMAT = 1
REPORT_FORMAT = 1

Loader = Callable[[str, Path], LoadedSubmission]
Writer = Callable[[Path, str], None]


def similar_code(
    assignment: Assignment,
    entries: Sequence[tuple[str, str | Path]],
    fingerprints: Mapping[str, str],
    out: Path,
    write: Writer,
    loader: Loader = load,
) -> SimilarityReport:
    """Find the class's clusters and near matches, reusing stored signatures; write `OUT/similarity.json`.

    `entries` are (student, path) as `discover` lists them (a path may be given as a string), `fingerprints` the submission fingerprints
    that decide whether a stored signature still fits; only students without one are loaded (with
    `loader`), one at a time. `write(path, text)` must write atomically (`report.files.write_atomic`).
    """
    store = SignatureStore(out, write)
    store.sweep(s for s, _ in entries)
    context = context_key(assignment)
    class_key = _class_key(context, entries, fingerprints)
    report = _stored_report(store, class_key)
    if report is None:
        report = _find(assignment, entries, fingerprints, store, loader, context)
        if class_key:
            write(store.root / "report.json", json.dumps({"key": class_key, "report": report.stored()}))
    write(out / "similarity.json", json.dumps(report.as_json(), indent=1))
    return report


def _class_key(context: str, entries: Sequence[tuple[str, str | Path]], fingerprints: Mapping[str, str]) -> str:
    """What the whole report depends on: every student's signature key ("" when one has no fingerprint)."""
    if any(student not in fingerprints for student, _ in entries):
        return ""
    keys = sorted((student, signature_key(fingerprints[student], context)) for student, _ in entries)
    return hashlib.sha256(json.dumps([REPORT_FORMAT, keys]).encode()).hexdigest()


def _stored_report(store: SignatureStore, class_key: str) -> SimilarityReport | None:
    """The report of the last run when it was made for this very class; else None."""
    if not class_key:
        return None
    try:
        data = json.loads((store.root / "report.json").read_text(encoding="utf-8"))
        return SimilarityReport.from_stored(data["report"]) if data.get("key") == class_key else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _find(
    assignment: Assignment,
    entries: Sequence[tuple[str, str | Path]],
    fingerprints: Mapping[str, str],
    store: SignatureStore,
    loader: Loader,
    context: str,
) -> SimilarityReport:
    """Signatures (stored or computed), then the clusters and near matches task by task."""
    grouped = _grouped(assignment, sorted(entries), fingerprints, store, loader, context)
    clusters: list[Cluster] = []
    near: list[NearMatch] = []
    texts = _Ratios(store)
    for task in assignment.tasks:
        groups = grouped.groups[task.id]
        clusters.extend(
            Cluster(task.id, g.nodes, g.writings(), g.written_by(g.writings()[0][0]))
            for g in groups
            if len(g.members) > 1 and g.nodes >= MIN_NODES
        )
        near.extend(_near_matches(task.id, groups, texts))
    texts.save()
    order = [t.id for t in assignment.tasks]
    clusters.sort(key=lambda c: (-len(c.students), order.index(c.task), c.students[0]))
    near.sort(key=lambda m: (-m.best, order.index(m.task), m.group_a[0], m.group_b[0]))
    report = SimilarityReport(tuple(order), tuple(clusters), tuple(near), grouped.loaded)
    shown = _shown_code(report, grouped.groups, store)
    return SimilarityReport(report.task_order, report.clusters, report.near, report.loaded, shown)


# ---------------------------------------------------------------- signatures of the class


@dataclass(frozen=True)
class _Grouped:
    groups: dict[str, list[_Group]]  # per task, its groups of equal normalised code, in order of their first student
    loaded: tuple[str, ...]


def _grouped(
    assignment: Assignment,
    entries: Sequence[tuple[str, str | Path]],
    fingerprints: Mapping[str, str],
    store: SignatureStore,
    loader: Loader,
    context: str,
) -> _Grouped:
    """Each student's signature (read back when its key fits, else computed and stored), put into its groups.

    Only the groups are kept: a signature is dropped once its student is a member, each group holds its
    MinHash once, and equal digests of code as written are one string, so a class of 10,000 copies costs
    little more than a class of 200.
    """
    maker = SignatureMaker(assignment, store, context, loader)
    by_task: dict[str, dict[str, _Group]] = {task.id: {} for task in assignment.tasks}
    written_once: dict[str, str] = {}
    loaded = []
    for student, path in entries:
        key = signature_key(fingerprints[student], context) if student in fingerprints else ""
        signature, made = maker.stored_or_made(student, path, key)
        if made:
            loaded.append(student)
        for task_id, code in signature.tasks:
            groups = by_task.get(task_id)
            if groups is None:
                continue
            group = groups.get(code.digest)
            if group is None:
                groups[code.digest] = group = _Group(code.digest, code.nodes, code.hashes, [])
            group.members.append((student, written_once.setdefault(code.written, code.written)))
    return _Grouped({task: list(groups.values()) for task, groups in by_task.items()}, tuple(loaded))


class SignatureMaker:
    """Computes and stores one student's signature; the template's pieces are loaded once, when first needed.

    The batch makes each graded hand-in's signature as its result arrives, while the grading processes
    go on with the next hand-ins (`make_for`); what is still missing is made when the report is built.
    """

    def __init__(self, assignment: Assignment, store: SignatureStore, context: str, loader: Loader = load) -> None:
        self.assignment = assignment
        self.store = store
        self.context = context
        self.loader = loader
        self._excluded: dict[str, frozenset[str]] | None = None

    def make(self, student: str, path: str | Path, key: str) -> Signature:
        if self._excluded is None:
            template = self.assignment.template
            self._excluded = template_pieces(self.assignment, load("template", template) if template else None)
        submission = self.loader(student, Path(path))
        signature, student_texts = compute(self.assignment, student, submission, self._excluded, key)
        del submission  # one loaded submission alive at a time
        self.store.write(signature, student_texts)
        return signature

    def stored_or_made(self, student: str, path: str | Path, key: str) -> tuple[Signature, bool]:
        """The signature stored under `key`, else one made now (and stored); whether it was made.

        The key "" (a student without a fingerprint) is never looked up: such a signature is made every time.
        """
        stored = self.store.read(student, key) if key else None
        return (stored, False) if stored is not None else (self.make(student, path, key), True)

    def make_for(self, student: str, path: str | Path, fingerprint: str) -> None:
        """Make the signature for this hand-in's fingerprint unless it is stored already."""
        self.stored_or_made(student, path, signature_key(fingerprint, self.context))


def signature_maker(assignment: Assignment, out: Path, write: Writer) -> SignatureMaker:
    """What a grading process needs to store signatures into `out` beside the grades."""
    return SignatureMaker(assignment, SignatureStore(out, write), context_key(assignment))


# ---------------------------------------------------------------- one task


@dataclass
class _Group:
    """The students with one normalised code for a task."""

    digest: str
    nodes: int
    hashes: bytes
    members: list[tuple[str, str]]  # (student, digest of the code as written), in student order

    def written_by(self, student: str) -> str:
        """The digest of the code as this member wrote it."""
        return next(written for member, written in self.members if member == student)

    def writings(self) -> tuple[tuple[str, ...], ...]:
        by_written: dict[str, list[str]] = {}
        for student, written in self.members:
            by_written.setdefault(written, []).append(student)
        return tuple(sorted((tuple(g) for g in by_written.values()), key=lambda g: (-len(g), g[0])))


def _near_matches(task: str, groups: Sequence[_Group], texts: _Ratios) -> list[NearMatch]:
    """Near matches between the task's groups: LSH candidates, a MinHash prefilter, then difflib's ratio."""
    eligible = [g for g in groups if g.nodes >= MIN_NODES_NEAR and g.hashes]
    if len(eligible) < 2:
        return []
    from datasketch import MinHashLSH  # here: it imports scipy, which a rerun with nothing new never needs

    index = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS))
    sketches = [sketch(group.hashes) for group in eligible]
    for i, one in enumerate(sketches):
        index.insert(i, one, check_duplication=False)
    values = np.stack([one.hashvalues for one in sketches])
    found = []
    for i, group in enumerate(eligible):
        later = np.array(sorted(k for k in index.query(sketches[i]) if k > i), dtype=np.intp)
        if not len(later):
            continue
        estimated = (values[later] == values[i]).mean(axis=1)
        for j in later[estimated >= PREFILTER]:
            match = _compare(task, group, eligible[int(j)], texts)
            if match is not None:
                found.append(match)
    return found


def _compare(task: str, a: _Group, b: _Group, texts: _Ratios) -> NearMatch | None:
    """The exact near-match test between two groups, in each direction some pair of their students needs."""
    group_a = tuple(s for s, _ in a.members)
    group_b = tuple(s for s, _ in b.members)
    forward = texts.ratio((group_a[0], a.digest), (group_b[0], b.digest)) if group_a[0] < group_b[-1] else 0.0
    backward = texts.ratio((group_b[0], b.digest), (group_a[0], a.digest)) if group_b[0] < group_a[-1] else 0.0
    if max(forward, backward) < NEAR_RATIO:
        return None
    shown = (a.written_by(group_a[0]), b.written_by(group_b[0]))
    return NearMatch(task, min(a.nodes, b.nodes), group_a, group_b, forward, backward, shown)


class _Ratios:
    """difflib's ratio between two normalised codes, by their digests: computed once, kept for the next run.

    The token streams are read from the store when a ratio is not known yet, the most recent few kept.
    Only the ratios this run asked for are saved back, so the file holds no more than the class needs.
    """

    def __init__(self, store: SignatureStore, size: int = 256) -> None:
        self.store = store
        self.size = size
        self.cache: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self.path = store.root / "ratios.json"
        self.header = f"{RATIOS_FORMAT} {NEAR_RATIO}"
        self.known: dict[str, float] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") == self.header:
                self.known = {str(k): float(v) for k, v in data["ratios"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        self.stored = set(self.known)
        self.used: dict[str, float] = {}

    def ratio(self, a: tuple[str, str], b: tuple[str, str]) -> float:
        """The ratio with a's code first; `a` and `b` are (student, digest of their normalised code)."""
        key = f"{a[1]} {b[1]}"
        if key not in self.known:
            self.known[key] = near_ratio(self.tokens(*a), self.tokens(*b))
        self.used[key] = self.known[key]
        return self.used[key]

    def save(self) -> None:
        """Write the ratios this run used, when they differ from what the file holds."""
        if self.used.keys() != self.stored or not self.path.exists():
            payload = {"format": self.header, "ratios": dict(sorted(self.used.items()))}
            self.store.write_file(self.path, json.dumps(payload))

    def tokens(self, student: str, digest: str) -> tuple[str, ...]:
        if digest in self.cache:
            self.cache.move_to_end(digest)
            return self.cache[digest]
        tokens = tokens_of(self.store.texts(student).normalised.get(digest, ""))
        self.cache[digest] = tokens
        if len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return tokens


def _shown_code(
    report: SimilarityReport, groups: Mapping[str, Sequence[_Group]], store: SignatureStore
) -> dict[tuple[str, str], str]:
    """The code as written of each student whose code the summary shows."""
    wanted: dict[str, set[str]] = {}
    for row in report.summary_rows():
        if row["type"] == "cluster":
            wanted.setdefault(row["shown"], set()).add(row["tasks"][0])
        elif row["type"] == "near":
            for group in row["students"]:
                wanted.setdefault(group[0], set()).add(row["tasks"][0])
    written_of: dict[tuple[str, str], str] = {}
    for task, task_groups in groups.items():
        for group in task_groups:
            for student, written in group.members:
                if task in wanted.get(student, ()):
                    written_of[(student, task)] = written
    code: dict[tuple[str, str], str] = {}
    for student in wanted:
        texts = store.texts(student)
        for task in wanted[student]:
            if (student, task) in written_of:
                code[(student, task)] = texts.written.get(written_of[(student, task)], "")
    return code
