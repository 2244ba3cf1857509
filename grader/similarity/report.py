"""What the similarity report found: clusters of identical code, near matches, and how the summary draws them.

`OUT/similarity.json` lists everything; the class summary draws the largest `SHOWN` clusters and
closest `SHOWN` near matches and says how many more there are. The whole report is also kept in
`OUT/.similarity/report.json` with the key of the class it was made for, so a rerun on an unchanged
class reads it back instead of recomputing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from grader.similarity.normalise import NEAR_RATIO, Kind

SHOWN = 50  # clusters, and near matches, drawn in the summary; the rest are in similarity.json
SHOWN_NAMES = 60  # students named in one entry of the summary

_Entry = TypeVar("_Entry", "Cluster", "NearMatch")


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

    def stored(self) -> dict[str, Any]:
        """The whole report as plain data, to be read back by `from_stored` (the shown code included)."""
        return {
            "task_order": list(self.task_order),
            "clusters": [[c.task, c.nodes, [list(g) for g in c.writings], c.shown] for c in self.clusters],
            "near": [[m.task, m.nodes, list(m.group_a), list(m.group_b), m.score, m.score_reverse, list(m.shown)]
                     for m in self.near],
            "code": [[student, task, code] for (student, task), code in sorted(self.code.items())],
        }

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> SimilarityReport:
        """A report written by `stored`; nothing was loaded to make it."""
        clusters = tuple(Cluster(t, int(n), tuple(tuple(g) for g in w), s) for t, n, w, s in data["clusters"])
        near = tuple(
            NearMatch(t, int(n), tuple(a), tuple(b), float(f), float(r), (shown[0], shown[1]))
            for t, n, a, b, f, r, shown in data["near"]
        )
        code = {(student, task): text for student, task, text in data["code"]}
        return cls(tuple(data["task_order"]), clusters, near, (), code)


def _by_task(entries: Sequence[_Entry], key: Callable[[_Entry], Any]) -> list[tuple[_Entry, list[str]]]:
    """The entries with equal keys merged into the first of them, with the tasks of all, in the entries' order."""
    merged: dict[Any, tuple[_Entry, list[str]]] = {}
    for entry in entries:
        merged.setdefault(key(entry), (entry, []))[1].append(entry.task)
    return list(merged.values())
