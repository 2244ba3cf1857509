"""What the similarity report needs of one student, kept in the output folder so a rerun reads it back.

A student's signature holds, per task, the hash of their normalised code (equal hashes are the
exact matches), the hash of the code as written (byte-identical or only renamed), its size in AST
nodes, and a MinHash of the bag of its normalised token trigrams (only when the code is large enough
for a near match). The texts themselves (normalised and as written, compressed) go to a second file that
is read only for the few students a comparison or the summary needs.

    OUT/.similarity/signatures/STUDENT.json   small: read for every student on every run
    OUT/.similarity/code/STUDENT.json         the texts: read on demand

Both are written atomically (by the writer the caller passes: `grader.report.files.write_atomic`, which
sits in a layer above this one) and carry a key made of the submission's fingerprint and of everything
else the signature depends on (this format, the template's code, the tasks' needs), so a student whose
submission did not change is neither loaded nor parsed again, and any other change recomputes it.

Why trigrams: a bag of single tokens would give a hard bound (difflib's `ratio` never exceeds its
`quick_ratio`, the Dice coefficient of the token multisets, so a near match has a multiset Jaccard of at
least 0.905), but normalised code shares its vocabulary (`v0`, `np`, `self`, brackets): two unrelated
solutions score 0.7 and nearly every pair would be a candidate. Trigrams separate them (unrelated code
about 0.3, a copy with a line or two changed 0.83 or more), and still bound a near match from below:
each of the matching blocks difflib finds keeps its inner trigrams, which makes the trigram Jaccard of
any pair with ratio >= 0.95 at least about 0.6 (reached only with a dozen one-token edits scattered
through the code; see the recall figures in `grader.similarity.index`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.assignment import Assignment
from grader.extract import index_files
from grader.model import LoadedSubmission
from grader.similarity.normalise import MIN_NODES_NEAR, Normalised, normalise_task

FORMAT = 2
SHINGLE = 3
NUM_PERM = 128
SEED = 1
SCHEME = "affine32"


@dataclass(frozen=True)
class TaskSignature:
    """One student's code for one task, reduced to what finding matches needs."""

    digest: str  # sha256 of the normalised code: equal digests are exact matches
    written: str  # sha256 of the code as written: equal means byte for byte the same
    nodes: int
    hashes: bytes  # NUM_PERM little-endian uint32 MinHash values of the token trigrams; empty below MIN_NODES_NEAR


@dataclass(frozen=True)
class Signature:
    """One student's signatures, task by task (a task without code of their own is absent)."""

    student: str
    key: str
    tasks: tuple[tuple[str, TaskSignature], ...]


@dataclass(frozen=True)
class Texts:
    """One student's normalised and written code, by digest (tasks often share the same code)."""

    normalised: Mapping[str, str]
    written: Mapping[str, str]


def context_key(assignment: Assignment) -> str:
    """What a signature depends on besides the submission: this format, the tasks' needs, the template's files."""
    digest = hashlib.sha256(f"{FORMAT} {NUM_PERM} {SEED} {SCHEME} {MIN_NODES_NEAR}".encode())
    digest.update(json.dumps([[t.id, list(t.needs)] for t in assignment.tasks]).encode())
    digest.update(json.dumps(sorted(assignment.inject)).encode())
    template = assignment.template
    if template is not None:
        files = sorted(p for p in template.rglob("*") if p.is_file()) if template.is_dir() else [template]
        for path in files:
            digest.update(str(path.relative_to(template.parent)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"missing")
    return digest.hexdigest()


def signature_key(fingerprint: str, context: str) -> str:
    """The key a stored signature must carry to be used for this submission."""
    return hashlib.sha256(f"{fingerprint}\n{context}".encode()).hexdigest()


def compute(
    assignment: Assignment, student: str, loaded: LoadedSubmission, excluded: Mapping[str, frozenset[str]], key: str
) -> tuple[Signature, Texts]:
    """The signature and texts of one loaded submission."""
    tasks = []
    normalised: dict[str, str] = {}
    written: dict[str, str] = {}
    by_needs: dict[tuple[tuple[str, ...], frozenset[str]], Normalised | None] = {}
    index = index_files(loaded.files) if loaded.readable else None  # parsed once for every task
    for task in assignment.tasks:
        removed = excluded.get(task.id, frozenset())
        if (task.needs, removed) not in by_needs:  # tasks with the same needs have the same code
            by_needs[(task.needs, removed)] = normalise_task(assignment, task, student, loaded, removed, index)
        code = by_needs[(task.needs, removed)]
        if code is None:
            continue
        raw_digest = hashlib.sha256(code.written.encode()).hexdigest()
        hashes = shingle_minhash(code.tokens) if code.nodes >= MIN_NODES_NEAR else b""
        tasks.append((task.id, TaskSignature(code.digest, raw_digest, code.nodes, hashes)))
        normalised[code.digest] = code.text
        written[raw_digest] = code.raw
    return Signature(student, key, tuple(tasks)), Texts(normalised, written)


def sketch(hashes: bytes) -> Any:
    """A stored MinHash, ready for the LSH index."""
    from datasketch import (
        LeanMinHash,  # here: datasketch imports scipy, which a rerun with nothing new never needs
    )

    return LeanMinHash(seed=SEED, hashvalues=np.frombuffer(hashes, dtype="<u4"), scheme=SCHEME)


def shingles(tokens: Sequence[str]) -> list[str]:
    """The multiset of token trigrams, each tagged with how many times it came before (a set, for MinHash)."""
    seen: Counter[str] = Counter()
    tagged = []
    for i in range(max(1, len(tokens) - SHINGLE + 1)):
        gram = " ".join(tokens[i : i + SHINGLE])
        tagged.append(f"{gram}\x1f{seen[gram]}")
        seen[gram] += 1
    return tagged


def shingle_minhash(tokens: Sequence[str]) -> bytes:
    """MinHash of the tagged trigrams of a token stream: NUM_PERM little-endian uint32 values."""
    from datasketch import MinHash

    tagged = [s.encode() for s in shingles(tokens)]
    sketch = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    sketch.update_batch(tagged)
    return np.asarray(sketch.hashvalues, dtype="<u4").tobytes()


class SignatureStore:
    """The signatures and texts of a class in `OUT/.similarity/`."""

    def __init__(self, out: Path, write: Callable[[Path, str], None]) -> None:
        self.write_file = write
        self.root = out / ".similarity"
        self.signatures = self.root / "signatures"
        self.code = self.root / "code"

    def sweep(self, students: Iterable[str]) -> None:
        """Drop what a killed run left half written, and the files of students no longer in the class."""
        keep = set(students)
        for path in self.root.glob(".*.part"):
            path.unlink(missing_ok=True)
        for folder in (self.signatures, self.code):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.name.endswith(".part") or (path.suffix == ".json" and path.stem not in keep):
                    path.unlink(missing_ok=True)

    def read(self, student: str, key: str) -> Signature | None:
        """The stored signature when it was made for this key; None when missing, stale or unreadable."""
        try:
            data = json.loads((self.signatures / f"{student}.json").read_text(encoding="utf-8"))
            if data.get("key") != key or not (self.code / f"{student}.json").is_file():
                return None
            tasks = tuple(
                (task, TaskSignature(t["digest"], t["written"], int(t["nodes"]), base64.b64decode(t["minhash"])))
                for task, t in data["tasks"].items()
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if any(len(t.hashes) not in (0, 4 * NUM_PERM) for _, t in tasks):
            return None
        return Signature(student, key, tasks)

    def write(self, signature: Signature, texts: Texts) -> None:
        """Store the texts, then the signature (read back only when both are there)."""
        code = {
            "normalised": {d: _pack(t) for d, t in texts.normalised.items()},
            "written": {d: _pack(t) for d, t in texts.written.items()},
        }
        self.write_file(self.code / f"{signature.student}.json", json.dumps(code, sort_keys=True))
        tasks = {
            task: {"digest": t.digest, "written": t.written, "nodes": t.nodes,
                   "minhash": base64.b64encode(t.hashes).decode()}
            for task, t in signature.tasks
        }
        payload = {"format": FORMAT, "student": signature.student, "key": signature.key, "tasks": tasks}
        self.write_file(self.signatures / f"{signature.student}.json", json.dumps(payload, sort_keys=True))

    def texts(self, student: str) -> Texts:
        """The student's stored texts (empty when they cannot be read)."""
        try:
            data = json.loads((self.code / f"{student}.json").read_text(encoding="utf-8"))
            return Texts(
                {d: _unpack(t) for d, t in data["normalised"].items()},
                {d: _unpack(t) for d, t in data["written"].items()},
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError, zlib.error):
            return Texts({}, {})


def _pack(text: str) -> str:
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode()


def _unpack(packed: str) -> str:
    return zlib.decompress(base64.b64decode(packed)).decode("utf-8")
