"""Gradescope's autograder `results.json` for one student.

The format (https://gradescope-autograders.readthedocs.io/en/latest/specs/): a top-level `score`
(which, when given, is the autograder score), `output`, `execution_time` (seconds),
`visibility` and `stdout_visibility`, and `tests`, each with `name`, `score`, `max_score`,
`status` (`passed` or `failed`), `output` and `visibility`, one of `visible`, `hidden`,
`after_due_date` and `after_published`.

Public tests are `visible`. Hidden tests are `after_published`: students see their name and
points once the instructor publishes the grades, never before, and their `output` is always
empty (no message, no diagnosis), as in the feedback report. `stdout_visibility` is `hidden`:
the grader's own log is for the instructor. The top-level score is the sum of the tests' scores,
so the two never disagree.
"""

from __future__ import annotations

import json
from typing import Any

from grader.model import StudentResult
from grader.scoring import shown

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def gradescope_dict(result: StudentResult) -> dict[str, Any]:
    """Score, and per test its name, score, max_score, status, visibility and output, as Gradescope reads them."""
    tests: list[dict[str, Any]] = []
    for task in result.tasks:
        for test in task.tests:
            hidden = test.visibility == "hidden"
            output = ""
            if not hidden:
                lines = [test.message] if test.message else []
                if test.diagnoses:
                    lines.append("diagnosis: " + ", ".join(d.value for d in test.diagnoses))
                output = "\n".join(lines)
            tests.append({
                "name": f"{task.id}: {test.name}",
                "number": task.id,
                "score": shown(test.score),
                "max_score": shown(test.max_score),
                "status": "passed" if test.passed else "failed",
                "visibility": "after_published" if hidden else "visible",
                "output": output,
            })
    return {
        "score": shown(result.score),
        "execution_time": round(result.seconds),
        "output": _overall_output(result),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def _overall_output(result: StudentResult) -> str:
    """What concerns the whole submission: why it could not be read, or what of it was not."""
    lines = []
    if result.status == "unreadable":
        lines.append("Your submission could not be read, so every task scores 0.")
    if result.status == "error":
        lines.append("The grader failed on this submission (not your code); it will be graded again.")
    lines.extend(result.errors)
    if result.held:
        lines.append(f"{shown(result.held):g} points await the instructor's review.")
    lines.append(f"Autograder score: {shown(result.score):g} / {shown(result.max_score):g}")
    return "\n".join(lines)


def gradescope_json(result: StudentResult) -> str:
    """`gradescope_dict` as the text of a results.json file."""
    return json.dumps(gradescope_dict(result), indent=2, ensure_ascii=False) + "\n"
