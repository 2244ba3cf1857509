"""`result.json` exactly as the contract's schema: nothing more, nothing less, stable key order."""

from __future__ import annotations

import json
from typing import Any

from grader.model import StudentResult


def result_dict(result: StudentResult) -> dict[str, Any]:
    """The contract's result.json object for one student."""
    return {
        "student": result.student,
        "assignment": result.assignment,
        "status": result.status,
        "score": result.score,
        "max_score": result.max_score,
        "tasks": [
            {
                "id": task.id,
                "title": task.title,
                "score": task.score,
                "max_score": task.max_score,
                "tests": [
                    {
                        "name": test.name,
                        "visibility": test.visibility,
                        "passed": test.passed,
                        "score": test.score,
                        "max_score": test.max_score,
                        "message": test.message,
                        "diagnoses": [d.value for d in test.diagnoses],
                    }
                    for test in task.tests
                ],
            }
            for task in result.tasks
        ],
        "errors": list(result.errors),
    }


def result_json(result: StudentResult) -> str:
    """Serialised with a fixed layout, so that the same grade is the same bytes."""
    return json.dumps(result_dict(result), indent=2, ensure_ascii=False) + "\n"
