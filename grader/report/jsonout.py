"""`result.json` exactly as the contract's schema: nothing more, nothing less, stable key order."""

from __future__ import annotations

import json
from typing import Any

from grader.model import StudentResult, TaskResult, TestResult
from grader.scoring import shown


def result_dict(result: StudentResult) -> dict[str, Any]:
    """The contract's result.json object for one student.

    Optional keys appear only when they apply: `held` (points awaiting review) on a task and
    at the top, `verdict` (`error`, `needs_review`) on a test. A student in `error` has
    `"score": null`: no points were decided for them.
    """
    out: dict[str, Any] = {
        "student": result.student,
        "assignment": result.assignment,
        "status": result.status,
        "score": None if result.status == "error" else shown(result.score),
        "max_score": shown(result.max_score),
    }
    if result.held:
        out["held"] = shown(result.held)
    out["tasks"] = [_task_dict(task) for task in result.tasks]
    out["errors"] = list(result.errors)
    return out


def _task_dict(task: TaskResult) -> dict[str, Any]:
    out: dict[str, Any] = {"id": task.id, "title": task.title, "score": shown(task.score),
                           "max_score": shown(task.max_score)}
    if task.held:
        out["held"] = shown(task.held)
    out["tests"] = [_test_dict(test) for test in task.tests]
    return out


def _test_dict(test: TestResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": test.name,
        "visibility": test.visibility,
        "passed": test.passed,
        "score": shown(test.score),
        "max_score": shown(test.max_score),
        "message": test.message,
        "diagnoses": [d.value for d in test.diagnoses],
    }
    if test.verdict is not None:
        out["verdict"] = test.verdict
    return out


def result_json(result: StudentResult) -> str:
    """Serialised with a fixed layout, so that the same grade is the same bytes."""
    return json.dumps(result_dict(result), indent=2, ensure_ascii=False) + "\n"
