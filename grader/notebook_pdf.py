"""A student's notebook as a PDF to hand in: markdown with its math drawn as SVG, highlighted code, outputs.

No TeX and no browser: the page is built from `report/templates/notebook.html.j2` and printed by WeasyPrint.
"""

from __future__ import annotations

import base64
import html
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mistune
import nbformat
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from grader.errors import GraderError
from grader.report.html import template_environment
from grader.report.mathsvg import find_math, render_formula
from grader.report.pdf import html_to_pdf

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CODE_IN_MARKDOWN = re.compile(r"(^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\2[`~]*[ \t]*$|(`+)[^\n]*?\3)", re.S | re.M)
_PLACEHOLDER = "MATHPLACEHOLDER{}END"
_IMAGES = ("image/png", "image/jpeg", "image/svg+xml")


@dataclass(frozen=True)
class Output:
    """One output of a code cell, reduced to what the template draws: `kind` is text, error, image or html."""

    kind: str
    text: str = ""
    src: str = ""
    html: Markup = Markup("")


@dataclass(frozen=True)
class Cell:
    """One cell as the template draws it."""

    kind: str  # markdown, code or raw
    html: Markup = Markup("")
    source: str = ""
    prompt: str = ""
    outputs: tuple[Output, ...] = ()
    first_heading: bool = False


_markdown = mistune.create_markdown(escape=False, plugins=["strikethrough", "table", "url"])


def markdown_html(source: str, attachments: dict[str, Any] | None = None) -> Markup:
    """Markdown to HTML with its math drawn as SVG; math is swapped for placeholders first, so that
    markdown never sees (and mangles) its underscores and backslashes."""
    formulas: list[str] = []
    protected = []
    last = 0
    for code in _CODE_IN_MARKDOWN.finditer(source):
        protected.append(_swap_math(source[last : code.start()], formulas))
        protected.append(code.group(0))
        last = code.end()
    protected.append(_swap_math(source[last:], formulas))
    rendered = str(_markdown("".join(protected)))
    for index, formula in enumerate(formulas):
        rendered = rendered.replace(_PLACEHOLDER.format(index), formula, 1)
    for name, bundle in (attachments or {}).items():
        for mime in _IMAGES:
            if mime in bundle:
                rendered = rendered.replace(f'"attachment:{name}"', f'"{_data_uri(mime, bundle[mime])}"')
    return Markup(rendered)


def _swap_math(text: str, formulas: list[str]) -> str:
    out, last = [], 0
    for start, end, latex, display in find_math(text):
        out.append(text[last:start])
        out.append(_PLACEHOLDER.format(len(formulas)))
        formulas.append(render_formula(latex, display))
        last = end
    out.append(text[last:])
    return "".join(out)


def _data_uri(mime: str, data: Any) -> str:
    if isinstance(data, list):
        data = "".join(data)
    if mime == "image/svg+xml":
        data = base64.b64encode(data.encode()).decode()
    return f"data:{mime};base64,{''.join(str(data).split())}"


def _text(value: Any) -> str:
    return _ANSI.sub("", "".join(value) if isinstance(value, list) else str(value))


def _output(output: Any) -> Output | None:
    kind = output.get("output_type")
    if kind == "stream":
        return Output("text", text=_text(output.get("text", "")))
    if kind == "error":
        return Output("error", text=_text("\n".join(output.get("traceback", [])) or output.get("evalue", "")))
    data = output.get("data", {})
    for mime in _IMAGES:
        if mime in data:
            return Output("image", src=_data_uri(mime, data[mime]))
    if "text/html" in data:
        return Output("html", html=Markup(_text(data["text/html"])))
    if "text/latex" in data:
        return Output("html", html=markdown_html(_text(data["text/latex"])))
    if "text/markdown" in data:
        return Output("html", html=markdown_html(_text(data["text/markdown"])))
    if "text/plain" in data:
        return Output("text", text=_text(data["text/plain"]))
    return None


def _code_cell(cell: Any, formatter: HtmlFormatter[str], lexer: Any) -> Cell:
    count = cell.get("execution_count")
    outputs = tuple(o for o in (_output(raw) for raw in cell.get("outputs", [])) if o is not None)
    source = _text(cell.get("source", ""))
    return Cell(
        "code",
        html=Markup(highlight(source, lexer, formatter)) if source.strip() else Markup(""),
        source=source,
        prompt=f"[{count if count is not None else ' '}]",
        outputs=outputs,
    )


def _lexer(nb: Any) -> Any:
    name = nb.get("metadata", {}).get("language_info", {}).get("name", "python")
    try:
        return get_lexer_by_name(name)
    except ClassNotFound:
        return PythonLexer()


def notebook_cells(nb: Any) -> tuple[Cell, ...]:
    """Every cell of a notebook as the template draws it; the first cell holding an `<h1>` is marked."""
    formatter: HtmlFormatter[str] = HtmlFormatter(cssclass="highlight")
    lexer = _lexer(nb)
    cells: list[Cell] = []
    seen_heading = False
    for cell in nb.get("cells", []):
        kind = cell.get("cell_type")
        if kind == "markdown":
            rendered = markdown_html(_text(cell.get("source", "")), cell.get("attachments"))
            first = not seen_heading and "<h1" in rendered
            seen_heading = seen_heading or first
            cells.append(Cell("markdown", html=rendered, first_heading=first))
        elif kind == "code":
            cells.append(_code_cell(cell, formatter, lexer))
        elif kind == "raw" and _text(cell.get("source", "")).strip():
            cells.append(Cell("raw", source=_text(cell.get("source", ""))))
    return tuple(cells)


def _title(cells: tuple[Cell, ...], notebook: Path) -> str:
    """The text of the first heading, or the file name."""
    for cell in cells:
        heading = re.search(r"<h[1-6][^>]*>(.*?)</h[1-6]>", cell.html, re.S) if cell.kind == "markdown" else None
        if heading:
            text = html.unescape(re.sub(r"<[^>]+>", "", heading.group(1))).strip()
            if text:
                return text
    return notebook.stem


def _read(notebook: Path) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a hand-in with duplicate cell ids still prints
            return nbformat.read(str(notebook), as_version=4)
    except (OSError, ValueError) as error:
        raise GraderError(f"{notebook}: cannot read the notebook ({error})") from error


def notebook_html(notebook: Path) -> str:
    """The notebook as one HTML page, ready for print."""
    nb = _read(notebook)
    cells = notebook_cells(nb)
    env = template_environment()
    has_heading = any(cell.first_heading for cell in cells)
    return env.get_template("notebook.html.j2").render(
        title=_title(cells, notebook),
        show_title=not has_heading,
        cells=cells,
        pygments_css=Markup(HtmlFormatter(cssclass="highlight").get_style_defs(".highlight")),
    )


def notebook_to_pdf(notebook: Path, out: Path) -> Path:
    """Print a notebook to a PDF to hand in; returns `out`."""
    page = notebook_html(notebook)
    # images embedded in the notebook and files beside it only: never the network
    pdf = html_to_pdf(page, base_url=str(notebook.resolve().parent), offline=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    return out
