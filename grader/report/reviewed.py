"""The marks an instructor's review leaves on the machine-readable outputs: result.json, Gradescope, gradebook.

Each takes what the plain writer produces for the already-reviewed result and adds, for a reviewed
test only, that it was reviewed by the instructor, the comment and the grader's own points. Without
reviews every output is byte for byte what the plain writer gives.

result.json, per reviewed test (optional keys): `"reviewed": true`, `"review_comment": "..."`,
`"auto_score": <the grader's points before the review>`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from grader.model import StudentResult
from grader.report.csvout import gradebook_csv
from grader.report.gradescope import gradescope_dict
from grader.report.jsonout import result_dict

REVIEWED_BY = "Reviewed by the instructor"


def _by_test(applied: Sequence[Any]) -> dict[tuple[str, str], Any]:
    return {(a.task, a.test): a for a in applied}


def reviewed_result_json(result: StudentResult, applied: Sequence[Any]) -> str:
    """result.json with the optional review keys on each reviewed test."""
    data = result_dict(result)
    marks = _by_test(applied)
    for task in data["tasks"]:
        for test in task["tests"]:
            mark = marks.get((task["id"], test["name"]))
            if mark is not None:
                test["reviewed"] = True
                test["review_comment"] = mark.comment
                test["auto_score"] = _number(mark.auto_score)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def reviewed_gradescope_json(result: StudentResult, applied: Sequence[Any]) -> str:
    """Gradescope's results.json whose reviewed tests say so, with the comment, in their output."""
    data = gradescope_dict(result)
    marks = {f"{a.task}: {a.test}": a for a in applied}
    for test in data["tests"]:
        mark = marks.get(test["name"])
        if mark is not None:
            note = f"{REVIEWED_BY}: {_number(mark.points)} / {_number(test['max_score'])}"
            note += f". {mark.comment}" if mark.comment else ""
            test["output"] = note + ("\n" + test["output"] if test["output"] else "")
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def reviewed_gradebook_csv(task_ids: Sequence[str], results: Sequence[Mapping[str, Any]]) -> str:
    """The gradebook, with a last column `reviewed` (what the instructor reviewed, with comments) once any review applies."""
    text = gradebook_csv(task_ids, results)
    notes = {r["student"]: _notes(r) for r in results}
    if not any(notes.values()):
        return text
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*rows[0], "reviewed"])
    for row in rows[1:]:
        writer.writerow([*row, notes.get(row[0], "")])
    return out.getvalue()


def _notes(result: Mapping[str, Any]) -> str:
    parts = []
    for task in result["tasks"]:
        for test in task["tests"]:
            if test.get("reviewed"):
                comment = f": {test['review_comment']}" if test.get("review_comment") else ""
                parts.append(f"{task['id']} {test['name']} {_number(test['score'])}/{_number(test['max_score'])}{comment}")
    return "; ".join(parts)


def _number(value: Any) -> Any:
    if isinstance(value, float) and value == int(value):
        return int(value)
    return round(value, 6) if isinstance(value, float) else value
