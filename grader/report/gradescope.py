"""Gradescope's autograder `results.json` for one student."""

from __future__ import annotations

import json
from typing import Any

from grader.model import StudentResult


def gradescope_dict(result: StudentResult) -> dict[str, Any]:
    """Score, and per test its name, score, max_score, visibility and output, as Gradescope reads them."""
    tests = []
    for task in result.tasks:
        for test in task.tests:
            hidden = test.visibility == "hidden"
            output = "" if hidden else test.message
            if test.diagnoses and not hidden:
                output = (output + "\n" if output else "") + "diagnosis: " + ", ".join(d.value for d in test.diagnoses)
            tests.append({
                "name": f"{task.id}: {test.name}",
                "score": test.score,
                "max_score": test.max_score,
                "status": "passed" if test.passed else "failed",
                "visibility": "after_published" if hidden else "visible",
                "output": output,
            })
    return {
        "score": result.score,
        "output": "; ".join(result.errors),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def gradescope_json(result: StudentResult) -> str:
    return json.dumps(gradescope_dict(result), indent=2, ensure_ascii=False) + "\n"
