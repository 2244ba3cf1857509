"""Grades out: Canvas's gradebook CSV and Moodle's grade import CSV as their documentation describes them.

Canvas (Grades > Import, "gradebook CSV"): header `Student,ID,SIS User ID,SIS Login ID,Section` then one
column per assignment (`Name (assignment id)` for an existing one); the second row `Points Possible`;
rows matched by the Canvas user id. Moodle (Grades > Import > CSV file): a header row, an identifier
column to map (e-mail address, ID number), one column per grade item, optional feedback.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from conftest import run_cli

from grader.lms import ExportOptions, export
from grader.lms_import import read_roster


def result(student: str, score: float | None, status: str = "graded", comment: str = "") -> dict:
    written = {"name": "written answer q1", "visibility": "public", "passed": False, "score": 1 if comment else 0,
               "max_score": 2, "message": "", "diagnoses": []}
    if comment:
        written.update(reviewed=True, review_comment=comment, auto_score=0)
    task_a = 0 if score is None else score - 1
    return {"student": student, "assignment": "demo", "status": status, "score": score, "max_score": 10,
            "tasks": [{"id": "1a", "title": "A", "score": task_a, "max_score": 8, "tests": [written]},
                      {"id": "1b", "title": "B", "score": 1, "max_score": 2, "tests": []}],
            "errors": []}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "grades"
    results = [result("12345", 9.5, comment="right idea"), result("23456", 4), result("=cmd|' /C calc'!A0", 3),
               result("34567", None, status="error")]
    for r in results:
        (folder / r["student"]).mkdir(parents=True)
        (folder / r["student"] / "result.json").write_text(json.dumps(r))
    (folder / ".class.json").write_text(json.dumps({"title": "Homework 3", "task_ids": ["1a", "1b"],
                                                    "students": [r["student"] for r in results]}))
    return folder


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_canvas_gradebook_csv_has_its_header_rows_and_one_row_per_student(out, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n\"Doe, Jane\",12345,S1,jdoe,Section A\n")
    done = run_cli("export", str(out), "--format", "canvas", "--roster", str(roster), "--canvas-id", "777", "--per-task")
    assert done.returncode == 0, done.stderr
    table = rows((out / "export-canvas.csv").read_text())
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Homework 3 (777)",
                        "Homework 3: task 1a", "Homework 3: task 1b"]
    assert table[1] == ["Points Possible", "", "", "", "", "10", "8", "2"]
    by_id = {row[1]: row for row in table[2:]}
    assert by_id["12345"] == ["Doe, Jane", "12345", "S1", "jdoe", "Section A", "9.5", "8.5", "1"]
    assert by_id["23456"][0] == "23456" and by_id["23456"][5] == "4"
    assert by_id["34567"][5] == ""  # the grader failed on them: no points decided, nothing imported
    injected = next(row for row in table[2:] if "calc" in row[0])
    assert injected[0].startswith("'=")  # a spreadsheet will not run it
    assert len({len(row) for row in table}) == 1


def test_moodle_grade_import_csv_has_identifiers_a_grade_and_feedback(out, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Full name,Email address,Participant,ID number\nJane Doe,jane@x.edu,12345,A-1\n")
    text = export(out, "moodle", read_roster(roster))
    table = rows(text)
    assert table[0] == ["Full name", "Email address", "ID number", "Participant", "Homework 3", "Feedback comments"]
    jane = next(row for row in table[1:] if row[3] == "12345")
    assert jane[:5] == ["Jane Doe", "jane@x.edu", "A-1", "12345", "9.5"]
    assert "right idea" in jane[5] and jane[5].startswith("9.5 / 10")
    error = next(row for row in table[1:] if row[3] == "34567")
    assert error[4] == "" and error[5] == "not graded yet"
    assert len(table) == 5 and all(len(row) == 6 for row in table)


def test_plain_csv_has_percent_and_tasks(out):
    table = rows(export(out, "csv", {}, ExportOptions(per_task=True)))
    assert table[0] == ["student", "name", "email", "score", "max_score", "percent", "status", "1a", "1b"]
    row = next(r for r in table if r[0] == "23456")
    assert row[3:] == ["4", "10", "40.0", "graded", "3", "1"]


def test_an_empty_output_folder_is_a_usage_error(tmp_path):
    done = run_cli("export", str(tmp_path), "--format", "canvas")
    assert done.returncode == 2 and "grade" in done.stderr
