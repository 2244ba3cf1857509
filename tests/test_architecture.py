"""The house style's module order: imports flow one way, and the worker depends on nothing of the grader."""

from __future__ import annotations

import ast
from pathlib import Path

GRADER = Path(__file__).resolve().parent.parent / "grader"

# lower layers first: a module may import only from its own layer or layers above it in this list
LAYERS = [
    {"model", "errors", "datasets", "transport"},
    {"sandbox"},
    {"archives", "assignment", "submission", "units", "environment"},
    {"extract", "answers", "policy"},
    {"testing", "written", "scoring", "similarity"},
    {"report", "pipeline", "outputs", "notebook_pdf", "reviews", "lms", "session"},
    {"executors", "canary", "cluster"},
    {"catalog", "batch", "gradescope_bundle", "lms_import"},
    {"selfcheck", "assign", "review", "kit"},
    {"cli"},
]


def layer_of(module: str) -> int:
    top = module.split(".")[1] if module.startswith("grader.") else module
    for index, layer in enumerate(LAYERS):
        if top in layer:
            return index
    raise AssertionError(f"grader.{top} is in no layer of the architecture test")


def grader_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("grader."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("grader."))
    return found


def module_name(path: Path) -> str:
    return "grader." + ".".join(path.relative_to(GRADER).with_suffix("").parts)


def test_imports_never_flow_up_the_layers():
    wrong = []
    for path in GRADER.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == GRADER:
            continue
        mine = layer_of(module_name(path))
        for imported in grader_imports(path):
            if layer_of(imported) > mine:
                wrong.append(f"{module_name(path)} imports {imported}")
    assert wrong == []


def test_the_worker_imports_only_the_standard_library_numpy_and_the_codec():
    tree = ast.parse((GRADER / "sandbox" / "worker.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "grader" not in imported and "pickle" not in imported
    assert imported <= {"__future__", "ast", "importlib", "io", "os", "random", "sys", "traceback", "types", "typing",
                        "codec", "numpy", "torch"}
