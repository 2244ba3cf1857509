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

import json
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from datasketch import MinHashLSH

from grader.assignment import Assignment
from grader.model import LoadedSubmission
from grader.similarity.normalise import (
    MIN_NODES,
    MIN_NODES_NEAR,
    NEAR_RATIO,
    Kind,
    near_ratio,
    template_pieces,
    tokens_of,
)
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
SHOWN = 50  # clusters, and near matches, drawn in the summary; the rest are in similarity.json
SHOWN_NAMES = 60  # students named in one entry of the summary
RATIOS_FORMAT = 1

Loader = Callable[[str, Path], LoadedSubmission]
_Entry = TypeVar("_Entry", "Cluster", "NearMatch")
Writer = Callable[[Path, str], None]


@dataclass(frozen=True)
class Cluster:
    """Students whose code for a task is the same after normalisation, grouped by how they wrote it."""

    task: str
    nodes: int
    writings: tuple[tuple[str, ...], ...]  # students with byte-identical code, largest group first
    shown: str = ""  # digest of the code as the first of them wrote it: equal across tasks, one summary entry

    @property
    def students(self) -> tuple[str, ...]:
        """Every member, sorted."""
        return tuple(sorted(s for group in self.writings for s in group))

    @property
    def kind(self) -> Kind:
        """`identical` when everyone wrote it byte for byte the same, else `renamed`."""
        return "identical" if len(self.writings) == 1 else "renamed"


@dataclass(frozen=True)
class NearMatch:
    """Two groups of students (each with one normalised code) whose codes for a task are nearly the same."""

    task: str
    nodes: int  # the smaller of the two codes, in AST nodes
    group_a: tuple[str, ...]
    group_b: tuple[str, ...]
    score: float  # the ratio with group_a's code first (0 when not needed or below the bounds)
    score_reverse: float  # with group_b's code first
    shown: tuple[str, str] = ("", "")  # digests of the two codes as written: equal across tasks, one entry

    @property
    def best(self) -> float:
        """The higher of the two directions: what the summary shows."""
        return max(self.score, self.score_reverse)

    def pairs(self) -> Iterator[tuple[str, str, float]]:
        """Each flagged pair of students, the smaller id first, with the ratio in that direction."""
        for a in self.group_a:
            for b in self.group_b:
                first, second, ratio = (a, b, self.score) if a < b else (b, a, self.score_reverse)
                if ratio >= NEAR_RATIO:
                    yield first, second, ratio


@dataclass(frozen=True)
class SimilarityReport:
    """The class's clusters and near matches, and what this run had to load to find them."""

    task_order: tuple[str, ...]
    clusters: tuple[Cluster, ...]  # largest first, then in task order
    near: tuple[NearMatch, ...]  # most alike first
    loaded: tuple[str, ...]  # students whose submission was loaded and parsed (no stored signature fitted)
    code: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (student, task) -> code as written, shown

    def pairs(self) -> list[tuple[str, str, str, Kind, float]]:
        """Every flagged pair as the exact pairwise method lists it: (task, a, b, kind, score), in its order."""
        found: list[tuple[str, str, str, Kind, float]] = []
        for cluster in self.clusters:
            written = {s: i for i, group in enumerate(cluster.writings) for s in group}
            members = cluster.students
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    kind: Kind = "identical" if written[a] == written[b] else "renamed"
                    found.append((cluster.task, a, b, kind, 1.0))
        for match in self.near:
            found.extend((match.task, a, b, "similar", ratio) for a, b, ratio in match.pairs())
        return sorted(found, key=lambda p: (self.task_order.index(p[0]), p[1], p[2]))

    def as_json(self) -> dict[str, Any]:
        """Everything found, for `OUT/similarity.json`."""
        return {
            "clusters": [
                {"task": c.task, "kind": c.kind, "nodes": c.nodes, "students": list(c.students),
                 "written_alike": [list(g) for g in c.writings]}
                for c in self.clusters
            ],
            "near_matches": [
                {"task": m.task, "score": round(m.best, 4), "nodes": m.nodes,
                 "students": [list(m.group_a), list(m.group_b)],
                 "pairs": [[a, b, round(r, 4)] for a, b, r in m.pairs()]}
                for m in self.near
            ],
        }

    def summary_rows(self) -> list[dict[str, Any]]:
        """What the class summary draws: the largest clusters and closest near matches, then how many more.

        Entries that differ only by task (the same students, the same code: tasks that need the same
        functions) are drawn once, naming every task.
        """
        clusters = _by_task(self.clusters, lambda c: (c.students, c.shown or c.task))
        near = _by_task(self.near, lambda m: (m.group_a, m.group_b, m.shown if all(m.shown) else m.task))
        rows: list[dict[str, Any]] = []
        for c, tasks in clusters[:SHOWN]:
            shown = c.writings[0][0]
            rows.append({"type": "cluster", "task": ", ".join(tasks), "tasks": tasks, "kind": c.kind, "nodes": c.nodes,
                         "size": len(c.students), "students": list(c.students[:SHOWN_NAMES]),
                         "more_students": max(0, len(c.students) - SHOWN_NAMES), "writings": len(c.writings),
                         "shown": shown, "code": self.code.get((shown, tasks[0]), "")})
        for m, tasks in near[:SHOWN]:
            rows.append({"type": "near", "task": ", ".join(tasks), "tasks": tasks, "score": round(m.best, 3),
                         "nodes": m.nodes, "students": [list(m.group_a[:SHOWN_NAMES]), list(m.group_b[:SHOWN_NAMES])],
                         "more_students": [max(0, len(g) - SHOWN_NAMES) for g in (m.group_a, m.group_b)],
                         "code": [self.code.get((m.group_a[0], tasks[0]), ""), self.code.get((m.group_b[0], tasks[0]), "")]})
        hidden_clusters, hidden_near = max(0, len(clusters) - SHOWN), max(0, len(near) - SHOWN)
        if hidden_clusters or hidden_near:
            rows.append({"type": "more", "clusters": hidden_clusters, "near": hidden_near, "file": "similarity.json"})
        return rows


def _by_task(entries: Sequence[_Entry], key: Callable[[_Entry], Any]) -> list[tuple[_Entry, list[str]]]:
    """The entries with equal keys merged into the first of them, with the tasks of all, in the entries' order."""
    merged: dict[Any, tuple[_Entry, list[str]]] = {}
    for entry in entries:
        merged.setdefault(key(entry), (entry, []))[1].append(entry.task)
    return list(merged.values())


def similar_code(
    assignment: Assignment,
    entries: Sequence[tuple[str, Path]],
    fingerprints: Mapping[str, str],
    out: Path,
    write: Writer,
    loader: Loader = load,
) -> SimilarityReport:
    """Find the class's clusters and near matches, reusing stored signatures; write `OUT/similarity.json`.

    `entries` are (student, path) as `discover` lists them, `fingerprints` the submission fingerprints
    that decide whether a stored signature still fits; only students without one are loaded (with
    `loader`), one at a time. `write(path, text)` must write atomically (`report.files.write_atomic`).
    """
    store = SignatureStore(out, write)
    store.sweep(s for s, _ in entries)
    signatures = _signatures(assignment, sorted(entries), fingerprints, store, loader)
    clusters: list[Cluster] = []
    near: list[NearMatch] = []
    texts = _Ratios(store)
    for task in assignment.tasks:
        groups = _groups(task.id, signatures.values)
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
    report = SimilarityReport(tuple(order), tuple(clusters), tuple(near), signatures.loaded)
    shown = _shown_code(report, {s.student: s for s in signatures.values}, store)
    report = SimilarityReport(report.task_order, report.clusters, report.near, report.loaded, shown)
    write(out / "similarity.json", json.dumps(report.as_json(), indent=1))
    return report


# ---------------------------------------------------------------- signatures of the class


@dataclass(frozen=True)
class _Signatures:
    values: list[Signature]
    loaded: tuple[str, ...]


def _signatures(
    assignment: Assignment,
    entries: Sequence[tuple[str, Path]],
    fingerprints: Mapping[str, str],
    store: SignatureStore,
    loader: Loader,
) -> _Signatures:
    """Each student's signature: read back when its key fits, else computed from the loaded submission and stored."""
    context = context_key(assignment)
    excluded: dict[str, frozenset[str]] | None = None  # the template's pieces, loaded only when needed
    values = []
    loaded = []
    for student, path in entries:
        # without a fingerprint a student is computed every time: the key "" is never looked up
        key = signature_key(fingerprints[student], context) if student in fingerprints else ""
        signature = store.read(student, key) if key else None
        if signature is None:
            if excluded is None:
                template = assignment.template
                excluded = template_pieces(assignment, load("template", template) if template else None)
            submission = loader(student, path)
            signature, student_texts = compute(assignment, student, submission, excluded, key)
            del submission  # one loaded submission alive at a time
            store.write(signature, student_texts)
            loaded.append(student)
        values.append(signature)
    return _Signatures(values, tuple(loaded))


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


def _groups(task: str, signatures: Sequence[Signature]) -> list[_Group]:
    """The task's groups of equal normalised code, in order of their first student."""
    groups: dict[str, _Group] = {}
    for signature in signatures:
        for task_id, code in signature.tasks:
            if task_id != task:
                continue
            group = groups.get(code.digest)
            if group is None:
                groups[code.digest] = group = _Group(code.digest, code.nodes, code.hashes, [])
            group.members.append((signature.student, code.written))
    return list(groups.values())


def _near_matches(task: str, groups: Sequence[_Group], texts: _Ratios) -> list[NearMatch]:
    """Near matches between the task's groups: LSH candidates, a MinHash prefilter, then difflib's ratio."""
    eligible = [g for g in groups if g.nodes >= MIN_NODES_NEAR and g.hashes]
    if len(eligible) < 2:
        return []
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
    report: SimilarityReport, signatures: Mapping[str, Signature], store: SignatureStore
) -> dict[tuple[str, str], str]:
    """The code as written of each student whose code the summary shows."""
    wanted: dict[str, set[str]] = {}
    for row in report.summary_rows():
        if row["type"] == "cluster":
            wanted.setdefault(row["shown"], set()).add(row["tasks"][0])
        elif row["type"] == "near":
            for group in row["students"]:
                wanted.setdefault(group[0], set()).add(row["tasks"][0])
    code: dict[tuple[str, str], str] = {}
    for student in wanted:
        written_of = dict(signatures[student].tasks)
        texts = store.texts(student)
        for task in wanted[student]:
            if task in written_of:
                code[(student, task)] = texts.written.get(written_of[task].written, "")
    return code
