"""The review page refuses what it must: no or wrong token, other hosts, cross-site POSTs, paths out of OUT;
and a student id holding HTML is text everywhere. Through the real server, with raw HTTP requests."""

from __future__ import annotations

import http.client
import os
import re
from urllib.parse import quote, urlencode, urlsplit

import pytest
from review_class import GOOD, ReviewServer, grade, make_class

EVIL = '<img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("security")
    submissions = make_class(root / "submissions")
    (submissions / f"{EVIL}.py").write_text(GOOD.replace('"(w*x - y)*x"', '"w*x"'))
    out = root / "grades"
    grade(submissions, out)
    (root / "secret.html").write_text("TOP SECRET")
    os.symlink(root / "secret.html", out / "leak.html")
    server = ReviewServer(out)
    yield server, out
    server.close()


def request(server: ReviewServer, method: str, path: str, headers: dict[str, str] | None = None,
            body: str | None = None) -> tuple[int, dict[str, str], str]:
    """One raw request: the path is sent exactly as given (no client-side `..` clean-up)."""
    parts = urlsplit(server.base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    sent = {"Host": parts.netloc, **(headers or {})}
    if body is not None:
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        sent["Content-Length"] = str(len(body.encode()))
    for key, value in sent.items():
        connection.putheader(key, value)
    connection.endheaders(body.encode() if body is not None else None)
    response = connection.getresponse()
    text = response.read().decode("utf-8", "replace")
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, text


def cookie(server: ReviewServer) -> dict[str, str]:
    status, headers, _ = request(server, "GET", f"/?token={server.token}")
    assert status == 303 and headers["location"] == "/"
    assert "httponly" in headers["set-cookie"].lower() and "samesite=strict" in headers["set-cookie"].lower()
    return {"Cookie": headers["set-cookie"].split(";")[0]}


def csrf_of(server: ReviewServer, auth: dict[str, str], student: str = "alice") -> str:
    _, _, page = request(server, "GET", f"/student/{student}", auth)
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def test_no_token_or_a_wrong_one_is_refused(served):
    server, _ = served
    for path in ("/", "/student/alice", "/files/summary.html", "/?token=wrong", f"/?token={server.token}x"):
        status, _, text = request(server, "GET", path)
        assert status == 403, path
        assert "grader review" in text and "alice" not in text
    assert request(server, "GET", "/", {"Cookie": "grader_review_1=" + server.token})[0] == 403  # another port's
    assert request(server, "GET", "/", cookie(server))[0] == 200


def test_another_host_name_is_refused_even_with_the_token(served):
    server, _ = served
    status, _, _ = request(server, "GET", f"/?token={server.token}", {"Host": "attacker.example"})
    assert status == 400


def test_a_cross_site_post_changes_nothing(served):
    server, out = served
    auth = cookie(server)
    csrf = csrf_of(server, auth)
    form = {"task": "grad", "test": "written answer q1", "student": "frank", "points": "2", "comment": "x"}
    attempts = [
        ({**auth, "Origin": "http://attacker.example"}, {**form, "csrf": csrf}),  # the right token, another site
        ({**auth, "Referer": "http://attacker.example/page"}, {**form, "csrf": csrf}),
        ({**auth, "Origin": server.base}, form),  # same site, no CSRF token
        ({**auth, "Origin": server.base}, {**form, "csrf": "0" * 64}),
        ({"Origin": server.base}, {**form, "csrf": csrf}),  # no cookie (a cross-site request carries none)
    ]
    for headers, fields in attempts:
        status, _, _ = request(server, "POST", "/review", headers, urlencode(fields))
        assert status == 403, headers
        assert not (out / "reviews.json").exists()
    status, headers, _ = request(server, "POST", "/review", {**auth, "Origin": server.base},
                                 urlencode({**form, "csrf": csrf, "back": "//attacker.example/"}))
    assert status == 303 and headers["location"] == "/"  # saved, and the redirect stays on this page
    assert (out / "reviews.json").exists()


def test_no_path_outside_the_output_folder_is_served(served):
    server, out = served
    auth = cookie(server)
    assert request(server, "GET", "/files/summary.html", auth)[0] == 200
    for path in ("/files/../secret.html", "/files/%2e%2e/secret.html", "/files/alice/..%2f..%2fsecret.html",
                 "/files/..%2fsecret.html", "/files/leak.html", "/files//etc/passwd", "/files/%2fetc%2fpasswd",
                 "/files/alice/.review.json", "/files/.class.json", "/../secret.html"):
        status, _, text = request(server, "GET", path, auth)
        assert status in (400, 404), path
        assert "TOP SECRET" not in text and "root:" not in text


def test_a_student_id_holding_html_is_text_everywhere(served):
    server, out = served
    auth = cookie(server)
    pages = [request(server, "GET", "/", auth)[2],
             request(server, "GET", "/question/grad/" + quote("written answer q1", safe=""), auth)[2],
             request(server, "GET", "/student/" + quote(EVIL, safe=""), auth)[2],
             (out / "summary.html").read_text(), (out / EVIL / "feedback.html").read_text()]
    for page in pages:
        assert EVIL not in page and "<img src=x" not in page
        assert "&lt;img src=x onerror=" in page
