"""LaTeX to inline SVG with ziamath (pure Python: LaTeX to MathML to glyph paths), no JavaScript, no TeX.

ziamath draws `aligned`, `\\boxed`, `\\stackrel`, `\\underset`, `\\operatorname` and fences itself; what it
lacks is patched here before rendering: equation/align environments become `aligned`, bare `&` rows get an
`aligned` around them, labels and other invisible commands are dropped, unknown commands (which ziamath
would print as `\\name`) are removed, and a large operator with one limit inside `\\left...\\right` gets
`\\limits` (without it ziamath 0.13 stretches the fence to the height of the page).
"""

from __future__ import annotations

import hashlib
import html
import re
import warnings
import xml.etree.ElementTree as ET
from collections import Counter
from functools import lru_cache

from markupsafe import Markup, escape

# ziamath draws at 24 px to the em; sizes are given in em so that math follows the surrounding font
_EM = 24.0

_DROPPED = re.compile(r"\\(?:label|vspace\*?|tag\*?)\s*\{[^{}]*\}|\\(?:nonumber|notag|hline|displaybreak|allowbreak)\b")
_ENVIRONMENT = re.compile(r"\\(begin|end)\{(equation|align|gather|multline|eqnarray|flalign)(\*?)\}")
_ENV_REPLACEMENT = {"equation": "", "align": "aligned", "flalign": "aligned", "eqnarray": "aligned",
                    "gather": "gathered", "multline": "gathered"}
_BIG_OPERATOR = r"\\(?:sum|prod|coprod|bigcup|bigcap|bigsqcup|bigvee|bigwedge|bigoplus|bigotimes|bigodot|biguplus)"
_FENCE_OR_OPERATOR = re.compile(r"\\left(?![a-zA-Z])|\\right(?![a-zA-Z])|" + _BIG_OPERATOR + r"(?![a-zA-Z])(?!\s*\\(?:no)?limits)")
_LITERAL_COMMAND = re.compile(r"\\[a-zA-Z]+")


def _limits_inside_fences(latex: str) -> str:
    """`\\sum_k` inside `\\left(...\\right)` becomes `\\sum\\limits_k`: ziamath's fence grows without bound otherwise."""
    out, depth, last = [], 0, 0
    for match in _FENCE_OR_OPERATOR.finditer(latex):
        token = match.group(0)
        if token == "\\left":
            depth += 1
        elif token == "\\right":
            depth = max(0, depth - 1)
        elif depth > 0:
            out.append(latex[last:match.end()] + "\\limits")
            last = match.end()
    out.append(latex[last:])
    return "".join(out)


def _environments(latex: str) -> str:
    """Display environments ziamath does not know become the `aligned` family (or nothing, for `equation`)."""

    def replace(match: re.Match[str]) -> str:
        name = _ENV_REPLACEMENT[match.group(2)]
        return f"\\{match.group(1)}{{{name}}}" if name else ""

    latex = _ENVIRONMENT.sub(replace, latex)
    if "&" in latex.replace("\\&", "") and "\\begin" not in latex:
        latex = f"\\begin{{aligned}}{latex}\\end{{aligned}}"
    return latex


def prepare(latex: str) -> str:
    """The student's LaTeX rewritten into what ziamath renders correctly."""
    latex = _DROPPED.sub("", latex.strip())
    latex = re.sub(r"\\eqref\s*\{([^{}]*)\}", r"(\1)", latex)
    latex = re.sub(r"\\(?:intertext|mbox)\s*\{", r"\\text{", latex)
    latex = re.sub(r"\\ensuremath(?![a-zA-Z])", "", latex)
    latex = _environments(latex)
    return _limits_inside_fences(latex).strip()


def _unknown_commands(element: ET.Element) -> set[str]:
    """Commands ziamath did not understand: it prints them as text, backslash and all."""
    found: set[str] = set()
    for node in element.iter():
        if node.tag not in {"mtext", "ms"} and node.text:
            found.update(_LITERAL_COMMAND.findall(node.text))
    return found


def _ziamath_svg(latex: str, display: bool) -> str:
    import ziamath

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expression = ziamath.Latex(latex, inline=not display)
        unknown = _unknown_commands(expression.mathml)
        if unknown:
            for command in sorted(unknown, key=len, reverse=True):
                latex = re.sub(re.escape(command) + r"(?![a-zA-Z])", "", latex)
            expression = ziamath.Latex(latex, inline=not display)
        return expression.svg()


def _sized(svg: str, prefix: str, display: bool) -> str:
    """Ids prefixed per formula, size in em, the baseline on the text's baseline."""
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}\1"', svg)
    svg = re.sub(r'\b((?:xlink:)?href)="#([^"]+)"', rf'\1="#{prefix}\2"', svg)
    box = re.search(r'viewBox="([-\d.e]+) ([-\d.e]+) ([-\d.e]+) ([-\d.e]+)"', svg)
    size = re.search(r'<svg[^>]*?\swidth="([\d.e]+)" height="([\d.e]+)"', svg)
    if box is None or size is None:
        raise ValueError("ziamath returned an SVG without a size")
    width, height = float(size.group(1)), float(size.group(2))
    below_baseline = float(box.group(2)) + float(box.group(4))
    kind = "math-display" if display else "math-inline"
    style = f"width:{width / _EM:.3f}em;height:{height / _EM:.3f}em"
    if not display:
        style += f";vertical-align:{-below_baseline / _EM:.3f}em"
    svg = svg[: size.start(1) - 8] + svg[size.end() :]
    return svg.replace("<svg", f'<svg class="math {kind}" role="img" style="{style}"', 1)


@lru_cache(maxsize=4096)
def latex_svg(latex: str, display: bool = False) -> str | None:
    """An inline `<svg>` drawing this LaTeX (glyphs as paths, ids unique to it), or None if it cannot be drawn."""
    if not latex.strip():
        return None
    prefix = "m" + hashlib.sha1(f"{display}:{latex}".encode()).hexdigest()[:10] + "-"
    try:
        return _sized(_ziamath_svg(prepare(latex), display), prefix, display)
    except Exception:  # ziamath fails in many ways on malformed LaTeX; None means "show the source"
        return None


def math_markup(latex: str, display: bool = False) -> Markup:
    """For Jinja: the formula as SVG, or its LaTeX escaped in a `<code>` when it cannot be drawn."""
    svg = latex_svg(latex, display)
    if svg is None:
        return Markup('<code class="math-source">{}</code>').format(latex)
    return Markup(svg)


_MATH = re.compile(
    r"\$\$(?P<dollars>.+?)\$\$"
    r"|\\\[(?P<brackets>.+?)\\\]"
    r"|(?P<environment>\\begin\{(?P<name>aligned|align\*?|equation\*?|gather\*?|gathered|multline\*?|eqnarray\*?)\}"
    r".*?\\end\{(?P=name)\})"
    r"|\\\((?P<parens>.+?)\\\)"
    r"|(?<![\\$])\$(?![\s$])(?P<dollar>(?:\\.|[^$\\])+?)(?<![\s\\])\$(?!\d)",
    re.S,
)
_VERBATIM = re.compile(r"(<(pre|code|script|style)\b.*?</\2\s*>)", re.S | re.I)


def find_math(text: str) -> list[tuple[int, int, str, bool]]:
    """Every formula in text: (start, end, LaTeX, display), in order."""
    found = []
    for match in _MATH.finditer(text):
        inline = match.group("dollar") or match.group("parens")
        if inline is not None:
            found.append((match.start(), match.end(), inline, False))
        else:
            latex = match.group("dollars") or match.group("brackets") or match.group("environment")
            found.append((match.start(), match.end(), latex, True))
    return found


class _Uniquifier:
    """The same formula twice on a page gets its ids renamed the second time (ids must be unique per page)."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def __call__(self, svg: str) -> str:
        prefix = re.search(r'\bid="(m[0-9a-f]{10}-)', svg)
        if prefix is None:
            return svg
        self.seen[prefix.group(1)] += 1
        count = self.seen[prefix.group(1)]
        if count == 1:
            return svg
        return svg.replace(f'"{prefix.group(1)}', f'"{prefix.group(1)}{count}-').replace(
            f'"#{prefix.group(1)}', f'"#{prefix.group(1)}{count}-'
        )


def render_formula(latex: str, display: bool, unique: _Uniquifier | None = None) -> str:
    """HTML for one formula: its SVG (display ones in a centred block), else the escaped LaTeX in `<code>`."""
    svg = latex_svg(latex, display)
    if svg is None:
        source = escape(f"$${latex}$$" if display else f"${latex}$")
        return str(Markup('<code class="math-source">{}</code>').format(source))
    if unique is not None:
        svg = unique(svg)
    return f'<span class="math-block">{svg}</span>' if display else svg


def render_math_in_markdown_html(html_text: str) -> str:
    """Markdown's HTML with `$...$`, `$$...$$`, `\\[...\\]`, `\\(...\\)` and equation environments drawn as SVG.

    Text inside `<pre>` and `<code>` is left alone. Markdown has escaped `<`, `>` and `&` in the math; they
    are unescaped before rendering.
    """
    unique = _Uniquifier()
    pieces = _VERBATIM.split(html_text)
    out = []
    # split() with two groups yields: text, verbatim block, tag name, text, ...
    for index in range(0, len(pieces), 3):
        text = pieces[index]
        last = 0
        for start, end, latex, display in find_math(text):
            out.append(text[last:start])
            out.append(render_formula(html.unescape(latex), display, unique))
            last = end
        out.append(text[last:])
        if index + 1 < len(pieces):
            out.append(pieces[index + 1])
    return "".join(out)
