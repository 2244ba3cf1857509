"""A notebook printed for hand-in: headings, code, outputs, and math drawn as vector paths, not TeX source."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from pathlib import Path

import matplotlib
import nbformat
import pytest

from grader.notebook_pdf import notebook_html, notebook_to_pdf
from tests.nbbuild import code, md, notebook, write

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("weasyprint")
matplotlib.use("Agg")

# verbatim from a student's write-up (shared/seeds/002): aligned derivations, \boxed, \frac, \hat
DERIVATION = r"""## Problem 3 (Neural Net Optimization)

2. a) We have

$$L = -y \log(\hat{y}) - (1 - y) \log(1 - \hat{y})$$

$$\hat{y} = \sigma(a_2)$$

Using the chain rule, this gives us

$$\begin{aligned} \frac{\partial L}{\partial b_2} &= \frac{\partial L}{\partial \hat{y}} \frac{\partial \hat{y}}{\partial a_2} \frac{\partial a_2}{\partial b_2} = \frac{\partial L}{\partial \hat{y}} \frac{\partial \hat{y}}{\partial a_2} \\ &= \left( -\frac{y}{\hat{y}} + \frac{1 - y}{1 - \hat{y}} \right) (\hat{y}(1 - \hat{y})) \\ &= -y \frac{1}{\hat{y}} \hat{y}(1 - \hat{y}) + (1 - y) \frac{1}{1 - \hat{y}} \hat{y}(1 - \hat{y}) \\ &= -y(1 - \hat{y}) + (1 - y)\hat{y} \\ &= -y + y\hat{y} + \hat{y} - y\hat{y} \\ &\quad \boxed{\frac{\partial L}{\partial b_2} = \hat{y} - y} \end{aligned}$$

b) We introduce a new partial derivative:  $\frac{\partial a_2}{\partial W_2^h} = z_1^h$  where  $W_2^h$  is the  $h$ th element of  $\mathbf{W}_2$ .

$$\boxed{\frac{\partial L}{\partial W_2^h} = (\hat{y} - y)(z_1^h)}$$
"""

POSTERIOR = r"""# Problem 1 (Bayesian Methods)

$$\begin{aligned} p(D|\mu) &= \prod_i p(x_i|\mu) = (2\pi\sigma^2)^{-n/2} \exp\left(-\frac{1}{2\sigma^2} \sum_i (x_i - \mu)^2\right) \\ &\propto_\mu \exp\left(-\frac{1}{2\sigma^2} \sum_i (x_i - \mu)^2\right) \\ &= \exp\left(-\frac{n}{2\sigma^2} (-2\mu\bar{x} + \mu^2)\right) \end{aligned}$$

$$\exp\left(-\frac{n}{2\sigma^2} (-2\mu\bar{x} + \mu^2) - \frac{1}{2\tau^2}\mu^2\right) \stackrel{\text{def}}{=} \exp\left(-\frac{1}{2\sigma_{new}^2}(\mu^2 - 2\mu\mu_{new} + \mu_{new}^2)\right)$$

$$\mu_{MAP} = \underset{\mu}{\operatorname{argmax}} p(\mu|D) = \underset{\mu}{\operatorname{argmax}} p(D|\mu)p(\mu)$$

Since $x = \mu + \epsilon$ and $\epsilon \sim \mathcal{N}(0, \sigma^2)$, the price is \$5 and `$HOME` stays code.
"""

CODE = "import numpy as np\nweights = np.arange(3)\nprint('loss_total', weights.sum())"


def _png_plot() -> str:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4, 2.5))
    axes.plot([0, 1, 2, 3], [3, 1, 0.5, 0.2], label="training loss")
    axes.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def handin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("handin")
    run = code(CODE, execution_count=1)
    run.outputs = [nbformat.v4.new_output("stream", name="stdout", text="loss_total 3\n")]
    plot = code("plt.plot(losses)", execution_count=2)
    plot.outputs = [nbformat.v4.new_output("display_data", data={"image/png": _png_plot(), "text/plain": "<Figure>"})]
    nb = notebook(md(POSTERIOR), run, md("# Problem 3\n\n" + DERIVATION), plot)
    path = write(folder / "homework-3.ipynb", nb)
    return notebook_to_pdf(path, folder / "homework-3.pdf")


def test_the_pdf_has_a_page_per_top_level_heading_and_keeps_headings_and_code_as_text(handin: Path) -> None:
    reader = pypdf.PdfReader(str(handin))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2
    assert "Problem 1 (Bayesian Methods)" in reader.pages[0].extract_text()
    assert "Problem 3" in reader.pages[1].extract_text()
    assert "weights = np.arange(3)" in text
    assert "loss_total 3" in text
    assert "$HOME" in text
    assert reader.metadata is not None and reader.metadata.title == "Problem 1 (Bayesian Methods)"


def test_no_latex_source_reaches_the_pdf(handin: Path) -> None:
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(str(handin)).pages)
    for command in (r"\frac", r"\boxed", r"\hat", r"\begin", "aligned", r"\mathcal", "$$"):
        assert command not in text


def _path_operators(page: object) -> int:
    content = page.get_contents().get_data()  # type: ignore[attr-defined]
    return content.count(b" re\n") + content.count(b" c\n") + content.count(b" l\n")


def test_math_is_drawn_as_vector_paths(handin: Path, tmp_path: Path) -> None:
    reader = pypdf.PdfReader(str(handin))
    # glyph outlines as curves (c) and lines (l): hundreds on a page of derivations
    with_math = _path_operators(reader.pages[0])
    assert with_math > 500
    # a notebook without math draws only boxes and rules (a few dozen): the curves are the math
    plain = write(tmp_path / "plain.ipynb", notebook(md("# Title\n\nJust words."), code("x = 1")))
    without_math = _path_operators(pypdf.PdfReader(str(notebook_to_pdf(plain, tmp_path / "plain.pdf"))).pages[0])
    assert without_math < 100 and with_math > 10 * without_math


def test_outputs_embed_the_plot_as_an_image(handin: Path) -> None:
    reader = pypdf.PdfReader(str(handin))
    # WeasyPrint shares one resource dictionary between pages, so count distinct images, not per page
    assert len({image.name for page in reader.pages for image in page.images}) == 1


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_the_first_page_is_not_blank(handin: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile", str(handin), str(tmp_path / "p1")], check=True)
    image = Image.open(tmp_path / "p1.png").convert("L")
    assert ImageStat.Stat(image).var[0] > 100


def test_a_notebook_without_headings_is_titled_by_its_file_name(tmp_path: Path) -> None:
    path = write(tmp_path / "ex1-jane.ipynb", notebook(md("Some text with $\\alpha$."), code("1 + 1")))
    page = notebook_html(path)
    assert "<title>ex1-jane</title>" in page
    assert '<h1 class="title">ex1-jane</h1>' in page


def test_markdown_does_not_mangle_math(tmp_path: Path) -> None:
    path = write(tmp_path / "nb.ipynb", notebook(md(r"$$a_1 * b_2 * c \\ d$$ and `$x_1$` and _emph_")))
    page = notebook_html(path)
    assert "<em>emph</em>" in page
    assert "<code>$x_1$</code>" in page
    assert page.count("<em>") == 1
