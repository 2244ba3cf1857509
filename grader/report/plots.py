"""Recorded test data drawn as inline SVG with matplotlib: weight images, curves, the class's histogram.

Figures are made with matplotlib's object API, not pyplot: nothing is registered globally, and
pyplot's own import (a tenth of a second more than matplotlib's figures) is never paid.
"""

from __future__ import annotations

import base64
import functools
import io
from typing import Any

import numpy as np

from grader.model import Record


@functools.cache
def _figure_class() -> Any:
    """matplotlib's `Figure`, imported on the first plot (a run with nothing to draw never pays for it)."""
    import matplotlib
    from matplotlib.figure import Figure

    matplotlib.rcParams["svg.hashsalt"] = "grader"  # the same figure gives the same SVG bytes
    return Figure


def import_matplotlib() -> None:
    """Import matplotlib now, e.g. while other processes grade, rather than when the first plot is drawn."""
    _figure_class()


def _figure(figsize: tuple[float, float]) -> Any:
    return _figure_class()(figsize=figsize)


def _svg(figure: Any) -> str:
    """The figure as an <img> holding SVG: ids inside stay private to the figure, in HTML and PDF alike."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img class="plot" alt="" src="data:image/svg+xml;base64,{data}">'


def images_svg(record: Record) -> str:
    """One row of small images per group (e.g. the student's ten weight images above the reference's)."""
    groups: dict[str, Any] = dict(record.payload.get("groups", {}))  # type: ignore[call-overload]
    shape: tuple[int, ...] = tuple(record.payload.get("shape", (28, 28)))  # type: ignore[arg-type]
    rows = [(label, np.asarray(values, dtype=float)) for label, values in groups.items()]
    columns = max((len(v) for _, v in rows), default=1)
    figure = _figure((columns * 0.9, len(rows) * 1.0))
    axes = figure.subplots(len(rows), columns, squeeze=False)
    for row, (label, images) in enumerate(rows):
        for column in range(columns):
            ax = axes[row][column]
            ax.set_xticks([])
            ax.set_yticks([])
            if column < len(images):
                ax.imshow(images[column].reshape(shape), cmap="gray")
            if column == 0:
                ax.set_ylabel(label, fontsize=8)
    figure.suptitle(record.title, fontsize=9)
    return _svg(figure)


def series_svg(record: Record) -> str:
    """Curves against a shared x axis, one line per label (student, reference)."""
    payload = record.payload
    figure = _figure((4.2, 2.8))
    ax = figure.subplots()
    x = np.asarray(payload.get("x", []), dtype=float)
    for label, values in dict(payload.get("lines", {})).items():  # type: ignore[call-overload]
        ax.plot(x, np.asarray(values, dtype=float), marker="o", label=label)
    if payload.get("log_x"):
        ax.set_xscale("log")
    ax.set_xlabel(str(payload.get("xlabel", "")))
    ax.set_ylabel(str(payload.get("ylabel", "")))
    ax.set_title(record.title, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _svg(figure)


def record_svg(record: Record) -> str | None:
    """The SVG for a record, or None for records that are not drawn."""
    if record.kind == "images":
        return images_svg(record)
    if record.kind == "series":
        return series_svg(record)
    return None


def histogram_svg(scores: list[float], max_score: float) -> str:
    """The class's score histogram."""
    figure = _figure((5, 2.6))
    ax = figure.subplots()
    ax.hist(scores, bins=[float(b) for b in np.linspace(0, max_score or 1, 11)], color="#4c72b0", edgecolor="white")
    ax.set_xlabel("score")
    ax.set_ylabel("students")
    ax.grid(alpha=0.3, axis="y")
    return _svg(figure)
