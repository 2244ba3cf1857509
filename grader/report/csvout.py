"""`gradebook.csv`: one row per student, the contract's columns in the contract's order."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any


def gradebook_csv(task_ids: Sequence[str], results: Sequence[dict[str, Any]]) -> str:
    """Columns student, score, max_score, one per task id in assignment order, status."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", *task_ids, "status"])
    for result in sorted(results, key=lambda r: r["student"]):
        scores = {task["id"]: task["score"] for task in result["tasks"]}
        writer.writerow([result["student"], result["score"], result["max_score"],
                         *(scores.get(t, 0) for t in task_ids), result["status"]])
    return out.getvalue()
