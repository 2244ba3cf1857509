"""The student kit: one zip to upload to the LMS, with the template, the public checks and how to run them.

    ID.zip
      README.md                  install the checker in one line, run `grader check` and `check("1a")`
      TEMPLATE                   the student template (a notebook, a module, or a folder's files)
      assignments/ID/            the public material (`grader.assign.public_material`): no hidden tests
      mlgrader-VERSION-py3-none-any.whl   (when the grader runs from a source checkout)

`grader check` finds the assignment under `./assignments`, so a student who unzips the kit and works
in its folder needs nothing else. The wheel is built with `pip wheel --no-deps` from the checkout the
grader runs from; installed from a package index instead, the README names the package.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from grader.assignment import Assignment
from grader.report.files import write_atomic
from grader.report.html import grader_version

PACKAGE = "mlgrader"
_SKIPPED = {"__pycache__", ".ipynb_checkpoints", ".DS_Store"}


def build_wheel(into: Path) -> Path | None:
    """A wheel of the grader from the source checkout it runs from; None when it is not run from one."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        return None
    # with this environment's setuptools first (offline, fast); when it is too old for pyproject.toml,
    # in pip's isolated build environment (it fetches a recent setuptools from the package index)
    for isolation in (["--no-build-isolation"], []):
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-q",
                               "-w", str(into), str(root)], capture_output=True, text=True, timeout=600)
        wheels = sorted(into.glob(f"{PACKAGE}-*.whl"))
        if done.returncode == 0 and wheels:
            return wheels[-1]
    return None


def readme(assignment: Assignment, template_name: str, wheel: str | None) -> str:
    """The kit's README: three steps a student can follow without the course's web page."""
    install = f"pip install {wheel}" if wheel else f"pip install {PACKAGE}=={grader_version()}"
    first_task = assignment.tasks[0].id
    return f"""# {assignment.title}

This kit holds your starting point, `{template_name}`, and the public checks of the assignment
(`assignments/{assignment.id}/`). Work in this folder.

1. Install the checker (once, in the Python environment you work in):

       {install}

2. Check your work from a terminal, in this folder:

       grader check {template_name}

   or one task only: `grader check {template_name} -t {first_task}`. It runs the public tests and
   prints what passed and, for what failed, a hint. Exit status 0 means every public test passed.

3. Or from inside your notebook, in a cell:

       from grader import check
       check("{first_task}")

The public tests are not your grade: hidden tests and your written answers are graded when you
hand in. Hand in `{template_name}` as the course page says.
"""


def student_kit(assignment: Assignment, public: Path, material: Path, wheel: Path | None = None,
                template: Path | None = None) -> Path:
    """Write `public/ID.zip` from the public material folder `material` and the template (default: the assignment's)."""
    template = template or assignment.template
    if template is None or not template.exists():
        raise FileNotFoundError(f"no student template at {template}; run `grader assign {assignment.id}` first")
    target = public / f"{assignment.id}.zip"
    with tempfile.TemporaryDirectory() as scratch:
        partial = Path(scratch) / target.name
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as kit:
            if template.is_dir():
                _add_tree(kit, template, "")
                name = next((p.name for p in sorted(template.glob("*.ipynb"))), template.name)
            else:
                kit.write(template, template.name)
                name = template.name
            _add_tree(kit, material, f"assignments/{assignment.id}/")
            if wheel is not None:
                kit.write(wheel, wheel.name)
            kit.writestr("README.md", readme(assignment, name, f"./{wheel.name}" if wheel else None))
        write_atomic(target, partial.read_bytes())
    return target


def _add_tree(kit: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not path.is_symlink() and not (_SKIPPED & set(relative.parts)) and path.suffix != ".pyc":
            kit.write(path, prefix + relative.as_posix())
