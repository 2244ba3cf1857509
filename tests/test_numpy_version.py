"""Hand-ins written for NumPy 1.x: the `numpy_version` diagnosis, and grading with the course's older NumPy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO, run_cli

from grader.assignment import checked_python, load_assignment
from grader.errors import ConfigError
from grader.model import Diagnosis
from grader.sandbox.client import StudentError
from grader.sandbox.numpy_removals import ARRAY_REMOVALS, EXPIRED_2_0, MODULE_REMOVALS, numpy_removal

NUMPY2 = int(np.__version__.split(".")[0]) >= 2
needs_numpy2 = pytest.mark.skipif(not NUMPY2, reason="the grader's own NumPy is older than 2.0")

# Written for NumPy 1.x: every line runs under NumPy 1.26 (`np.float` would not: 1.24 removed it),
# and each task fails under NumPy 2.
NUMPY1_HANDIN = '''
import numpy as np

def mse_grad(X, y, w):
    residual = np.asfarray(X @ w - y)
    return X.T @ residual / np.product(y.shape)

class Ridge:
    def __init__(self, lam):
        self.lam = lam
        self.best = np.Inf

    def fit(self, X, y):
        self.w = np.linalg.solve(X.T @ X + self.lam * np.eye(X.shape[1]), X.T @ y)
        return self

    def predict(self, X):
        return X @ self.w

def fit(model, X, y):
    model.fit(X, y)
    return model

def scaled_sum(values):
    total = np.array([np.sum(values)])
    return SCALE * float(total)
'''


# ---------------------------------------------------------------- recognising NumPy's messages


@needs_numpy2
@pytest.mark.filterwarnings("ignore::FutureWarning")  # np.object and np.str warn before they fail
@pytest.mark.parametrize("name", ["Inf", "NaN", "NINF", "infty", "float_", "alltrue", "asfarray", "cast", "round_",
                                  *MODULE_REMOVALS])
def test_every_removed_module_attribute_is_named_with_a_replacement(name: str) -> None:
    try:
        getattr(np, name)
    except AttributeError as error:  # the real message of the installed NumPy
        said = numpy_removal("AttributeError", str(error))
    else:
        pytest.skip(f"this NumPy still has np.{name}")
    assert said is not None and f"`np.{name}`" in said and "NumPy" in said and "instead" in said
    assert "the course's NumPy was older" in said


@needs_numpy2
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("name", [*EXPIRED_2_0, *MODULE_REMOVALS])
def test_a_removed_name_imported_from_numpy_is_named(name: str) -> None:
    with pytest.raises(ImportError) as raised:
        exec(f"from numpy import {name}", {})
    said = numpy_removal("ImportError", str(raised.value))
    assert said is not None and f"`np.{name}`" in said and "instead" in said
    if name in EXPIRED_2_0:  # the table says what NumPy itself says
        with pytest.raises(AttributeError, match=f"`np.{name}` was removed in the NumPy 2.0 release"):
            getattr(np, name)


@needs_numpy2
@pytest.mark.parametrize("method", sorted(ARRAY_REMOVALS))
def test_removed_array_methods_are_named(method: str) -> None:
    with pytest.raises(AttributeError) as raised:
        getattr(np.zeros(2), method)
    said = numpy_removal("AttributeError", str(raised.value))
    assert said is not None and f"`.{method}()`" in said


@needs_numpy2
def test_numpy_s_own_advice_is_kept() -> None:
    with pytest.raises(AttributeError) as raised:
        np.Inf  # noqa: B018
    said = numpy_removal("AttributeError", str(raised.value))
    assert said == "this code uses `np.Inf`, removed in NumPy 2.0; the course's NumPy was older. Use `np.inf` instead."


@needs_numpy2
def test_int_of_a_one_element_array() -> None:
    with pytest.raises(TypeError) as raised:
        int(np.array([2.0]))
    said = numpy_removal("TypeError", str(raised.value))
    assert said is not None and "`a.item()`" in said


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("AttributeError", "module 'numpy' has no attribute 'sofmax'"),  # a typo: the student's own mistake
        ("AttributeError", "'numpy.ndarray' object has no attribute 'shap'"),
        ("AttributeError", "'list' object has no attribute 'ptp'"),
        ("TypeError", "unsupported operand type(s) for +: 'int' and 'str'"),
        ("ValueError", "`np.Inf` was removed in the NumPy 2.0 release. Use `np.inf` instead."),
    ],
)
def test_other_errors_are_not_taken_for_a_numpy_version(kind: str, message: str) -> None:
    assert numpy_removal(kind, message) is None


# ---------------------------------------------------------------- in the sandbox


@needs_numpy2
def test_a_call_that_uses_a_removed_api_is_diagnosed_numpy_version(sandbox) -> None:
    student = sandbox("import numpy as np\n\ndef clip(x):\n    return np.clip(x, -np.Inf, 1.0)\n\n"
                      "def typo(x):\n    return np.sofmax(x)\n", ("clip", "typo"))
    with pytest.raises(StudentError) as raised:
        student.clip(np.arange(3.0))
    failure = raised.value.failure
    assert failure.diagnosis is Diagnosis.NUMPY_VERSION
    assert "`np.Inf`" in failure.message and "NumPy 2.0" in failure.message and "`np.inf`" in failure.message
    assert failure.frames and failure.frames[-1].line == 4
    with pytest.raises(StudentError) as raised:
        student.typo(np.arange(3.0))
    assert raised.value.failure.diagnosis is Diagnosis.EXCEPTION


@needs_numpy2
def test_a_global_whose_line_failed_at_load_reports_that_line(sandbox) -> None:
    student = sandbox("import numpy as np\nBIG = np.Inf\nfrom numpy import NaN\n\ndef bound(x):\n    return min(x, BIG)\n\n"
                      "def missing(x):\n    return NaN if x is None else x\n", ("bound", "missing"))
    with pytest.raises(StudentError) as raised:
        student.bound(3.0)
    failure = raised.value.failure
    assert failure.diagnosis is Diagnosis.NUMPY_VERSION, failure.message
    assert "`np.Inf`" in failure.message and "`BIG`" in failure.message
    assert [frame.line for frame in failure.frames] == [2, 6]
    with pytest.raises(StudentError) as raised:
        student.missing(None)
    failure = raised.value.failure
    assert failure.diagnosis is Diagnosis.NUMPY_VERSION, failure.message
    assert "imports `NaN` from numpy" in failure.message and "`np.nan`" in failure.message


# ---------------------------------------------------------------- choosing the interpreter


def test_an_interpreter_that_is_not_there_is_refused_with_its_key(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    text = (DEMO / "assignment.toml").read_text().replace("memory_mb = 1024", 'memory_mb = 1024\npython = "venv/bin/python"')
    (folder / "assignment.toml").write_text(text)
    with pytest.raises(ConfigError, match=r"sandbox\.python: no interpreter at 'venv/bin/python'"):
        load_assignment(folder)


def test_an_interpreter_without_numpy_is_refused(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    with pytest.raises(ConfigError, match="cannot import numpy"):
        checked_python("bare/bin/python", tmp_path, "--python")


def test_a_venv_interpreter_keeps_its_venv_path(tmp_path: Path) -> None:
    """A venv's python is a link to the base interpreter: following it would lose the venv's packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(tmp_path / "v")],
                   check=True)
    found = checked_python("v/bin/python", tmp_path, "--python")
    assert found == str(tmp_path / "v" / "bin" / "python")


# ---------------------------------------------------------------- grading with the course's NumPy


@pytest.fixture(scope="session")
def numpy1_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A venv with `numpy<2`, made once per test session (about 15 s with the registry reachable)."""
    venv = tmp_path_factory.mktemp("numpy1") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = str(venv / "bin" / "python")
    install = subprocess.run([python, "-m", "pip", "install", "--disable-pip-version-check", "-q", "numpy<2"],
                             capture_output=True, text=True, timeout=600)
    if install.returncode != 0:
        unreachable = ("NewConnectionError", "Network is unreachable", "Temporary failure in name resolution",
                       "Could not find a version", "No matching distribution", "ConnectTimeout", "ProxyError")
        if any(text in install.stderr for text in unreachable):
            pytest.skip(f"pip could not get numpy<2 from the package registry: {install.stderr.strip()[-300:]}")
        pytest.fail(f"pip install numpy<2 failed: {install.stderr}")
    version = subprocess.run([python, "-c", "import numpy; print(numpy.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert int(version.split(".")[0]) == 1, version
    return python


_CODEC_VALUES = """
import numpy as np
values = [np.array([[0, 1, 0], [3, 4, 5]]).astype(d) for d in sorted(codec.ALLOWED_DTYPES)]
values += [np.float32(1.5), np.int64(-3), np.bool_(True), np.array(2.5), np.zeros((0, 4)), np.array([1, 2], dtype='>f8'),
           np.asfortranarray(np.arange(6.0).reshape(2, 3)), (np.float64(np.nan), [np.inf])]
"""


def test_the_codec_carries_arrays_between_numpy_1_and_numpy_2(numpy1_python: str) -> None:
    """Arrays of every allowed dtype, 0-d, empty, big-endian, Fortran-ordered and scalars, both ways."""
    codec_dir = Path(__file__).resolve().parent.parent / "grader" / "sandbox"
    from grader.sandbox import codec

    script = (f"import sys; sys.path.insert(0, {str(codec_dir)!r}); import codec\n{_CODEC_VALUES}\n"
              "frame = codec.encode(values)\nsys.stdout.buffer.write(frame)\n"
              "back = codec.decode(sys.stdin.buffer.read()[codec.HEADER.size:])\n"
              "assert all(np.array_equal(a, b) and np.asarray(a).dtype == np.asarray(b).dtype.newbyteorder('=') "
              "for a, b in zip(back[:-1], values[:-1], strict=True)), back\n")
    namespace: dict = {"codec": codec}
    exec(_CODEC_VALUES, namespace)
    ours = namespace["values"]
    old = subprocess.run([numpy1_python, "-I", "-c", script], input=codec.encode(ours), capture_output=True, timeout=120)
    assert old.returncode == 0, old.stderr.decode()
    theirs = codec.decode(old.stdout[codec.HEADER.size:])
    assert len(theirs) == len(ours)
    for got, want in zip(theirs[:-1], ours[:-1], strict=True):
        assert np.asarray(got).dtype == np.asarray(want).dtype.newbyteorder("=")
        np.testing.assert_array_equal(got, want)
    assert np.isnan(theirs[-1][0]) and theirs[-1][1] == [np.inf]


@needs_numpy2
def test_a_numpy1_handin_fails_with_numpy_version_then_passes_with_the_course_s_numpy(
    tmp_path: Path, numpy1_python: str
) -> None:
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "ana.py").write_text(NUMPY1_HANDIN)
    out = tmp_path / "grades"

    def code_tests() -> list[dict]:
        result = json.loads((out / "ana" / "result.json").read_text())
        return [t for task in result["tasks"] for t in task["tests"] if not t["name"].startswith("written")]

    default = run_cli("grade", str(submissions), "-a", str(DEMO), "-o", str(out), "-q", "-j", "1")
    assert default.returncode == 0, default.stderr
    tests = code_tests()
    assert tests and not any(t["passed"] for t in tests)
    assert all(t["diagnoses"] == ["numpy_version"] for t in tests), tests
    messages = "\n".join(t["message"] for t in tests)
    assert "`np.asfarray`, removed in NumPy 2.0" in messages and "`np.Inf`, removed in NumPy 2.0" in messages
    assert "`a.item()`" in messages

    older = run_cli("grade", str(submissions), "-a", str(DEMO), "-o", str(out), "-q", "-j", "1",
                    "--python", numpy1_python)
    assert older.returncode == 0, older.stderr
    assert "graded 1, unchanged 0" in older.stdout  # another interpreter is another grading
    assert all(t["passed"] for t in code_tests()), code_tests()

    handin = submissions / "ana.py"
    check = run_cli("check", str(handin), "-a", str(DEMO), "--python", numpy1_python)
    assert "public tests: 4/4 passed" in check.stdout, check.stdout + check.stderr
    check = run_cli("check", str(handin), "-a", str(DEMO))
    assert "public tests: 0/4 passed" in check.stdout, check.stdout + check.stderr


def test_the_sandbox_of_a_venv_sees_that_venv_and_not_the_grader_s_own(tmp_path: Path) -> None:
    from grader.sandbox.launcher import _interpreter_paths

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "v")], check=True)
    paths = _interpreter_paths(str(tmp_path / "v" / "bin" / "python"))
    assert str(tmp_path / "v") in paths and str(tmp_path / "v" / "lib" / f"python{sys.version_info.major}."
                                                f"{sys.version_info.minor}" / "site-packages") in paths
    if sys.prefix != sys.base_prefix:  # the grader runs in a venv of its own: its packages stay out
        assert sys.prefix not in paths
