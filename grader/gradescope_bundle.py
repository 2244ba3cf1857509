"""The autograder zip Gradescope runs: this grader's source, the assignment with its hidden tests, the reference.

Gradescope unzips the bundle into `/autograder/source`, runs `setup.sh` there once when it builds
the image, then runs `run_autograder` for every submission, with the hand-in in
`/autograder/submission` and the results expected in `/autograder/results/results.json`
(https://gradescope-autograders.readthedocs.io/en/latest/specs/). The zip holds:

    setup.sh                 installs Python >= 3.11, a virtual environment in .venv/ and this grader
                             from the copy below, plus what the workers preload beyond the grader's own
                             dependencies (torch); bubblewrap too, when apt can (the sandbox's strongest layer)
    run_autograder           grades the submission as one student with `--gradescope`
    pyproject.toml, README.md, grader/      this grader's source
    assignments/ID/          assignment.toml, data module, public and hidden tests
    reference/ID/, student_template/ID/     and any other file the assignment names, at the same
                             place relative to the assignments folder's parent as in the checkout

`run_autograder` reads two variables so that it can run outside Gradescope: `AUTOGRADER_ROOT`
(default `/autograder`; the bundle is in `ROOT/source`, the hand-in in `ROOT/submission`) and
`GRADER_PYTHON` (default `ROOT/source/.venv/bin/python`, else `python3`). It runs
`python -m grader.cli` from `ROOT/source`, so the grader that runs is the bundle's own copy.

The hand-in, whatever Gradescope received: a single folder is graded as the student's folder,
a single notebook or `.py` file as a single-file hand-in, several files as a folder of modules.
When the grader fails, results.json still appears, with a score of 0 and an `output` saying so.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

from grader.assignment import Assignment
from grader.errors import ConfigError

_SKIPPED = frozenset({"__pycache__", ".ipynb_checkpoints", ".mypy_cache", ".ruff_cache", ".pytest_cache"})
_GRADER_DEPENDENCIES = frozenset({"numpy", "scipy", "sklearn", "matplotlib", "sympy"})
_PIP_NAMES = {"sklearn": "scikit-learn", "cv2": "opencv-python-headless", "PIL": "pillow"}
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same inputs give the same zip

SETUP = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive

new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

apt-get update -q || true
apt-get install -y -q python3 python3-venv python3-pip || true
PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null && new_enough "$candidate"; then PYTHON="$candidate"; break; fi
done
if [ -z "$PYTHON" ]; then
  # Ubuntu 22.04's python3 is 3.10; its python3.11 package is new enough.
  apt-get install -y -q python3.11 python3.11-venv
  PYTHON=python3.11
fi
# The sandbox's strongest layer; without it the grader falls back to unshare, then to limits only.
apt-get install -y -q bubblewrap || echo "setup.sh: bubblewrap could not be installed; the sandbox will use a weaker layer"

"$PYTHON" -m venv "$SOURCE/.venv"
"$SOURCE/.venv/bin/python" -m pip install -q --upgrade pip
"$SOURCE/.venv/bin/python" -m pip install -q "$SOURCE"
PACKAGES="@PACKAGES@"  # what the assignment's workers preload beyond the grader's own dependencies
if [ -n "$PACKAGES" ]; then "$SOURCE/.venv/bin/python" -m pip install -q $PACKAGES; fi
"$SOURCE/.venv/bin/python" -c 'import grader.cli' && echo "setup.sh: grader installed"
"""

RUN = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission: grade ROOT/submission as one student and write
# ROOT/results/results.json. ROOT is $AUTOGRADER_ROOT, default /autograder; the grader's
# interpreter is $GRADER_PYTHON, default the virtual environment setup.sh made.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
SUBMISSION="$ROOT/submission"
RESULTS="$ROOT/results"
ASSIGNMENT="@ASSIGNMENT@"
PYTHON="${GRADER_PYTHON:-$SOURCE/.venv/bin/python}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
mkdir -p "$RESULTS"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

fail() {
  # Gradescope needs a results.json whatever happened: a score of 0 and the reason.
  echo "run_autograder: $1" >&2
  "$PYTHON" - "$1" "$RESULTS/results.json" <<'PY' || printf '{"score": 0, "output": "The autograder failed. Please tell your instructor.", "tests": []}\n' >"$RESULTS/results.json"
import json
import sys

message, path = sys.argv[1], sys.argv[2]
with open(path, "w", encoding="utf-8") as handle:
    json.dump({"score": 0, "output": message, "stdout_visibility": "hidden", "tests": []}, handle, indent=2)
    handle.write("\n")
PY
  exit 0
}

# The hand-in as one student: a lone folder, a lone notebook or module, or everything as a folder.
mkdir -p "$WORK/submissions"
entries=()
if [ -d "$SUBMISSION" ]; then
  for entry in "$SUBMISSION"/*; do
    [ -e "$entry" ] || continue
    [ "$(basename "$entry")" = "__MACOSX" ] && continue
    entries+=("$entry")
  done
fi
if [ "${#entries[@]}" -eq 0 ]; then
  fail "Nothing was submitted. Upload your notebook (.ipynb) or your Python files (.py)."
elif [ "${#entries[@]}" -eq 1 ] && [ -d "${entries[0]}" ]; then
  cp -R "${entries[0]}" "$WORK/submissions/student"
elif [ "${#entries[@]}" -eq 1 ] && { [[ "${entries[0]}" == *.ipynb ]] || [[ "${entries[0]}" == *.py ]]; }; then
  cp "${entries[0]}" "$WORK/submissions/student.${entries[0]##*.}"
else
  mkdir "$WORK/submissions/student"
  cp -R "${entries[@]}" "$WORK/submissions/student/"
fi

cd "$SOURCE" || fail "The autograder's files are missing ($SOURCE). Please tell your instructor."
"$PYTHON" -m grader.cli grade "$WORK/submissions" -a "$SOURCE/assignments/$ASSIGNMENT" \
  -o "$WORK/out" -j 1 -q --gradescope
status=$?
if [ -f "$WORK/out/gradescope/student.json" ]; then
  cp "$WORK/out/gradescope/student.json" "$RESULTS/results.json"
else
  fail "The autograder could not grade this submission (grader exit status $status). Please tell your instructor."
fi
"""


def build_bundle(assignment: Assignment, out: Path) -> Path:
    """Write Gradescope's autograder zip for `assignment` to `out` and return `out`."""
    if assignment.reference is None:
        raise ConfigError(f"{assignment.folder / 'assignment.toml'}: reference: the bundle needs the reference solution")
    root = assignment.folder.parent.parent
    grader_root = Path(__file__).resolve().parent.parent
    entries: dict[str, Path] = {}
    for name in ("pyproject.toml", "README.md"):
        entries[name] = grader_root / name
    entries.update(_tree(grader_root / "grader", "grader"))
    for key, path in (
        ("folder", assignment.folder),
        ("reference", assignment.reference),
        ("template", assignment.template),
        ("data", assignment.data),
    ):
        if path is None or not path.exists():
            continue
        try:
            inside = path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            where = assignment.folder / "assignment.toml"
            raise ConfigError(
                f"{where}: {key}: {path} is outside {root}, so the bundle cannot keep it where the assignment looks"
            ) from None
        entries.update(_tree(path, inside) if path.is_dir() else {inside: path})
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        _add_text(bundle, "setup.sh", SETUP.replace("@PACKAGES@", " ".join(_extra_packages(assignment))), executable=True)
        _add_text(bundle, "run_autograder", RUN.replace("@ASSIGNMENT@", assignment.id), executable=True)
        for name in sorted(entries):
            _add_text(bundle, name, entries[name].read_bytes(), executable=False)
    return out


def _extra_packages(assignment: Assignment) -> list[str]:
    """The pip names of the modules the workers preload that the grader does not install itself (torch)."""
    return sorted({_PIP_NAMES.get(m, m) for m in assignment.preload if m not in _GRADER_DEPENDENCIES})


def _tree(folder: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    """Every file under `folder` as `(name in the zip, path)`, caches and hidden files left out."""
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if not path.is_file() or any(p in _SKIPPED or p.startswith(".") for p in parts):
            continue
        if path.suffix in (".pyc", ".pyo"):
            continue
        yield f"{prefix}/{'/'.join(parts)}", path


def _add_text(bundle: zipfile.ZipFile, name: str, content: str | bytes, executable: bool) -> None:
    """One file with a fixed timestamp and Unix permissions (Gradescope runs the scripts directly)."""
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    bundle.writestr(info, content)
