"""Extraction: the minimal code a need requires, and the static findings, on real notebooks and folders."""

from __future__ import annotations

import ast
import builtins
import json
import traceback
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from nbbuild import code, md, notebook, write

from grader.extract import extract, parse_need
from grader.model import Diagnosis, Program, SourceFile
from grader.submission import load


def load_notebook(tmp_path: Path, *cells: Any, name: str = "alice.ipynb") -> tuple[SourceFile, ...]:
    """Write a notebook of these cells and load it as a submission."""
    loaded = load("alice", write(tmp_path / name, notebook(*cells)))
    assert loaded.problems == ()
    return loaded.files


def load_folder(tmp_path: Path, **modules: str) -> tuple[SourceFile, ...]:
    """Write `name=source` as `name.py` files of one submission folder and load it."""
    folder = tmp_path / "bob"
    folder.mkdir()
    for name, source in modules.items():
        (folder / f"{name}.py").write_text(source)
    return load("bob", folder).files


def run(program: Program, provided: dict[str, object] | None = None) -> dict[str, types.ModuleType]:
    """Execute the extracted units, module by module, as the worker would; imports see these modules first."""
    modules: dict[str, types.ModuleType] = {}

    def importer(
        name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0
    ) -> Any:
        if name in modules:
            return modules[name]
        return builtins.__import__(name, globals, locals, fromlist, level)

    scope_builtins = {**vars(builtins), "__import__": importer}
    for module in program.modules:
        namespace = types.ModuleType(module.name)
        namespace.__dict__.update(provided or {}, __builtins__=scope_builtins)
        for unit in module.units:
            tree = ast.parse(unit.source)
            ast.increment_lineno(tree, unit.first_line - 1)
            exec(compile(tree, unit.filename, "exec"), namespace.__dict__)
        modules[module.name] = namespace
    return modules


def sources(program: Program) -> str:
    """All the extracted code, to check what is in and what is out."""
    return "\n".join(u.source for m in program.modules for u in m.units)


def only(program: Program, need: str) -> tuple[tuple[Diagnosis, str], ...]:
    """The findings of one need as (diagnosis, message) pairs."""
    return tuple((f.diagnosis, f.message) for f in program.findings_for((need,)))


# ---------------------------------------------------------------- notebooks


def test_duplicated_definition_last_wins(tmp_path: Path) -> None:
    files = load_notebook(
        tmp_path, code("def f():\n    return 1"), md("again"), code("def f():\n    return 2")
    )
    program = extract(files, ("f",))
    (module,) = program.modules
    assert [(u.filename, u.binds) for u in module.units] == [("alice.ipynb [cell 3]", ("f",))]
    assert run(program)["submission"].f() == 2


def test_cells_out_of_execution_order_count_in_file_order(tmp_path: Path) -> None:
    files = load_notebook(
        tmp_path,
        code("SCALE = 10", execution_count=3),
        code("SCALE = 2", execution_count=1),
        code("def f(x):\n    return SCALE * x", execution_count=2),
    )
    program = extract(files, ("f",))
    assert run(program)["submission"].f(3) == 6


def test_magics_and_pip_lines_keep_line_numbers(tmp_path: Path) -> None:
    files = load_notebook(
        tmp_path,
        code("!pip install torch\n%matplotlib inline\nimport numpy as np\nnp.mean?\nfiles = !ls"),
        code("%%bash\necho timed\ndef timed():\n    return 1"),
        code("def f(x):\n    %time y = 1\n    return np.mean(x)"),
    )
    program = extract(files, ("f", "timed"))
    (module,) = program.modules
    assert [(u.source, u.first_line) for u in module.units] == [
        ("import numpy as np", 3),
        ("def f(x):\n    pass\n    return np.mean(x)", 1),
    ]
    assert run(program)["submission"].f([1, 3]) == 2
    assert only(program, "timed") == ((Diagnosis.NOT_IMPLEMENTED, "`timed` is not defined in the notebook."),)


def test_modulo_continuation_lines_are_not_taken_for_magics(tmp_path: Path) -> None:
    files = load_notebook(tmp_path, code('def f(x):\n    return ("%d items"\n            % x)'))
    assert run(extract(files, ("f",)))["submission"].f(3) == "3 items"


def test_global_defined_in_a_later_cell(tmp_path: Path) -> None:
    files = load_notebook(
        tmp_path,
        code("def f(x):\n    return helper(x) + OFFSET"),
        code("OFFSET = 1\ndef helper(x):\n    return 2 * x"),
    )
    program = extract(files, ("f",))
    assert program.findings == ()
    assert run(program)["submission"].f(5) == 11


def test_syntax_error_in_an_unrelated_cell_changes_nothing(tmp_path: Path) -> None:
    files = load_notebook(tmp_path, code("def f():\n    return 1"), code("def broken(:\n    pass"))
    program = extract(files, ("f",))
    assert program.findings == ()
    assert run(program)["submission"].f() == 1


def test_syntax_error_in_the_cell_defining_the_need(tmp_path: Path) -> None:
    files = load_notebook(tmp_path, md("# 2a"), code("import numpy as np\n\ndef f(x)\n    return x"))
    program = extract(files, ("f",))
    assert program.resolve("f") is None
    (finding,) = program.findings
    assert finding.diagnosis is Diagnosis.SYNTAX_ERROR
    assert (finding.filename, finding.line) == ("alice.ipynb [cell 2]", 3)
    assert finding.message.startswith("alice.ipynb [cell 2], line 3: expected ':'")


def test_syntax_error_in_a_helper_the_need_uses(tmp_path: Path) -> None:
    files = load_notebook(
        tmp_path, code("def f(x):\n    return helper(x)"), code("def helper(x):\n    return x +")
    )
    program = extract(files, ("f",))
    assert [f.diagnosis for f in program.findings] == [Diagnosis.SYNTAX_ERROR]
    assert "(the code that defines `helper` does not parse)" in program.findings[0].message


def test_main_block_and_script_code_are_not_included(tmp_path: Path) -> None:
    files = load_notebook(
        tmp_path,
        code("import numpy as np\nimport turtle\nimport urllib3\nfrom tkinter import *\n"),
        code("def f(x):\n    return np.sum(x)\n\nprint(f([1]))\nfor i in range(3):\n    f(i)"),
        code('if __name__ == "__main__":\n    model = f([2])\n    input("press enter")'),
    )
    program = extract(files, ("f",))
    text = sources(program)
    assert "turtle" not in text and "urllib3" not in text and "tkinter" not in text
    assert "print" not in text and "__main__" not in text and "for i" not in text
    assert run(program)["submission"].f([1, 2]) == 3


def test_method_reading_a_global_only_set_in_the_main_block(tmp_path: Path) -> None:
    files = load_folder(
        tmp_path,
        task2="class Trainer:\n    def step(self):\n        return model.forward()\n\n"
        'if __name__ == "__main__":\n    model = object()\n',
    )
    program = extract(files, ("task2:Trainer",))
    (finding,) = program.findings
    assert finding.diagnosis is Diagnosis.UNDEFINED_NAME
    assert (finding.filename, finding.line) == ("task2.py", 3)
    assert finding.message == (
        "`model` is used in task2.py, line 3, but it is only set by code the grader does not run "
        '(task2.py, line 5, inside `if __name__ == "__main__":`).'
    )


def test_global_defined_nowhere(tmp_path: Path) -> None:
    files = load_notebook(tmp_path, code("def f():\n    return learning_rate * 2"))
    (finding,) = extract(files, ("f",)).findings
    assert finding.diagnosis is Diagnosis.UNDEFINED_NAME
    assert finding.message == (
        "`learning_rate` is used in alice.ipynb [cell 1], line 2, but it is not defined anywhere in the submission "
        "(a variable that only exists when the file runs as a script, or in another cell?)"
    )


def test_global_set_by_a_top_level_loop(tmp_path: Path) -> None:
    files = load_notebook(
        tmp_path, code("for epoch in range(3):\n    pass"), code("def f():\n    return epoch")
    )
    (finding,) = extract(files, ("f",)).findings
    assert (
        "only set by code the grader does not run (alice.ipynb [cell 1], line 1, in a `for` loop)"
        in finding.message
    )


def test_provided_names_are_not_flagged(tmp_path: Path) -> None:
    files = load_notebook(tmp_path, code("X_train = load_mnist()\n\ndef size():\n    return len(X_train)"))
    program = extract(files, ("size",), provided=frozenset({"X_train"}))
    assert program.findings == ()
    assert "load_mnist" not in sources(program)
    assert run(program, {"X_train": [1, 2, 3]})["submission"].size() == 3


@pytest.mark.parametrize(
    "body",
    [
        "    pass",
        '    """Return the loss."""',
        "    ...",
        '    """Doc."""\n    raise NotImplementedError("task 2a")',
    ],
    ids=["pass", "docstring", "ellipsis", "raise"],
)
def test_placeholder_function_is_not_implemented(tmp_path: Path, body: str) -> None:
    files = load_notebook(tmp_path, code("# 2a\n"), code(f"def loss(y, y_hat):\n{body}"))
    program = extract(files, ("loss",))
    assert only(program, "loss") == (
        (Diagnosis.NOT_IMPLEMENTED, "`loss` in alice.ipynb [cell 2] is still the template's placeholder."),
    )


def test_class_with_placeholder_methods_is_not_flagged(tmp_path: Path) -> None:
    files = load_notebook(
        tmp_path, code("class Model:\n    def forward(self, X):\n        raise NotImplementedError")
    )
    assert extract(files, ("Model",)).findings == ()


def test_try_block_of_imports_is_kept(tmp_path: Path) -> None:
    files = load_notebook(
        tmp_path,
        code("try:\n    import torch\nexcept ImportError:\n    torch = None\n"),
        code("def has_torch():\n    return torch is not None"),
    )
    program = extract(files, ("has_torch",))
    assert program.findings == ()
    assert isinstance(run(program)["submission"].has_torch(), bool)


def test_decorators_defaults_and_bases_are_followed(tmp_path: Path) -> None:
    files = load_notebook(
        tmp_path,
        code("import functools\nDEFAULT = 3\nclass Base:\n    k = 1\n"),
        code("@functools.lru_cache\ndef f(x=DEFAULT):\n    return x\n\nclass Child(Base):\n    v = f()"),
    )
    program = extract(files, ("Child",))
    assert program.findings == ()
    assert run(program)["submission"].Child.v == 3


def test_traceback_points_at_the_original_line(tmp_path: Path) -> None:
    files = load_notebook(tmp_path, code("x = 1\n\n\ndef f():\n    return 1 / 0"))
    module = run(extract(files, ("f",)))["submission"]
    with pytest.raises(ZeroDivisionError) as caught:
        module.f()
    frame = traceback.extract_tb(caught.value.__traceback__)[-1]
    assert (frame.filename, frame.lineno) == ("alice.ipynb [cell 1]", 5)


# ---------------------------------------------------------------- folders of modules

STARTER = {
    "utils": (
        "import numpy as np\nimport mnist\n\n"
        "def batch_loader(X, Y, batch_size):\n    for i in range(0, len(X), batch_size):\n"
        "        yield X[i:i + batch_size], Y[i:i + batch_size]\n\n"
        "def load_full_mnist():\n    return mnist.load()\n"
    ),
    "mnist": "import urllib.request\nurllib.request.urlopen('http://example.com')\n\ndef load():\n    return 1\n",
    "task2a": (
        "import numpy as np\nimport turtle\n\n"
        "class BinaryModel:\n    def __init__(self):\n        self.w = np.zeros((3, 1))\n"
        "    def forward(self, X):\n        return X @ self.w\n\n"
        'if __name__ == "__main__":\n    BinaryModel().forward(np.ones((1, 3)))\n'
    ),
    "task2": (
        "import utils\nfrom task2a import BinaryModel\nimport matplotlib.pyplot as plt\n\n"
        "def count_batches(X, Y):\n    model = BinaryModel()\n"
        "    return sum(1 for _ in utils.batch_loader(X, Y, 2)), model.w.shape\n\n"
        "X, Y = utils.load_full_mnist()\nplt.plot(X)\n"
    ),
}


def test_folder_of_modules_importing_each_other(tmp_path: Path) -> None:
    program = extract(load_folder(tmp_path, **STARTER), ("task2:count_batches",))
    assert program.findings == ()
    assert [m.name for m in program.modules] == ["task2a", "utils", "task2"]
    units = {m.name: [u.source.split("\n")[0] for u in m.units] for m in program.modules}
    assert units == {
        "task2a": ["import numpy as np", "class BinaryModel:"],
        "utils": ["def batch_loader(X, Y, batch_size):"],
        "task2": ["import utils", "from task2a import BinaryModel", "def count_batches(X, Y):"],
    }
    assert run(program)["task2"].count_batches([1, 2, 3, 4, 5], [0] * 5) == (3, (3, 1))


def test_module_used_whole_brings_all_its_definitions(tmp_path: Path) -> None:
    files = load_folder(
        tmp_path,
        consts="A = 1\nB = 2\nprint('loaded')\n",
        task="import consts as c\n\ndef everything():\n    return vars(c)\n",
    )
    program = extract(files, ("task:everything",))
    (consts,) = [m for m in program.modules if m.name == "consts"]
    assert [u.binds for u in consts.units] == [("A",), ("B",)]


def test_relative_and_star_imports_of_submission_modules(tmp_path: Path) -> None:
    files = load_folder(
        tmp_path,
        helpers="def double(x):\n    return 2 * x\n\ndef unused():\n    return 0\n\ndef one():\n    return 1\n",
        task="from .helpers import double\nfrom helpers import *\n\ndef f(x):\n    return double(x)\n\ndef g(x):\n    return unused() + one()\n",
    )
    program = extract(files, ("task:f", "task:g"))
    assert program.findings == ()
    assert "from helpers import double" in sources(program)
    modules = run(program)
    assert (modules["task"].f(2), modules["task"].g(2)) == (4, 1)


def test_import_of_a_name_the_other_module_lacks(tmp_path: Path) -> None:
    files = load_folder(
        tmp_path,
        task2a="x = 1\n",
        task2="from task2a import BinaryModel\n\ndef f():\n    return BinaryModel()\n",
    )
    (finding,) = extract(files, ("task2:f",)).findings
    assert finding.diagnosis is Diagnosis.UNDEFINED_NAME
    assert (
        finding.message
        == "task2.py, line 1 imports `BinaryModel` from `task2a`, but task2a.py does not define it."
    )


def test_name_defined_in_another_module_but_not_imported(tmp_path: Path) -> None:
    files = load_folder(
        tmp_path, task2a="def sigmoid(z):\n    return z\n", task2="def f(z):\n    return sigmoid(z)\n"
    )
    (finding,) = extract(files, ("task2:f",)).findings
    assert finding.message.endswith("task2.py does not define or import it (it is defined in task2a.py).")


def test_missing_function_is_not_implemented(tmp_path: Path) -> None:
    files = load_folder(tmp_path, task2a="import numpy as np\n", task2="x = 1\n")
    program = extract(files, ("task2a:BinaryModel", "nowhere"))
    assert program.resolved == ()
    assert [(f.need, f.diagnosis, f.message) for f in program.findings] == [
        ("task2a:BinaryModel", Diagnosis.NOT_IMPLEMENTED, "`BinaryModel` is not defined in task2a.py."),
        ("nowhere", Diagnosis.NOT_IMPLEMENTED, "`nowhere` is not defined in the submission."),
    ]


def test_syntax_error_in_the_module_of_the_need(tmp_path: Path) -> None:
    files = load_folder(
        tmp_path, task3a="import numpy as np\n\nclass SoftmaxModel:\n    def forward(self X):\n        pass\n"
    )
    (finding,) = extract(files, ("task3a:SoftmaxModel",)).findings
    assert finding.diagnosis is Diagnosis.SYNTAX_ERROR
    assert finding.message.startswith("task3a.py, line 4: invalid syntax")


SOFTMAX = "class SoftmaxModel:\n    version = {!r}\n"


def test_glob_need_prefers_a_task4_module(tmp_path: Path) -> None:
    files = load_folder(
        tmp_path,
        task3a=SOFTMAX.format("3a"),
        task4_l2=SOFTMAX.format("l2"),
        task4c="from task3a import SoftmaxModel\n",
    )
    program = extract(files, ("task4*|task3a:SoftmaxModel",))
    assert program.resolve("task4*|task3a:SoftmaxModel") == program.resolved[0]
    assert (program.resolved[0].module, program.resolved[0].name) == ("task4_l2", "SoftmaxModel")
    assert [m.name for m in program.modules] == ["task4_l2"]


def test_glob_need_falls_back_to_task3a_then_to_any_module(tmp_path: Path) -> None:
    folder = extract(
        load_folder(tmp_path, task3a=SOFTMAX.format("3a"), task4="x = 1\n"), ("task4*|task3a:SoftmaxModel",)
    )
    assert folder.resolved[0].module == "task3a"
    notebook_files = load_notebook(tmp_path, code(SOFTMAX.format("nb")))
    single = extract(notebook_files, ("task4*|task3a:SoftmaxModel",))
    assert single.resolved[0].module == "submission"
    assert run(single)["submission"].SoftmaxModel.version == "nb"


def test_output_is_deterministic(tmp_path: Path) -> None:
    files = load_folder(tmp_path, **STARTER)
    needs = ("task2:count_batches", "task2a:BinaryModel", "utils:batch_loader", "missing")
    assert extract(files, needs) == extract(files, needs)


def test_parse_need() -> None:
    assert parse_need("task4*|task3a:SoftmaxModel") == (("task4*", "task3a"), "SoftmaxModel")
    assert parse_need("BinaryModel") == ((), "BinaryModel")


def test_five_thousand_cells_extract_fast(tmp_path: Path) -> None:
    import time

    cells = [
        code(f"def f{i}(x):\n    return f{i - 1}(x) + 1" if i else "def f0(x):\n    return x")
        for i in range(5000)
    ]
    files = load_notebook(tmp_path, *cells)
    start = time.perf_counter()
    program = extract(files, ("f4999",))
    assert time.perf_counter() - start < 5
    assert len(program.modules[0].units) == 5000 and program.findings == ()


def test_star_import_of_a_library_does_not_hide_a_missing_need(tmp_path: Path) -> None:
    files = load_notebook(tmp_path, code("from numpy import *\n\ndef f(x):\n    return mean(x)"))
    program = extract(files, ("f", "g"))
    assert only(program, "f") == ()
    assert "from numpy import *" in sources(program)
    assert only(program, "g") == ((Diagnosis.NOT_IMPLEMENTED, "`g` is not defined in the notebook."),)


def test_global_assigned_by_a_function_through_global(tmp_path: Path) -> None:
    files = load_notebook(
        tmp_path, code("def setup():\n    global W\n    W = 3"), code("def f():\n    setup()\n    return W")
    )
    program = extract(files, ("f",))
    assert program.findings == ()
    assert run(program)["submission"].f() == 3


def test_attribute_of_a_submission_module_it_lacks(tmp_path: Path) -> None:
    files = load_folder(
        tmp_path, utils="x = 1\n", task2="import utils\n\ndef f():\n    return utils.batch_loader\n"
    )
    (finding,) = extract(files, ("task2:f",)).findings
    assert (
        finding.message
        == "task2.py, line 4 uses `batch_loader` from `utils`, but utils.py does not define it."
    )


def test_a_broken_module_named_by_the_need_is_not_replaced_by_another_module():
    from grader.model import Cell, SourceFile

    files = (
        SourceFile("task2a", "task2a.py", (Cell(0, "code", "def cross_entropy_loss(t, o):\n    return 0.0\n"),), False),
        SourceFile("task3a", "task3a.py", (Cell(0, "code", "def cross_entropy_loss(t, o):\n    return (1\n"),), False),
    )
    program = extract(files, ("task3a:cross_entropy_loss",))
    assert program.resolved == ()
    assert [f.diagnosis.value for f in program.findings] == ["syntax_error"]
    assert "task3a.py" in program.findings[0].message


# ---------------------------------------------------------------- cell magics


def test_python_cell_magics_keep_their_body(tmp_path: Path) -> None:
    files = load_notebook(
        tmp_path,
        code("%%time\nimport numpy as np\ndef timed(x):\n    return 2 * np.asarray(x)\nHALF = 0.5"),
        code("%%capture out\ndef captured(x):\n    return float(np.sum(timed(x))) * HALF\nprint('hidden')"),
        code("\n%%capture\n%%time\n%matplotlib inline\ndef nested():\n    return 3"),
        code("%%prun -q -s cumulative\ndef profiled(n):\n    return sum(range(n))"),
    )
    program = extract(files, ("captured", "nested", "profiled"))
    assert program.findings == ()
    (module,) = program.modules
    assert [(u.filename, u.first_line, u.binds) for u in module.units] == [
        ("alice.ipynb [cell 1]", 2, ("np",)),
        ("alice.ipynb [cell 1]", 3, ("timed",)),
        ("alice.ipynb [cell 1]", 5, ("HALF",)),
        ("alice.ipynb [cell 2]", 2, ("captured",)),
        ("alice.ipynb [cell 3]", 5, ("nested",)),
        ("alice.ipynb [cell 4]", 2, ("profiled",)),
    ]
    namespace = run(program)["submission"]
    assert namespace.captured([1.0, 2.0]) == 3.0
    assert namespace.nested() == 3 and namespace.profiled(5) == 10


@pytest.mark.parametrize(
    ("magic", "where"),
    [
        ("%%timeit -n1", "in a `%%timeit` cell (IPython runs its body inside a function of its own)"),
        ("%%python3", "in a `%%python3` cell (it runs in a separate process)"),
    ],
)
def test_cell_magics_that_run_python_elsewhere_leave_no_definitions(tmp_path: Path, magic: str, where: str) -> None:
    files = load_notebook(tmp_path, code(f"{magic}\ndef f():\n    return 1"))
    program = extract(files, ("f",))
    assert program.modules == ()
    message = f"`f` is only set by code the grader does not run (alice.ipynb [cell 1], line 2, {where})."
    assert only(program, "f") == ((Diagnosis.NOT_IMPLEMENTED, message),)


@pytest.mark.parametrize("magic", ["%%bash", "%%sh", "%%html", "%%latex", "%%markdown", "%%javascript", "%%script bash"])
def test_cell_magics_that_are_not_python_are_dropped(tmp_path: Path, magic: str) -> None:
    files = load_notebook(tmp_path, code(f"{magic}\ndef f():\n    return 1"), code("def g():\n    return f()"))
    program = extract(files, ("g",))
    assert "def f" not in sources(program)
    assert [d for d, _ in only(program, "g")] == [Diagnosis.UNDEFINED_NAME]


def test_writefile_makes_a_module_the_notebook_imports(tmp_path: Path) -> None:
    scipy_special = pytest.importorskip("scipy.special")
    files = load_notebook(
        tmp_path,
        code("%%writefile helpers.py\nimport numpy as np\n\ndef softmax(z):\n    e = np.exp(z - z.max())\n    return e / e.sum()"),
        code("%%writefile -a helpers.py\n\ndef top(z):\n    return softmax(z).max()"),
        code("%%writefile notes.txt\nnot python"),
        code("from helpers import softmax\nimport helpers"),
        code("def predict(z):\n    return softmax(z), helpers.top(z)"),
    )
    program = extract(files, ("predict",))
    assert program.findings == ()
    assert [m.name for m in program.modules] == ["helpers", "submission"]
    helpers = program.modules[0]
    assert [(u.filename, u.first_line, u.binds) for u in helpers.units] == [
        ("alice.ipynb [cell 1]", 2, ("np",)),
        ("alice.ipynb [cell 1]", 4, ("softmax",)),
        ("alice.ipynb [cell 2]", 3, ("top",)),
    ]
    z = np.array([1.0, 3.0, -2.0])
    probabilities, top = run(program)["submission"].predict(z)
    np.testing.assert_allclose(probabilities, scipy_special.softmax(z))
    assert top == pytest.approx(scipy_special.softmax(z).max())


def test_writefile_without_append_starts_the_module_again(tmp_path: Path) -> None:
    files = load_notebook(
        tmp_path,
        code("%%writefile helpers.py\ndef g():\n    return 1\ndef old():\n    return 0"),
        code("%%file ./helpers.py\ndef g():\n    return 2"),
        code("%%writefile pkg/inner.py\ndef h():\n    return 3"),
        code("%%writefile random.py\ndef seed(n):\n    return n"),
        code("from helpers import g, old\nfrom inner import h\nimport random\ndef f():\n    random.seed(0)\n    return g()"),
    )
    program = extract(files, ("f",))
    assert run(program)["submission"].f() == 2
    assert "return 1" not in sources(program) and [m.name for m in program.modules] == ["helpers", "submission"]
    assert extract(files, ("old",)).findings_for(("old",))[0].diagnosis is Diagnosis.UNDEFINED_NAME


def test_a_handed_in_module_wins_over_the_notebook_that_wrote_it(tmp_path: Path) -> None:
    folder = tmp_path / "carol"
    write(folder / "report.ipynb", notebook(
        code("%%writefile helpers.py\nFACTOR = 1"), code("from helpers import FACTOR\ndef f():\n    return FACTOR")
    ))
    (folder / "helpers.py").write_text("FACTOR = 5\n")
    program = extract(load("carol", folder).files, ("f",))
    assert run(program)["report"].f() == 5


def test_a_function_named_top_reads_its_parameters_as_locals(tmp_path: Path) -> None:
    files = load_notebook(tmp_path, code("def top(z, k=2):\n    return sorted(z)[-k:]\n\nclass top2:\n    def top(self, z):\n        return z"))
    program = extract(files, ("top", "top2"))
    assert program.findings == ()
    assert run(program)["submission"].top([3, 1, 2]) == [2, 3]


def test_a_notebook_of_cell_magics_is_graded_on_what_the_kernel_defined(tmp_path: Path) -> None:
    """Through the real `grade` command: `%%time`, `%%capture out` and `%%writefile` bodies count, `%%bash` does not."""
    from conftest import DEMO, run_cli

    ridge = (
        "class Ridge:\n    def __init__(self, lam):\n        self.lam = lam\n"
        "    def fit(self, X, y):\n        self.w = np.linalg.solve(X.T @ X + self.lam * np.eye(X.shape[1]), X.T @ y)\n"
        "        return self\n    def predict(self, X):\n        return X @ self.w\n"
    )
    fit = "def fit(model, X, y):\n    return model.fit(X, y)\n"
    submissions = tmp_path / "submissions"
    write(submissions / "alice.ipynb", notebook(
        code("%%time\nimport numpy as np\n\ndef mse_grad(X, y, w):\n    return X.T @ (X @ w - y) / len(y)"),
        code(f"%%capture out\n{ridge}\n{fit}\nmodel = fit(Ridge(0.1), np.eye(3), np.ones(3))\nprint(model.w)"),
        code("%%writefile scaling.py\ndef times(factor, values):\n    return factor * sum(values)"),
        code("from scaling import times\n\ndef scaled_sum(values):\n    return times(SCALE, values)"),
    ))
    write(submissions / "bob.ipynb", notebook(
        code("import numpy as np\n\ndef mse_grad(X, y, w):\n    return X.T @ (X @ w - y) / len(y)"),
        code(f"{ridge}"),
        code(f"%%bash\n{fit}"),
        code("def scaled_sum(values):\n    return SCALE * sum(values)"),
    ))
    out = tmp_path / "grades"
    graded = run_cli("grade", str(submissions), "-a", str(DEMO), "-o", str(out), "-q", "-j", "1")
    assert graded.returncode == 0, graded.stderr

    def code_tests(student: str) -> dict[str, dict[str, Any]]:
        result = json.loads((out / student / "result.json").read_text())
        return {t["name"]: t for task in result["tasks"] for t in task["tests"] if not t["name"].startswith("written")}

    alice = code_tests("alice")
    assert alice and all(t["passed"] for t in alice.values()), alice
    bob = code_tests("bob")
    failed = {name for name, t in bob.items() if not t["passed"]}
    assert failed == {"fit(model, X, y) works with the student's model object"}
    assert "not_implemented" in bob["fit(model, X, y) works with the student's model object"]["diagnoses"]
