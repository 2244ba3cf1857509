"""The review page's view of an output folder: equivalent answers in one group (the grader's own
equivalence), code failures by cause, the queue's order, stale reviews, and only the current class."""

from __future__ import annotations

import json
from pathlib import Path

from grader.model import Diagnosis, Record, StudentResult, TaskResult, TestResult
from grader.report.stored import Stored, stored_json
from grader.review.board import FAILED_WRITTEN, NEEDS_REVIEW, REST, load_board
from grader.reviews import Review, save_reviews

TOML = r'''schema_version = 1
id = "course"
title = "Course"
total_points = 4

[[tasks]]
id = "t"
title = "T"
points = 2
needs = []

[[questions]]
id = "1.4"
task = "t"
kind = "expression"
points = 2
expected = '(\psi - \Delta)/N'
symbols = { psi = ['\psi'], Delta = ['\Delta'], N = ['N'] }
'''


def written(latex: str | None, passed: bool, verdict: str | None = None) -> TestResult:
    records = (Record("math", "what was read", {"latex": latex}),) if latex else ()
    return TestResult("written answer 1.4", "public", passed, 2.0 if passed else 0.0, 2.0,
                      "" if passed else "not equivalent", () if passed else (Diagnosis.WRONG_ANSWER,),
                      records=records, verdict=verdict)  # type: ignore[arg-type]


def code(message: str) -> TestResult:
    passed = not message
    return TestResult("fit", "public", passed, 2.0 if passed else 0.0, 2.0, message,
                      () if passed else (Diagnosis.SCALED,))


def class_folder(root: Path) -> Path:
    assignment = root / "course"
    assignment.mkdir(parents=True)
    (assignment / "assignment.toml").write_text(TOML)
    out = root / "grades"
    answers = {
        "ann": (r"\frac{1}{N}(\psi - \Delta)", True, "", None),
        "bob": (r"(\psi - \Delta)/N", True, "the result is 30.0 times the right one", None),
        "cat": (r"\frac{\psi - \Delta}{N}", True, "the result is 12.5 times the right one", None),
        "dan": (r"(\psi + \Delta)/N", False, "", None),
        "eve": (None, False, "", "needs_review"),
    }
    for student, (latex, passed, message, verdict) in answers.items():
        tests = (code(message), written(latex, passed, verdict))
        result = StudentResult(student, "course", "graded", 0.0, 4.0, (TaskResult("t", "T", 0.0, 4.0, tests),))
        (out / student).mkdir(parents=True)
        (out / student / ".review.json").write_text(
            stored_json(Stored(result, f"print-{student}", "Course", str(assignment), False, False)))
    (out / "gone").mkdir()  # a student of an earlier run, no longer handed in
    (out / "gone" / ".review.json").write_text((out / "ann" / ".review.json").read_text().replace('"ann"', '"gone"'))
    (out / ".class.json").write_text(json.dumps({"students": sorted(answers)}))
    return out


def test_equivalent_answers_are_one_group_however_they_are_written(tmp_path):
    board = load_board(class_folder(tmp_path))
    groups = board.groups("t", "written answer 1.4")
    members = [sorted(i.student for i in g.items) for g in groups]
    assert sorted(members) == [["ann", "bob", "cat"], ["dan"], ["eve"]]
    right = next(g for g in groups if len(g.items) == 3)
    assert right.latex  # drawn as math


def test_code_failures_are_grouped_by_diagnosis_and_message_numbers_aside(tmp_path):
    groups = load_board(class_folder(tmp_path)).groups("t", "fit")
    assert sorted(sorted(i.student for i in g.items) for g in groups) == [["ann", "dan", "eve"], ["bob", "cat"]]


def test_the_queue_puts_needs_review_first_then_failed_written_answers(tmp_path):
    board = load_board(class_folder(tmp_path))
    categories = {i.student: i.category for i in board.items if i.test == "written answer 1.4"}
    assert categories == {"ann": REST, "bob": REST, "cat": REST, "dan": FAILED_WRITTEN, "eve": NEEDS_REVIEW}
    assert board.rows()[0].test == "written answer 1.4" and board.to_review == 2 and board.pending == 2
    groups = board.groups("t", "written answer 1.4")
    assert [i.student for i in groups[0].items] == ["eve"]  # the undecided group first


def test_a_review_counts_until_the_hand_in_changes_and_only_current_students_show(tmp_path):
    out = class_folder(tmp_path)
    save_reviews(out, [Review("dan", "t", "written answer 1.4", 1.0, "half", "2026-11-30T08:00:00Z", "print-dan"),
                       Review("eve", "t", "written answer 1.4", 2.0, "", "2026-11-30T08:00:00Z", "an-old-print")])
    board = load_board(out)
    items = {i.student: i for i in board.items if i.test == "written answer 1.4"}
    assert items["dan"].reviewed and not items["dan"].stale
    assert items["eve"].stale and not items["eve"].reviewed
    assert board.pending == 1
    assert "gone" not in board.students and board.students == ["ann", "bob", "cat", "dan", "eve"]
