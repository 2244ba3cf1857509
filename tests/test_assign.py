"""`grader assign`: the committed student template is exactly what a fresh assign writes."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from conftest import REPO
from nbbuild import code, md, notebook, write

from grader.assign import RegionError, assign, strip_notebook, strip_source, template_files, template_path
from grader.assignment import load_assignment

ASSIGNMENTS = sorted(p.parent.name for p in (REPO / "assignments").glob("*/assignment.toml"))


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_committed_template_is_a_fresh_assign_byte_for_byte(assignment_id, tmp_path):
    folder = REPO / "assignments" / assignment_id
    if not (folder / "assignment.toml").is_file():
        pytest.skip(f"assignments/{assignment_id} does not exist yet")
    assignment = load_assignment(folder)
    if assignment.reference is None:
        pytest.skip(f"{assignment_id} has no reference here")
    committed = template_path(assignment)
    fresh = tmp_path / committed.name
    report = assign(assignment, fresh, freeze=False)
    root, committed_root = (fresh, committed) if assignment.reference.is_dir() else (tmp_path, committed.parent)
    written = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert written and len(report.stale) == len(written)
    drifted = [str(r) for r in written if (committed_root / r).read_bytes() != (root / r).read_bytes()]
    assert drifted == [], f"run `grader assign {assignment_id}`: these template files differ from the reference"


def test_solution_regions_become_todo_and_not_implemented():
    source = "def f(x):\n    ### BEGIN SOLUTION: return twice x\n    return 2 * x\n    ### END SOLUTION\n"
    assert strip_source(source, "f.py") == "def f(x):\n    # TODO: return twice x\n    raise NotImplementedError\n"
    with pytest.raises(RegionError, match="never closed"):
        strip_source("### BEGIN SOLUTION\nx = 1\n", "f.py")


def test_notebook_reference_loses_outputs_counts_and_answers(tmp_path):
    nb = notebook(code("### BEGIN SOLUTION\ny = 2\n### END SOLUTION", execution_count=3),
                  md("my derivation", tags=["answer:1a"]))
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="2\n")]
    reference = write(tmp_path / "hw.ipynb", nb)
    files = template_files(reference)
    assert list(files) == [Path("hw.ipynb")]
    stripped = nbformat.reads(files[Path("hw.ipynb")].decode(), as_version=4)
    assert stripped.cells[0].source == "# TODO: implement this.\nraise NotImplementedError\n"
    assert stripped.cells[0].outputs == [] and stripped.cells[0].execution_count is None
    assert stripped.cells[1].source == ""
    assert strip_notebook(files[Path("hw.ipynb")].decode(), "hw.ipynb") == files[Path("hw.ipynb")].decode()


def test_the_public_material_holds_no_expected_written_answer(tmp_path):
    from grader.assign import public_material
    from grader.assignment import load_assignment
    from grader.catalog import find_assignment

    for assignment_id in ("logistic_softmax", "bayes_mlp"):
        assignment = find_assignment(assignment_id)
        copy = public_material(assignment, tmp_path)
        toml = (copy / "assignment.toml").read_text()
        assert "[[questions]]" not in toml and not (copy / "tests" / "hidden").exists()
        assert assignment.questions and not any(line.strip().startswith("expected") for line in toml.splitlines())
        public = load_assignment(copy)
        assert public.questions == () and public.reference is None
        assert [t.id for t in public.tasks] == [t.id for t in assignment.tasks]
