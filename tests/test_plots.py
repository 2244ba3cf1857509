"""Plots: matplotlib's object API, never pyplot, and the same SVG bytes for the same figure."""

from __future__ import annotations

import subprocess
import sys

from grader.model import Record
from grader.report.plots import histogram_svg, record_svg

SERIES = Record("series", "loss", {"x": [1, 10, 100], "lines": {"student": [3, 2, 1], "reference": [3, 1.5, 0.5]},
                                   "log_x": True, "xlabel": "steps", "ylabel": "loss"})
IMAGES = Record("images", "weights", {"groups": {"student": [[0.0, 1.0, 2.0, 3.0]] * 3, "reference": [[3.0, 2.0, 1.0, 0.0]]},
                                      "shape": (2, 2)})


def test_the_same_figure_gives_the_same_bytes():
    assert histogram_svg([1.0, 3.0, 10.0], 10) == histogram_svg([1.0, 3.0, 10.0], 10)
    assert record_svg(SERIES) == record_svg(SERIES) and record_svg(IMAGES) == record_svg(IMAGES)
    assert histogram_svg([1.0, 3.0, 10.0], 10) != histogram_svg([1.0, 3.0, 5.0], 10)


PYPLOT_PROBE = """
import base64, io, sys
import numpy as np
from grader.report.plots import histogram_svg
drawn = histogram_svg([1.0, 3.0, 10.0, 7.5], 10)
print("matplotlib.pyplot" in sys.modules)

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
# the summary's histogram as pyplot drew it before the object API
figure, ax = plt.subplots(figsize=(5, 2.6))
ax.hist([1.0, 3.0, 10.0, 7.5], bins=[float(b) for b in np.linspace(0, 10, 11)], color="#4c72b0", edgecolor="white")
ax.set_xlabel("score")
ax.set_ylabel("students")
ax.grid(alpha=0.3, axis="y")
buffer = io.BytesIO()
figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
print(base64.b64decode(drawn.split("base64,")[1].split('"')[0]) == buffer.getvalue())
"""


def test_plots_never_import_pyplot_and_draw_what_pyplot_drew():
    """Reports stay byte for byte what they were when the plots were drawn with pyplot."""
    done = subprocess.run([sys.executable, "-c", PYPLOT_PROBE], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["False", "True"]
