"""HTML to PDF with WeasyPrint: no TeX, no browser."""

from __future__ import annotations

import logging

from grader.errors import GraderError


def html_to_pdf(html: str) -> bytes:
    """The same page the HTML report shows, as PDF bytes."""
    try:
        from weasyprint import HTML
    except ImportError:
        raise GraderError("--pdf needs WeasyPrint: pip install 'mlgrader[pdf]'") from None
    # WeasyPrint logs every CSS property it skips (SVG styling, overflow): noise for a grader's user
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None
    return pdf
