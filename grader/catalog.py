"""Which assignment a command means: by id, by path, or guessed from the hand-in itself."""

from __future__ import annotations

import os
import re
from pathlib import Path

from grader.assignment import Assignment, load_assignment
from grader.errors import UsageError
from grader.model import LoadedSubmission


def assignment_roots() -> tuple[Path, ...]:
    """Where assignment folders are looked for: $GRADER_ASSIGNMENTS, ./assignments, the checkout's."""
    roots = []
    if os.environ.get("GRADER_ASSIGNMENTS"):
        roots.append(Path(os.environ["GRADER_ASSIGNMENTS"]))
    roots.append(Path.cwd() / "assignments")
    roots.append(Path(__file__).resolve().parent.parent / "assignments")
    return tuple(dict.fromkeys(r.resolve() for r in roots if r.is_dir()))


def find_assignment(spec: str) -> Assignment:
    """`spec` is an assignment id (a folder under an assignments root) or a path to a folder."""
    path = Path(spec)
    if (path / "assignment.toml").is_file():
        return load_assignment(path)
    for root in assignment_roots():
        if (root / spec / "assignment.toml").is_file():
            return load_assignment(root / spec)
    known = sorted({p.name for r in assignment_roots() for p in r.iterdir() if (p / "assignment.toml").is_file()})
    raise UsageError(f"no assignment {spec!r}; known: {', '.join(known) or 'none'} (or give a folder path)")


def all_assignments() -> tuple[Assignment, ...]:
    """Every assignment found in the roots, by id."""
    found: dict[str, Assignment] = {}
    for root in assignment_roots():
        for folder in sorted(root.iterdir()):
            if (folder / "assignment.toml").is_file() and folder.name not in found:
                found[folder.name] = load_assignment(folder)
    return tuple(found.values())


def guess_assignment(submissions: list[LoadedSubmission]) -> Assignment:
    """From notebook metadata, else from which assignment's names the hand-ins define; stop if unsure."""
    candidates = all_assignments()
    by_id = {a.id: a for a in candidates}
    named = {f.metadata_assignment for s in submissions for f in s.files if f.metadata_assignment}
    if len(named) == 1 and next(iter(named)) in by_id:
        return by_id[next(iter(named))]
    defined = _defined_names(submissions)
    scores = {a.id: len({n.split(":")[-1] for n in a.needs} & defined) for a in candidates}
    best = max(scores.values(), default=0)
    winners = [i for i, s in scores.items() if s == best and s > 0]
    if len(winners) != 1:
        detail = ", ".join(f"{i} ({s} names)" for i, s in sorted(scores.items())) or "no assignments found"
        raise UsageError(f"cannot tell which assignment this is ({detail}); name it with -a ASSIGNMENT")
    return by_id[winners[0]]


def _defined_names(submissions: list[LoadedSubmission]) -> set[str]:
    pattern = re.compile(r"^(?:def|class)\s+(\w+)|^(\w+)\s*=", re.MULTILINE)
    names: set[str] = set()
    for submission in submissions:
        for file in submission.files:
            for cell in file.cells:
                if cell.kind == "code":
                    names.update(a or b for a, b in pattern.findall(cell.source))
    return names
