"""LMS submission exports in: Canvas, Moodle and Gradescope zips (built here in each LMS's layout) become a
submissions folder whose students the real `grade` command grades under the right ids."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import run_cli
from nbbuild import code, md, notebook
from review_class import GOOD, REVIEW

from grader.errors import UsageError
from grader.lms_import import detect_layout, import_export, read_roster

WRONG = GOOD.replace(" / len(y)", "").replace('"(w*x - y)*x"', '"w*x - y"')  # loses the gradient's 6 and q1's 2


def notebook_bytes(source: str) -> bytes:
    return nbformat.writes(notebook(md("# Homework"), code(source))).encode()


def build_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def canvas_zip(path: Path) -> Path:
    return build_zip(path, {
        "doejane_12345_6781_homework.ipynb": notebook_bytes(GOOD),
        "smith_john_late_23456_6782_homework-1.py": WRONG.encode(),  # late, and handed in twice (Canvas adds -1)
        "leeann_34567_6783_solution.py": GOOD.encode(),
        "leeann_34567_6784_notes.txt": b"my notes",
    })


def moodle_zip(path: Path) -> Path:
    return build_zip(path, {
        "Jane Doe_101_assignsubmission_file_/homework.ipynb": notebook_bytes(GOOD),
        "John Smith_102_assignsubmission_file_/hw.py": WRONG.encode(),
        "Ann Lee_103_assignsubmission_file_/solution.py": GOOD.encode(),
        "Ann Lee_103_assignsubmission_onlinetext_/onlinetext.html": b"<p>see my file</p>",
    })


def gradescope_zip(path: Path) -> Path:
    metadata = """submission_9001:
  :submitters:
  - :name: Jane Doe
    :sid: 'S1'
    :email: jane@example.edu
  :created_at: 2026-11-01 10:00:00.000000000 -07:00
submission_9002:
  :submitters:
  - :name: John Smith
    :email: john.smith@example.edu
"""
    return build_zip(path, {"assignment_1_export/submission_metadata.yml": metadata.encode(),
                            "assignment_1_export/submission_9001/hw.py": GOOD.encode(),
                            "assignment_1_export/submission_9002/hw.ipynb": notebook_bytes(WRONG)})


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "gradebook.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def grade(submissions: Path, out: Path) -> None:
    done = run_cli("grade", str(submissions), "-a", str(REVIEW), "-o", str(out), "-q", "-j", "2")
    assert done.returncode == 0, done.stderr


def test_a_canvas_export_is_graded_under_the_canvas_user_ids(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,Email\n\"Doe, Jane\",12345,s-1,jane@example.edu\n"
                      "\"Smith, John\",23456,s-2,john@example.edu\n\"Gone, Away\",99999,s-9,gone@example.edu\n")
    done = run_cli("import", str(canvas_zip(tmp_path / "submissions.zip")), "-o", str(tmp_path / "subs"),
                   "--roster", str(roster))
    assert done.returncode == 0, done.stderr
    assert "canvas: 3 hand-ins" in done.stdout and "1 not on the roster" in done.stdout
    assert "34567" in done.stdout and "not on the roster" in done.stdout and "no hand-in: 99999" in done.stdout
    subs = tmp_path / "subs"
    assert sorted(p.name for p in subs.iterdir()) == ["12345.ipynb", "23456.py", "34567"]
    assert sorted(p.name for p in (subs / "34567").iterdir()) == ["notes.txt", "solution.py"]
    found = {row["grader_id"]: row for row in csv.DictReader(open(tmp_path / "subs-students.csv"))}
    assert found["23456"]["late"] == "yes" and found["12345"]["late"] == ""
    assert found["12345"]["name"] == "Doe, Jane" and found["12345"]["sis_user_id"] == "s-1"
    assert found["34567"]["name"] == "leeann"  # from the file name: the roster does not know them
    out = tmp_path / "grades"
    grade(subs, out)
    book = gradebook(out)
    assert sorted(book) == ["12345", "23456", "34567"]
    assert float(book["12345"]["score"]) == 10 and float(book["34567"]["score"]) == 10
    assert float(book["23456"]["score"]) == 2  # the wrong hand-in is the late one's, under their id


def test_a_moodle_export_is_graded_under_the_participant_ids(tmp_path):
    done = run_cli("import", str(moodle_zip(tmp_path / "moodle.zip")), "-o", str(tmp_path / "subs"))
    assert done.returncode == 0, done.stderr
    subs = tmp_path / "subs"
    assert sorted(p.name for p in subs.iterdir()) == ["101.ipynb", "102.py", "103"]
    assert sorted(p.name for p in (subs / "103").iterdir()) == ["onlinetext.html", "solution.py"]
    out = tmp_path / "grades"
    grade(subs, out)
    book = gradebook(out)
    assert {s: float(r["score"]) for s, r in book.items()} == {"101": 10, "102": 2, "103": 10}
    assert json.loads((out / "102" / "result.json").read_text())["student"] == "102"


def test_a_gradescope_export_names_students_by_sid_then_email(tmp_path):
    found = import_export(gradescope_zip(tmp_path / "gs.zip"), tmp_path / "subs")
    assert found.lms == "gradescope"
    assert [(s.person.student, s.person.name) for s in found.students] == [("S1", "Jane Doe"), ("john.smith", "John Smith")]
    assert sorted(p.name for p in (tmp_path / "subs").iterdir()) == ["S1.py", "john.smith.ipynb"]
    assert (tmp_path / "subs" / "S1.py").read_text() == GOOD


def test_the_layout_is_recognised_and_anything_else_is_refused_with_a_reason(tmp_path):
    for maker, layout in ((canvas_zip, "canvas"), (moodle_zip, "moodle")):
        unpacked = tmp_path / layout
        with zipfile.ZipFile(maker(tmp_path / f"{layout}.zip")) as archive:
            archive.extractall(unpacked)
        assert detect_layout(unpacked) == layout
    other = build_zip(tmp_path / "other.zip", {"alice.py": b"x = 1\n", "bob.py": b"y = 2\n"})
    with pytest.raises(UsageError, match="not a Canvas, Moodle or Gradescope"):
        import_export(other, tmp_path / "subs")
    evil = build_zip(tmp_path / "evil.zip", {"../../escape_1_2_x.py": b"x = 1\n"})
    with pytest.raises(UsageError, match="cannot be unpacked"):
        import_export(evil, tmp_path / "subs2")
    assert not (tmp_path.parent / "escape_1_2_x.py").exists()


def test_a_roster_needs_an_id_column_and_knows_common_headers(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Full name,Email address,Participant,ID number\nAnn Lee,ann@x.edu,103,A-103\n")
    person = read_roster(roster)["103"]
    assert (person.name, person.email, person.lms_id, person.id_number, person.student) == ("Ann Lee", "ann@x.edu", "103", "A-103", "103")
    roster.write_text("name,email\nAnn,ann@x.edu\n")
    with pytest.raises(UsageError, match="line 2"):
        read_roster(roster)
