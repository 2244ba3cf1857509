"""Build real notebooks with nbformat for tests: `write(path, notebook(code("x = 1"), md("# Title")))`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode


def code(source: str, tags: Iterable[str] = (), execution_count: int | None = None) -> NotebookNode:
    """A code cell, optionally tagged and with the execution count Jupyter would show."""
    cell = nbformat.v4.new_code_cell(source, execution_count=execution_count)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def md(source: str, tags: Iterable[str] = ()) -> NotebookNode:
    """A markdown cell, optionally tagged."""
    cell = nbformat.v4.new_markdown_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def notebook(*cells: NotebookNode, metadata: dict[str, Any] | None = None) -> NotebookNode:
    """A v4 notebook of these cells."""
    return nbformat.v4.new_notebook(cells=list(cells), metadata=metadata or {})


def write(path: Path, nb: NotebookNode) -> Path:
    """Save a notebook and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
