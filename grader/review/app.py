"""The review page as a Starlette application: the queue, by question, by student, and saving reviews.

Security, for a page that writes grades and listens on the instructor's machine:
- every request needs the random token printed at start (in the URL once, then an HttpOnly,
  SameSite=Strict cookie named for the port), compared in constant time;
- the Host header must name this machine (no DNS rebinding);
- every POST carries a CSRF token in a form field, and its Origin (or Referer) must be this page;
- files are served from inside OUT only (resolved, no `..`, no hidden files, no links out);
- every page is a Jinja2 template with autoescaping; student ids travel URL-encoded.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from grader.batch import output_lock
from grader.errors import OutputLocked
from grader.outputs import pdfs_behind, rewrite_after_review, write_pdf_from_html
from grader.report.hints import hint
from grader.report.html import _code_listing, _figures
from grader.report.mathsvg import math_markup
from grader.review.board import CATEGORY_NAMES, Board, load_board
from grader.reviews import Review, apply_reviews, load_reviews, merged, now, save_reviews, without

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
SERVED_SUFFIXES = frozenset({".html", ".pdf", ".json", ".csv", ".svg", ".png"})


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("grader.review", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(fmt=_fmt, hint=hint, math=lambda latex: math_markup(latex, display=True), q=_quote,
                       category_names=CATEGORY_NAMES, figures=_figures)
    return env


def _fmt(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _quote(text: str) -> str:
    return quote(text, safe="")


class ReviewApp:
    """The application over one output folder, with its secrets."""

    def __init__(self, out: Path, token: str | None = None) -> None:
        self.out = out.resolve()
        self.token = token or secrets.token_urlsafe(24)
        self.csrf = hmac.new(self.token.encode(), b"csrf", hashlib.sha256).hexdigest()
        self.env = _environment()
        self.write_lock = threading.Lock()
        self.pdfs = PdfFollower(self.out)
        self.pdfs.start()  # PDFs a review (or a server stopped midway) left behind their HTML
        load_board(self.out)  # a folder that cannot be reviewed stops the command before it serves anything
        routes = [
            Route("/", self.index),
            Route("/question/{task}/{test}", self.question),
            Route("/student/{student}", self.student),
            Route("/review", self.save, methods=["POST"]),
            Route("/files/{path:path}", self.files),
        ]
        self.starlette = Starlette(routes=routes)

    # ------------------------------------------------------------ security

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.starlette(scope, receive, send)
            return
        request = Request(scope, receive)
        refused = self._refusal(request)
        if refused is not None:
            await refused(scope, receive, send)
            return
        if request.query_params.get("token"):
            await self._enter(request)(scope, receive, send)
            return
        await self.starlette(scope, receive, send)

    def _cookie(self, request: Request) -> str:
        return f"grader_review_{request.url.port or 80}"

    def _refusal(self, request: Request) -> Response | None:
        """Why this request is refused, or None to serve it."""
        host = (request.url.hostname or "").lower()
        if host not in LOCAL_HOSTS:
            return self._error(400, "This page answers on 127.0.0.1 only.")
        given = request.query_params.get("token") or request.cookies.get(self._cookie(request), "")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return self._error(403, "Open the page with the link `grader review` printed (it holds the token).")
        return None

    def _enter(self, request: Request) -> Response:
        """The first visit: the token goes into a cookie, and out of the address bar."""
        target = request.url.path + "".join(
            f"{'&' if n else '?'}{quote(k)}={quote(v)}"
            for n, (k, v) in enumerate((k, v) for k, v in request.query_params.multi_items() if k != "token"))
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(self._cookie(request), self.token, httponly=True, samesite="strict", path="/")
        return response

    def _same_origin(self, request: Request) -> bool:
        """A POST whose Origin, or failing that Referer, is this page; one with neither relies on the CSRF token."""
        here = f"{request.url.scheme}://{request.headers.get('host', '')}"
        origin = request.headers.get("origin")
        if origin is not None:
            return origin == here
        referer = request.headers.get("referer")
        if referer is not None:
            parts = urlsplit(referer)
            return f"{parts.scheme}://{parts.netloc}" == here
        return True

    def _error(self, status: int, message: str) -> HTMLResponse:
        page = self.env.get_template("error.html.j2").render(status=status, message=message)
        return HTMLResponse(page, status_code=status)

    # ------------------------------------------------------------ pages

    def _board(self) -> Board:
        return load_board(self.out)

    def _page(self, name: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(name).render(csrf=self.csrf, **context))

    async def index(self, request: Request) -> Response:
        board = self._board()
        return self._page("index.html.j2", board=board, rows=board.rows(), next_row=board.next_pending(),
                          title=_title(board))

    async def question(self, request: Request) -> Response:
        board = self._board()
        task, test = request.path_params["task"], request.path_params["test"]
        groups = board.groups(task, test)
        if not groups:
            return self._error(404, f"No test {test!r} in task {task!r}.")
        rows = board.rows()
        at = next(n for n, r in enumerate(rows) if (r.task, r.test) == (task, test))
        later = next((r for r in rows[at + 1:] if r.pending), None)
        return self._page("question.html.j2", board=board, task=task, test=test, groups=groups,
                          row=rows[at], next_row=later, title=_title(board),
                          max_score=groups[0].first.max_score)

    async def student(self, request: Request) -> Response:
        board = self._board()
        name = request.path_params["student"]
        if name not in board.stored:
            return self._error(404, "No such student in this folder.")
        stored = board.stored[name]
        students = board.students
        at = students.index(name)
        items = {(i.task, i.test): i for i in board.items_of(name)}
        reviewed, _ = apply_reviews(stored.result, board.reviews, stored.fingerprint)
        return self._page("student.html.j2", board=board, student=name, result=stored.result, items=items,
                          reviewed_score=reviewed.score,
                          code_listing=_code_listing(stored.result.sources), title=_title(board),
                          previous=students[at - 1] if at else None,
                          following=students[at + 1] if at + 1 < len(students) else None)

    async def files(self, request: Request) -> Response:
        """A report inside OUT (feedback.html, summary.html, ...): never anything outside it, nothing hidden."""
        relative = request.path_params["path"]
        parts = Path(relative).parts
        if not relative or any(p in ("..", "") or p.startswith(".") for p in parts) or Path(relative).is_absolute():
            return self._error(404, "Not a report of this folder.")
        path = (self.out / relative).resolve()
        if not path.is_relative_to(self.out) or not path.is_file() or path.suffix not in SERVED_SUFFIXES:
            return self._error(404, "Not a report of this folder.")
        return FileResponse(path)

    # ------------------------------------------------------------ saving

    async def save(self, request: Request) -> Response:
        form = await request.form()
        if not hmac.compare_digest(str(form.get("csrf", "")).encode(), self.csrf.encode()) or not self._same_origin(request):
            return self._error(403, "This form did not come from the review page; reload the page and try again.")
        task, test = str(form.get("task", "")), str(form.get("test", ""))
        students = [str(s) for s in form.getlist("student")]
        action = str(form.get("action", "save"))
        back = str(form.get("back", "/"))
        if not back.startswith("/") or back.startswith("//") or "\\" in back:
            back = "/"
        board = self._board()
        unknown = [s for s in students if s not in board.stored]
        if unknown or not students or not task or not test:
            return self._error(400, "Nothing to save: no known student, task or test in the form.")
        points: float | None = None
        raw = str(form.get("quick") or form.get("points", "")).strip()  # a quick button's points win
        if raw:
            try:
                points = float(raw)
            except ValueError:
                return self._error(400, f"Points must be a number, not {raw!r}.")
            if points != points or points < 0:
                return self._error(400, "Points must be a number of at least 0.")
        comment = str(form.get("comment", "")).strip()
        try:
            self._write(board, students, task, test, points, comment, action)
        except OutputLocked as error:
            return self._error(409, error.message)
        return RedirectResponse(back, status_code=303)

    def _write(self, board: Board, students: list[str], task: str, test: str, points: float | None, comment: str,
               action: str) -> None:
        with self.write_lock, output_lock(self.out):
            reviews = load_reviews(self.out)
            keys = [(s, task, test) for s in students]
            if action == "clear":
                reviews = without(reviews, keys)
            elif points is None and not comment:
                reviews = without(reviews, keys)  # an empty form takes the review back
            else:
                stamp = now()
                reviews = merged(reviews, (Review(s, task, test, points, comment, stamp,
                                                  board.stored[s].fingerprint) for s in students))
            save_reviews(self.out, reviews)
            rewrite_after_review(self.out, students, pdf=False)  # PDFs take a second each: written behind
        self.pdfs.wake.set()


class PdfFollower(threading.Thread):
    """Writes, one at a time and in the background, the PDFs that are older than their HTML page.

    A save on the page rewrites JSON, CSV and HTML at once; a PDF takes WeasyPrint a second or more,
    which a group of a hundred students must not wait for. A PDF left behind (the server stopped
    midway) is found again by its date at the next start.
    """

    def __init__(self, out: Path) -> None:
        super().__init__(name="review-pdfs", daemon=True)
        self.out = out
        self.wake = threading.Event()
        self.wake.set()

    def run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            for pdf in pdfs_behind(self.out):
                try:
                    write_pdf_from_html(pdf)
                # a page WeasyPrint cannot draw, a folder that went away: the others are still written
                except Exception:  # noqa: BLE001
                    continue


def _title(board: Board) -> str:
    return next(iter(board.stored.values())).title


def review_app(out: Path, token: str | None = None) -> ReviewApp:
    """The ASGI application for `grader review OUT`."""
    return ReviewApp(out, token)
