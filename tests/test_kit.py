"""The student kit: `grader assign ID --public DIR` writes DIR/ID.zip, which installs into a fresh virtual
environment (the grader's wheel inside, its dependencies from the package index) and checks the template."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import run_cli
from review_class import REVIEW

REFERENCE = (REVIEW.parent.parent / "reference" / "review.py").read_text()


def assignment_with_a_marked_reference(root: Path) -> Path:
    """The review fixture with a reference whose solutions are marked, so that the template is stripped."""
    folder = root / "course" / "review"
    shutil.copytree(REVIEW, folder)
    reference = REFERENCE
    for line in ("    return X.T @ (X @ w - y) / len(y)", "    return float(np.sum(v**2))"):
        reference = reference.replace(line, f"    ### BEGIN SOLUTION\n{line}\n    ### END SOLUTION")
    reference = reference.replace('ANSWERS = {"q1": "x*(w*x - y)"}', '### BEGIN SOLUTION\nANSWERS = {"q1": "x*(w*x - y)"}\n### END SOLUTION')
    (root / "course" / "homework.py").write_text(reference)
    toml = folder / "assignment.toml"
    toml.write_text(toml.read_text().replace('id = "review"\n', 'id = "review"\nreference = "../homework.py"\n'))
    return folder


@pytest.mark.slow
def test_the_kit_installs_in_a_fresh_venv_and_checks_the_template(tmp_path):
    assignment = assignment_with_a_marked_reference(tmp_path)
    public = tmp_path / "public"
    done = run_cli("assign", str(assignment), "-o", str(tmp_path / "template" / "homework.py"), "--public", str(public))
    assert done.returncode == 0, done.stderr
    kit = public / "review.zip"
    assert f"student kit: {kit}" in done.stdout
    with zipfile.ZipFile(kit) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "student")
    assert "homework.py" in names and "README.md" in names and "assignments/review/assignment.toml" in names
    assert not any("hidden" in n for n in names) and not any("reference" in n for n in names)
    wheels = [n for n in names if n.endswith(".whl")]
    assert len(wheels) == 1
    student = tmp_path / "student"
    template = (student / "homework.py").read_text()
    assert "NotImplementedError" in template and "x*(w*x - y)" not in template  # no solution, no answer
    readme = (student / "README.md").read_text()
    assert f"pip install ./{wheels[0]}" in readme and "grader check homework.py" in readme and 'check("grad")' in readme

    # a student's machine: a fresh venv, the kit's wheel, its dependencies from the package index
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"./{wheels[0]}"], cwd=student,
                             capture_output=True, text=True, timeout=1500)
    if install.returncode != 0 and "Could not find a version" in install.stderr + install.stdout:
        pytest.skip("the package index is not reachable from here")
    assert install.returncode == 0, install.stderr[-2000:]
    checked = subprocess.run([str(venv / "bin" / "grader"), "check", "homework.py"], cwd=student,
                             capture_output=True, text=True, timeout=600)
    assert checked.returncode == 1, checked.stdout + checked.stderr  # the template fails its public tests
    assert "still the template's placeholder" in checked.stdout and "0/2 passed" in checked.stdout
    inside = subprocess.run([str(venv / "bin" / "python"), "-c",
                             "from grader import check; check('grad', notebook='homework.py')"],
                            cwd=student, capture_output=True, text=True, timeout=600)
    assert inside.returncode == 0 and "gradient matches finite differences" in inside.stdout
    assert "0/1 passed" in inside.stdout


def test_without_a_template_there_is_no_kit(tmp_path):
    from grader.assignment import load_assignment
    from grader.kit import student_kit

    assignment = load_assignment(assignment_with_a_marked_reference(tmp_path))
    with pytest.raises(FileNotFoundError, match="grader assign"):
        student_kit(assignment, tmp_path / "public", tmp_path, template=tmp_path / "missing.py")
