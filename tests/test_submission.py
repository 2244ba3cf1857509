"""Finding and loading submissions: every malformed hand-in becomes a message, never an exception."""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest
from nbbuild import code, md, notebook, write

from grader import submission
from grader.submission import discover, load


def test_discover_lists_notebooks_modules_and_folders_and_ignores_the_rest(tmp_path: Path) -> None:
    write(tmp_path / "alice.ipynb", notebook())
    (tmp_path / "bob.py").write_text("x = 1\n")
    (tmp_path / "carol").mkdir()
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "notes.txt").write_text("hi")
    found, ignored = discover(tmp_path)
    assert found == (
        ("alice", tmp_path / "alice.ipynb"),
        ("bob", tmp_path / "bob.py"),
        ("carol", tmp_path / "carol"),
    )
    assert ignored == (tmp_path / ".DS_Store", tmp_path / ".hidden", tmp_path / "notes.txt")


def test_discover_keeps_one_entry_per_student(tmp_path: Path) -> None:
    write(tmp_path / "dave.ipynb", notebook())
    (tmp_path / "dave.py").write_text("x = 1\n")
    (tmp_path / "dave").mkdir()
    found, ignored = discover(tmp_path)
    assert found == (("dave", tmp_path / "dave.ipynb"),)
    assert ignored == (tmp_path / "dave", tmp_path / "dave.py")


def test_notebook_cells_tags_and_assignment(tmp_path: Path) -> None:
    nb = notebook(
        md("# Task 1"),
        code("x = 1", tags=("solution",)),
        md("**Answer 1.4**", tags=("answer:1.4",)),
        metadata={"grader": {"assignment": "logistic_softmax"}},
    )
    loaded = load("alice", write(tmp_path / "alice.ipynb", nb))
    assert loaded.problems == ()
    (file,) = loaded.files
    assert (file.module, file.path, file.is_notebook, file.metadata_assignment) == (
        "submission",
        "alice.ipynb",
        True,
        "logistic_softmax",
    )
    assert [(c.index, c.kind, c.source, c.tags) for c in file.cells] == [
        (0, "markdown", "# Task 1", ()),
        (1, "code", "x = 1", ("solution",)),
        (2, "markdown", "**Answer 1.4**", ("answer:1.4",)),
    ]


def test_single_python_file_is_one_code_cell(tmp_path: Path) -> None:
    path = tmp_path / "bob.py"
    path.write_text("def f():\n    return 1\n")
    (file,) = load("bob", path).files
    assert (file.module, file.path, file.is_notebook) == ("submission", "bob.py", False)
    assert [(c.index, c.kind) for c in file.cells] == [(0, "code")]


def test_folder_of_modules_and_notebooks(tmp_path: Path) -> None:
    folder = tmp_path / "carol"
    (folder / "__pycache__").mkdir(parents=True)
    (folder / "__pycache__" / "task2a.py").write_text("junk")
    (folder / ".ipynb_checkpoints").mkdir()
    write(folder / ".ipynb_checkpoints" / "report-checkpoint.ipynb", notebook())
    (folder / ".git").mkdir()
    (folder / ".git" / "hook.py").write_text("x")
    (folder / "task2a.py").write_text("x = 1\n")
    (folder / "lib").mkdir()
    (folder / "lib" / "helpers.py").write_text("y = 2\n")
    (folder / "lib" / "task2a.py").write_text("old = 1\n")
    (folder / "data.csv").write_text("1,2\n")
    write(folder / "my report.ipynb", notebook(md("hi")))
    loaded = load("carol", folder)
    assert [(f.module, f.path, f.is_notebook) for f in loaded.files] == [
        ("helpers", "lib/helpers.py", False),
        ("my_report", "my report.ipynb", True),
        ("task2a", "task2a.py", False),
    ]
    assert loaded.problems == ("lib/task2a.py was ignored: task2a.py already provides module `task2a`.",)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"cells": [', "its JSON is broken at line 1"),
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2, 3]", "JSON but not a Jupyter notebook"),
        (b'{"nbformat": 9, "cells": []}', "format version"),
    ],
    ids=["invalid-json", "empty", "binary", "not-utf8", "json-list", "unknown-version"],
)
def test_malformed_notebook_is_a_problem_not_an_exception(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "alice.ipynb"
    path.write_bytes(content)
    loaded = load("alice", path)
    assert not loaded.readable
    assert len(loaded.problems) == 1 and expected in loaded.problems[0]
    assert loaded.problems[0].startswith("alice.ipynb ")


def test_nbformat3_notebook_is_converted(tmp_path: Path) -> None:
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": ""},
        "worksheets": [
            {
                "metadata": {},
                "cells": [
                    {"cell_type": "heading", "level": 1, "metadata": {}, "source": ["Title"]},
                    {
                        "cell_type": "code",
                        "collapsed": False,
                        "input": ["def f():\n", "    return 1"],
                        "language": "python",
                        "metadata": {},
                        "outputs": [
                            {"output_type": "pyout", "text": ["1"], "prompt_number": 1, "metadata": {}}
                        ],
                        "prompt_number": 1,
                    },
                ],
            }
        ],
    }
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    loaded = load("old", path)
    assert loaded.problems == ()
    assert [(c.kind, c.source) for c in loaded.files[0].cells] == [
        ("markdown", "# Title"),
        ("code", "def f():\n    return 1"),
    ]


def test_markdown_only_notebook_is_readable(tmp_path: Path) -> None:
    loaded = load("alice", write(tmp_path / "alice.ipynb", notebook(md("I did not do it"))))
    assert loaded.readable and loaded.problems == ()


def test_python_with_coding_cookie(tmp_path: Path) -> None:
    path = tmp_path / "bob.py"
    path.write_bytes("# -*- coding: cp1252 -*-\nname = 'Jos\u00e9 \u20ac'\n".encode("cp1252"))
    loaded = load("bob", path)
    assert loaded.problems == ()
    assert "Jos\u00e9 \u20ac" in loaded.files[0].cells[0].source


def test_python_not_utf8_without_cookie_is_read_as_latin1(tmp_path: Path) -> None:
    path = tmp_path / "bob.py"
    path.write_bytes("# auteur: Ren\u00e9\nx = 1\n".encode("latin-1"))
    loaded = load("bob", path)
    assert "Ren\u00e9" in loaded.files[0].cells[0].source
    assert loaded.problems == (
        "bob.py is not saved as UTF-8; it was read as Latin-1, so some characters may look wrong.",
    )


def test_empty_python_file_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "bob.py"
    path.write_text("\n")
    loaded = load("bob", path)
    assert not loaded.readable and loaded.problems == ("bob.py is empty.",)


def test_huge_output_is_dropped(tmp_path: Path) -> None:
    cell = code("print('x' * 10**7)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 10**7)]
    loaded = load("alice", write(tmp_path / "alice.ipynb", notebook(cell)))
    assert loaded.problems == ()
    assert loaded.files[0].cells[0].source == "print('x' * 10**7)"


def test_duplicate_cell_ids_do_not_fail(tmp_path: Path) -> None:
    nb = notebook(code("a = 1"), code("b = 2"))
    for cell in nb.cells:
        cell.id = "same"
    path = tmp_path / "alice.ipynb"
    path.write_text(json.dumps(nb))
    loaded = load("alice", path)
    assert loaded.problems == () and len(loaded.files[0].cells) == 2


def test_five_thousand_cells_load_fast(tmp_path: Path) -> None:
    nb = notebook(*(code(f"def f{i}(x):\n    return x + {i}") for i in range(5000)))
    path = write(tmp_path / "big.ipynb", nb)
    start = time.perf_counter()
    loaded = load("big", path)
    assert time.perf_counter() - start < 2
    assert len(loaded.files[0].cells) == 5000


def test_file_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(submission, "MAX_BYTES", 1000)
    path = write(tmp_path / "alice.ipynb", notebook(code("x = 1\n" * 500)))
    loaded = load("alice", path)
    assert not loaded.readable and "larger than" in loaded.problems[0]


def test_folder_with_nothing_readable(tmp_path: Path) -> None:
    folder = tmp_path / "erin"
    folder.mkdir()
    (folder / "report.pdf").write_bytes(b"%PDF")
    (folder / "task2a.ipynb").write_text("{not json")
    loaded = load("erin", folder)
    assert loaded.files == ()
    assert len(loaded.problems) == 2
    assert "task2a.ipynb is not a valid notebook" in loaded.problems[0]
    assert "erin/ holds no notebook (.ipynb) or Python file (.py) that could be read." == loaded.problems[1]


def test_missing_path_and_wrong_kind(tmp_path: Path) -> None:
    assert load("x", tmp_path / "x.ipynb").problems == ("x.ipynb does not exist.",)
    (tmp_path / "y.txt").write_text("hi")
    assert "not a notebook" in load("y", tmp_path / "y.txt").problems[0]


def test_folder_skips_virtual_environments(tmp_path: Path) -> None:
    folder = tmp_path / "frank"
    (folder / "venv" / "lib").mkdir(parents=True)
    (folder / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (folder / "venv" / "lib" / "numpy.py").write_text("x = 1\n")
    (folder / "task2a.py").write_text("x = 1\n")
    loaded = load("frank", folder)
    assert [f.path for f in loaded.files] == ["task2a.py"]
    assert loaded.problems == ("venv/ was ignored: it is installed packages.",)


def test_deeply_nested_json_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "alice.ipynb"
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert "nested too deeply" in load("alice", path).problems[0]
