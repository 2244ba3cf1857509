"""HTML to PDF with WeasyPrint: no TeX, no browser."""

from __future__ import annotations

import logging

from grader.errors import GraderError


def html_to_pdf(html: str, base_url: str | None = None, offline: bool = False) -> bytes:
    """The same page the HTML shows, as PDF bytes; `offline` fetches only data: and file: URLs."""
    try:
        from weasyprint import HTML
    except ImportError:
        raise GraderError("PDF output needs WeasyPrint and its system libraries (Pango): pip install weasyprint") from None
    # WeasyPrint logs every CSS property it skips (SVG styling, overflow): noise for a grader's user
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    fetcher = None
    if offline:
        from weasyprint.urls import URLFetcher

        fetcher = URLFetcher(allowed_protocols={"data", "file"})
    pdf = HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
    assert pdf is not None
    return pdf
