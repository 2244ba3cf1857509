"""`gradebook.csv`: one row per student, the contract's columns in the contract's order.

Columns: `student`, `score`, `max_score`, one per task id in assignment order, `status`; then, only
when some student has points held for review, `needs_review`: the tasks whose points await an
instructor's review (`1a;1b`). A student in `error` has an empty score: no points were decided.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any


def gradebook_csv(task_ids: Sequence[str], results: Sequence[Mapping[str, Any]]) -> str:
    """Columns student, score, max_score, one per task id in assignment order, status (and needs_review)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    held = any(task.get("held") for result in results for task in result["tasks"])
    writer.writerow(["student", "score", "max_score", *task_ids, "status", *(["needs_review"] if held else [])])
    for result in sorted(results, key=lambda r: r["student"]):
        scores = {task["id"]: task["score"] for task in result["tasks"]}
        decided = result["status"] != "error"
        review = [";".join(task["id"] for task in result["tasks"] if task.get("held"))] if held else []
        writer.writerow([result["student"], result["score"] if decided else "", result["max_score"],
                         *(scores.get(t, 0) if decided else "" for t in task_ids), result["status"], *review])
    return out.getvalue()
