"""Manual-only questions (`kind = "manual"`): no automatic verdict, straight to the review queue, points held
until the instructor grades them; an answer may be a written one or the figures the task's tests recorded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from review_class import GOOD, REVIEW, ReviewServer
from test_review_security import cookie, csrf_of, request

from grader.assignment import load_assignment
from grader.errors import ConfigError
from grader.review.board import NEEDS_REVIEW, load_board

MANUAL = '''
[[questions]]
id = "q2"
task = "norm"
kind = "manual"
points = 1
prompt = "Explain in one sentence why a squared norm is never negative."

[[questions]]
id = "q3"
task = "norm"
kind = "manual"
points = 2
answer_from = "figures"
prompt = "Do the drawn weights look like digits?"
'''

FIGURES = '''import numpy as np
import pytest


@pytest.mark.task("norm")
@pytest.mark.points(0)
def test_weights_drawn(student, record):
    """the weights, drawn"""
    record.images("weights", {"student": np.arange(8.0).reshape(2, 4)}, shape=(2, 2))
'''


def assignment_with_manual_questions(root: Path) -> Path:
    folder = root / "variant" / "review"  # an assignment's folder is named by its id
    shutil.copytree(REVIEW, folder)
    text = (folder / "assignment.toml").read_text()
    reference = (REVIEW.parent.parent / "reference" / "review.py").resolve()
    text = text.replace('id = "review"\n', f'id = "review"\nreference = "{reference}"\n')
    text = text.replace("total_points = 10", "total_points = 13")
    (folder / "assignment.toml").write_text(text + MANUAL)
    (folder / "tests" / "public" / "test_figures.py").write_text(FIGURES)
    return folder


def write_toml(root: Path, question: str) -> Path:
    folder = root / "x"
    folder.mkdir(parents=True)
    (folder / "assignment.toml").write_text(
        'schema_version = 1\nid = "x"\ntitle = "X"\ntotal_points = 1\n'
        '[[tasks]]\nid = "a"\ntitle = "A"\npoints = 0\nneeds = []\n' + question)
    return folder


def test_a_manual_question_takes_a_prompt_and_where_its_answer_is(tmp_path):
    good = write_toml(tmp_path / "good", '[[questions]]\nid = "m"\ntask = "a"\nkind = "manual"\npoints = 1\n'
                                          'prompt = "Why?"\nanswer_from = "figures"\n')
    spec = load_assignment(good).questions[0]
    assert (spec.kind, spec.fields["prompt"], spec.fields["answer_from"]) == ("manual", "Why?", "figures")
    wrong_kind = write_toml(tmp_path / "kind", '[[questions]]\nid = "m"\ntask = "a"\nkind = "numeric"\npoints = 1\n'
                                               'expected = 1\nanswer_from = "figures"\n')
    with pytest.raises(ConfigError, match="answer_from"):
        load_assignment(wrong_kind)
    wrong_place = write_toml(tmp_path / "place", '[[questions]]\nid = "m"\ntask = "a"\nkind = "manual"\npoints = 1\n'
                                                 'answer_from = "the moon"\n')
    with pytest.raises(ConfigError, match="answer_from"):
        load_assignment(wrong_place)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from conftest import run_cli

    root = tmp_path_factory.mktemp("manual")
    assignment = assignment_with_manual_questions(root)
    subs = root / "submissions"
    subs.mkdir()
    (subs / "ann.py").write_text(GOOD.replace('ANSWERS = {"q1": "(w*x - y)*x"}',
                                              'ANSWERS = {"q1": "(w*x - y)*x", "q2": "a sum of squares"}'))
    (subs / "ben.py").write_text(GOOD)
    out = root / "grades"
    done = run_cli("grade", str(subs), "-a", str(assignment), "-o", str(out), "-q", "-j", "1")
    assert done.returncode == 0, done.stderr
    return out


def test_a_manual_question_has_no_automatic_verdict_and_holds_its_points(graded):
    result = json.loads((graded / "ann" / "result.json").read_text())
    norm = next(t for t in result["tasks"] if t["id"] == "norm")
    q2 = next(t for t in norm["tests"] if t["name"] == "written answer q2")
    assert q2["verdict"] == "needs_review" and q2["score"] == 0 and q2["max_score"] == 1
    assert "never negative" in q2["message"]
    assert result["score"] == 10 and result["max_score"] == 13  # 3 points held, neither earned nor lost


def test_manual_questions_come_first_in_the_queue_with_the_answer_or_the_figures(graded):
    board = load_board(graded)
    first = board.rows()[:2]
    assert {r.test for r in first} == {"written answer q2", "written answer q3"}
    assert all(r.category == NEEDS_REVIEW for r in first)
    assert [i.read for i in board.items if i.student == "ann" and i.test == "written answer q2"] == ["a sum of squares"]
    figures = board.groups("norm", "written answer q3")
    assert [len(g.items) for g in figures] == [1, 1]  # each student's own figures: nothing grouped
    assert [t.name for t in board.figures_of("ann", "norm")] == ["the weights, drawn"]


def test_the_instructor_grades_a_manual_question_on_the_page(graded):
    server = ReviewServer(graded)
    try:
        auth = cookie(server)
        page = request(server, "GET", "/question/norm/" + quote("written answer q3", safe=""), auth)[2]
        assert "Do the drawn weights look like digits?" in page and page.count("data:image/svg+xml") >= 2
        csrf = csrf_of(server, auth, "ann")
        form = {"csrf": csrf, "task": "norm", "test": "written answer q2", "student": "ann", "points": "1",
                "comment": "yes: squares are never negative"}
        status, _, _ = request(server, "POST", "/review", {**auth, "Origin": server.base}, urlencode(form))
        assert status == 303
    finally:
        server.close()
    result = json.loads((graded / "ann" / "result.json").read_text())
    q2 = next(t for task in result["tasks"] for t in task["tests"] if t["name"] == "written answer q2")
    assert q2["score"] == 1 and q2["reviewed"] is True and "verdict" not in q2
    assert result["score"] == 11
    assert "yes: squares are never negative" in (graded / "ann" / "feedback.html").read_text()
