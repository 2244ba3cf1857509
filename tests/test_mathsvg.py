"""LaTeX from students' write-ups drawn as SVG: the constructs they use, ids, fallbacks, math in markdown HTML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markupsafe import Markup

from grader.report.mathsvg import latex_svg, math_markup, prepare, render_math_in_markdown_html

SEED_FORMULAS = [
    r"\begin{aligned} p(\mu|D) &\propto p(D|\mu)p(\mu) = \exp\left(-\frac{n}{2\sigma^2} (-2\mu\bar{x} + \mu^2)\right) \\ &= \exp\left(-\frac{1}{2\tau^2}\mu^2\right) \end{aligned}",
    r"\boxed{\frac{\partial L}{\partial W_1^{h,m}} = (\hat{y} - y)(W_2^h)(z_1^h(1 - z_1^h))(x_m)}",
    r"\exp\left(-\frac{1}{2\tau^2}\mu^2\right) \stackrel{\text{def}}{=} \exp\left(-\frac{1}{2\sigma_{new}^2}\right)",
    r"\mu_{MLE} = \underset{\mu}{\operatorname{argmax}} p(D|\mu)",
    r"\text{As } \hat{y}^n = f(x^n), \quad \frac{\partial \hat{y}^n}{\partial f(x^n)} = 1",
    r"\therefore \frac{\partial C^n(w)}{\partial w^i} \implies \mathbf{w} \in \mathcal{D}",
    r"\lim_{n \rightarrow \infty} \frac{\mu_{MAP}}{\mu_{MLE}} = 1",
]


def _height_em(svg: str) -> float:
    found = re.search(r"height:([\d.]+)em", svg)
    assert found is not None
    return float(found.group(1))


def test_every_seed_construct_renders_to_well_formed_svg():
    for latex in SEED_FORMULAS:
        svg = latex_svg(latex, display=True)
        assert svg is not None, latex
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
        assert "\\" not in "".join(root.itertext())


def test_inline_math_sits_on_the_baseline_and_scales_with_the_font():
    svg = latex_svg(r"\hat{y}_k")
    assert svg is not None
    assert re.search(r'style="width:[\d.]+em;height:[\d.]+em;vertical-align:-[\d.]+em"', svg)
    assert 'class="math math-inline"' in svg


def test_ids_are_prefixed_per_formula_and_output_is_deterministic():
    first, second = latex_svg(r"\hat{y}"), latex_svg(r"\bar{x}")
    assert first is not None and second is not None
    ids = set(re.findall(r'id="([^"]+)"', first))
    assert ids and ids.isdisjoint(re.findall(r'id="([^"]+)"', second))
    assert all(re.search(rf'href="#{re.escape(i)}"', first) for i in ids)
    latex_svg.cache_clear()
    assert latex_svg(r"\hat{y}") == first


def test_a_sum_with_one_limit_inside_fences_keeps_its_height():
    # ziamath stretches \left( to a page's height around \sum_i without \limits
    svg = latex_svg(r"\exp\left(-\frac{1}{2\sigma^2} \sum_i (x_i - \mu)^2\right)", display=True)
    assert svg is not None and _height_em(svg) < 4
    assert prepare(r"\left(\sum_i x\right) + \sum_j y") == r"\left(\sum\limits_i x\right) + \sum_j y"


def test_environments_rows_and_invisible_commands_are_prepared():
    assert prepare(r"\begin{align} a &= b \label{x} \end{align}") == r"\begin{aligned} a &= b  \end{aligned}"
    assert prepare(r"\begin{equation} a = b \end{equation}") == "a = b"
    assert prepare(r"a &= b \\ c &= d").startswith(r"\begin{aligned}")
    assert latex_svg(r"x &= y \\ z &= w", display=True) is not None


def test_unknown_commands_are_dropped_not_printed():
    svg = latex_svg(r"\foo{x} + y")
    assert svg is not None
    assert "foo" not in svg


def test_what_cannot_be_drawn_is_none_and_markup_shows_the_source():
    assert latex_svg(r"\frac{") is None
    assert latex_svg("   ") is None
    markup = math_markup(r"\frac{<")
    assert isinstance(markup, Markup)
    assert markup == Markup(r'<code class="math-source">\frac{&lt;</code>')
    assert str(math_markup(r"\hat{y}", display=True)).startswith('<svg class="math math-display"')


def test_math_in_markdown_html_is_drawn_and_code_is_left_alone():
    page = (
        "<p>Let $x &lt; y$ and \\(z\\).</p><pre><code>echo $HOME $PATH</code></pre>"
        "<p>$$\\frac{a}{b}$$</p><p><code>$y$</code></p><p>\\[ a \\]</p>"
        "\\begin{aligned} a &amp;= b \\end{aligned}<p>costs $5 and $10</p>"
    )
    out = render_math_in_markdown_html(page)
    assert out.count('class="math math-inline"') == 2
    assert out.count('class="math math-display"') == 3
    assert "<pre><code>echo $HOME $PATH</code></pre>" in out
    assert "<code>$y$</code>" in out
    assert "costs $5 and $10" in out


def test_the_same_formula_twice_on_a_page_gets_distinct_ids():
    out = render_math_in_markdown_html("<p>$\\hat{y}$ and $\\hat{y}$</p>")
    ids = re.findall(r'id="([^"]+)"', out)
    assert len(ids) == len(set(ids))
