"""Hand-in archives: every `.zip` in SUBMISSIONS gets a gradebook row, and none can write outside its folder.

Through `discover`/`load` for the rules, through the real `grade` command for the outcome; the
refusal of one student's folder given as SUBMISSIONS through the real command too.
"""

from __future__ import annotations

import csv
import io
import json
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from conftest import DEMO, REPO, run_cli
from nbbuild import code, notebook, write
from test_batch import GOOD

from grader.archives import MARKER, Limits, unpack
from grader.assignment import load_assignment
from grader.catalog import find_assignment
from grader.errors import GraderError
from grader.submission import discover, load, one_handin_message

NOTEBOOK_GOOD = notebook(code(GOOD))


def make_zip(path: Path, members: dict[str, str | bytes]) -> Path:
    """A zip of these members (name -> content), written the way ordinary tools write them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def zip_bytes(members: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def notebook_json(source: str) -> str:
    import nbformat

    return nbformat.writes(notebook(code(source)))


def with_symlink(path: Path) -> Path:
    """alice.zip whose `alice/data.py` is a symbolic link to /etc/passwd (as `zip -y` stores one)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("alice/solution.py", GOOD)
        link = zipfile.ZipInfo("alice/data.py")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    return path


def bomb(path: Path, megabytes: int = 300) -> Path:
    """A zip of a few hundred KB whose one member is `megabytes` MB of zeros, written streaming."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("bomb/zeros.py", "w") as member:
        block = bytes(2**20)
        for _ in range(megabytes):
            member.write(block)
    return path


def lying_sizes(path: Path) -> Path:
    """A zip whose member declares 1,000 bytes in both headers but inflates to 20 MB."""
    data = bytearray(zip_bytes({"mallory/zeros.py": bytes(20 * 2**20)}))
    struct.pack_into("<I", data, 22, 1000)  # local file header: uncompressed size
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 1000)  # central directory: uncompressed size
    path.write_bytes(bytes(data))
    return path


def tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def only_student(entries: tuple[tuple[str, Path], ...], student: str):
    found = dict(entries)
    assert student in found, entries
    return load(student, found[student])


# ---------------------------------------------------------------- discover and load


def test_without_a_place_to_unpack_archives_are_listed_as_ignored(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    make_zip(subs / "alice.zip", {"alice/solution.py": GOOD})
    (subs / "bob.py").write_text(GOOD)
    found, ignored = discover(subs)
    assert found == (("bob", subs / "bob.py"),)
    assert ignored == (subs / "alice.zip",)


def test_a_student_zip_unpacks_to_the_same_folder_every_run(tmp_path: Path) -> None:
    subs, target = tmp_path / "subs", tmp_path / "out" / ".unpacked"
    make_zip(subs / "alice.zip", {"Homework 2/solution.py": GOOD, "Homework 2/data.csv": "1,2\n"})
    (subs / "bob.py").write_text(GOOD)
    first, ignored = discover(subs, unpack_to=target)
    assert [s for s, _ in first] == ["alice", "bob"] and ignored == ()
    alice = dict(first)["alice"]
    assert alice.is_relative_to(target) and alice.name == "alice"
    loaded = load("alice", alice)
    assert loaded.readable and [f.path for f in loaded.files] == ["Homework 2/solution.py"]
    marker = alice.parent / MARKER
    stamp = marker.stat().st_mtime_ns
    assert discover(subs, unpack_to=target)[0] == first
    assert marker.stat().st_mtime_ns == stamp  # not unpacked again

    make_zip(subs / "alice.zip", {"solution.py": GOOD + "\n# resubmitted\n"})
    changed = dict(discover(subs, unpack_to=target)[0])["alice"]
    assert changed != alice and (changed / "solution.py").is_file()
    assert not alice.exists()  # the old unpacking was pruned


def test_the_plain_hand_in_wins_over_an_archive_of_the_same_student(tmp_path: Path) -> None:
    subs, target = tmp_path / "subs", tmp_path / ".unpacked"
    write(subs / "alice.ipynb", NOTEBOOK_GOOD)
    make_zip(subs / "alice.zip", {"alice/solution.py": GOOD})
    (subs / "bob.py").write_text(GOOD)
    found, ignored = discover(subs, unpack_to=target)
    assert dict(found)["alice"] == subs / "alice.ipynb"
    assert ignored == (subs / "alice.zip",)
    assert not any(target.glob("alice-*"))  # never unpacked


def test_a_lone_zip_of_hand_ins_is_a_class_export(tmp_path: Path) -> None:
    subs, target = tmp_path / "subs", tmp_path / ".unpacked"
    make_zip(subs / "export.zip", {
        "Assignment 2/alice.py": GOOD,
        "Assignment 2/bob/hw.ipynb": notebook_json(GOOD),
        "Assignment 2/carol.zip": zip_bytes({"carol/solution.py": GOOD}),
        "Assignment 2/readme.txt": "exported by the LMS",
        "__MACOSX/Assignment 2/._alice.py": b"\x00\x05\x16\x07",
    })
    found, ignored = discover(subs, unpack_to=target)
    assert [s for s, _ in found] == ["alice", "bob", "carol"]
    assert [p.name for p in ignored] == ["readme.txt"]
    for student, path in found:
        assert load(student, path).readable, student
    assert not list(target.rglob("._alice.py"))


def test_a_lone_zip_of_one_students_modules_is_that_student(tmp_path: Path) -> None:
    """The modules of examples/submissions/ada import each other: one hand-in, not seven students."""
    ada = REPO / "examples" / "submissions" / "ada"
    subs = tmp_path / "subs"
    make_zip(subs / "ada.zip", {p.name: p.read_bytes() for p in sorted(ada.iterdir())})
    found, _ = discover(subs, unpack_to=tmp_path / ".unpacked")
    assert [s for s, _ in found] == ["ada"]
    assert len(load("ada", found[0][1]).files) == len(list(ada.iterdir()))


def test_zips_beside_other_hand_ins_are_one_student_each(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    make_zip(subs / "alice.zip", {"hw.ipynb": notebook_json(GOOD), "scratch.ipynb": notebook_json("x = 1")})
    (subs / "bob.py").write_text(GOOD)
    found, _ = discover(subs, unpack_to=tmp_path / ".unpacked")
    assert [s for s, _ in found] == ["alice", "bob"]
    assert len(load("alice", dict(found)["alice"]).files) == 2


@pytest.mark.parametrize(("member", "reason"), [
    ("../../escaped.py", "outside its folder"),
    ("/tmp/escaped-absolute.py", "absolute path"),
    ("alice/../../escaped.py", "outside its folder"),
])
def test_a_zip_with_a_path_outside_its_folder_is_refused_and_writes_nothing(tmp_path, member, reason) -> None:
    subs, target = tmp_path / "a" / "subs", tmp_path / "a" / "out" / ".unpacked"
    make_zip(subs / "mallory.zip", {"mallory/solution.py": GOOD, member: "import os\n"})
    (subs / "bob.py").write_text(GOOD)
    found, _ = discover(subs, unpack_to=target)
    loaded = only_student(found, "mallory")
    assert not loaded.readable
    assert reason in loaded.problems[0] and "mallory.zip" in loaded.problems[0]
    assert not list(tmp_path.rglob("escaped*")) and not Path("/tmp/escaped-absolute.py").exists()
    assert not list(target.rglob("solution.py"))  # nothing of a refused archive is kept


def test_a_symlink_member_is_refused(tmp_path: Path) -> None:
    subs, target = tmp_path / "subs", tmp_path / ".unpacked"
    subs.mkdir()
    with_symlink(subs / "alice.zip")
    (subs / "bob.py").write_text(GOOD)
    loaded = only_student(discover(subs, unpack_to=target)[0], "alice")
    assert not loaded.readable and "symbolic link" in loaded.problems[0]
    assert not [p for p in target.rglob("*") if p.is_symlink()]


def test_a_corrupt_zip_is_unreadable_with_the_reason(tmp_path: Path) -> None:
    subs, target = tmp_path / "subs", tmp_path / ".unpacked"
    subs.mkdir()
    (subs / "alice.zip").write_bytes(b"PK\x03\x04 this upload stopped halfway")
    good = zip_bytes({"bob/solution.py": GOOD})
    (subs / "bob.zip").write_bytes(good[: len(good) // 2])  # truncated: no central directory
    found, _ = discover(subs, unpack_to=target)
    for student in ("alice", "bob"):
        loaded = only_student(found, student)
        assert not loaded.readable and "not a zip file that can be read" in loaded.problems[0]


def test_a_zip_bomb_is_refused_on_its_declared_size_without_unpacking_it(tmp_path: Path) -> None:
    subs, target = tmp_path / "subs", tmp_path / ".unpacked"
    subs.mkdir()
    archive = bomb(subs / "bomb.zip")
    assert archive.stat().st_size < 2**20
    (subs / "bob.py").write_text(GOOD)
    loaded = only_student(discover(subs, unpack_to=target)[0], "bomb")
    assert not loaded.readable and "300 MB" in loaded.problems[0] and "200 MB" in loaded.problems[0]
    assert tree_size(target) < 64 * 1024


def test_a_zip_bomb_under_the_size_limit_is_refused_on_its_ratio(tmp_path: Path) -> None:
    archive = bomb(tmp_path / "bomb.zip", megabytes=20)
    unpacked = unpack(archive, tmp_path / "out", allow_class=False)
    loaded = load("bomb", unpacked.candidates[0].path)
    assert not loaded.readable and "as zip bombs are" in loaded.problems[0]
    assert tree_size(tmp_path / "out") < 64 * 1024
    generous = unpack(archive, tmp_path / "out2", allow_class=False, limits=Limits(ratio=10**6))
    assert tree_size(generous.folder) >= 20 * 2**20  # the same archive passes when the ratio allows it


@pytest.mark.parametrize("count", [30, 500])  # over the limit; over ten times it (refused before the directory is read)
def test_a_zip_with_too_many_members_is_refused(tmp_path: Path, count: int) -> None:
    archive = make_zip(tmp_path / "alice.zip", {f"alice/m{i}.py": f"x = {i}\n" for i in range(count)})
    unpacked = unpack(archive, tmp_path / "out", allow_class=False, limits=Limits(student_members=20))
    loaded = load("alice", unpacked.candidates[0].path)
    assert not loaded.readable and f"it holds {count} entries, more than the 20 allowed" in loaded.problems[0]
    assert not list((tmp_path / "out").rglob("m1.py"))
    assert load("alice", unpack(archive, tmp_path / "out2", allow_class=False).candidates[0].path).readable


def test_a_zip_whose_declared_sizes_lie_writes_no_more_than_it_declares(tmp_path: Path) -> None:
    subs, target = tmp_path / "subs", tmp_path / ".unpacked"
    subs.mkdir()
    lying_sizes(subs / "mallory.zip")
    (subs / "bob.py").write_text(GOOD)
    loaded = only_student(discover(subs, unpack_to=target)[0], "mallory")
    assert not loaded.readable and "mallory.zip" in loaded.problems[0]
    assert tree_size(target) < 64 * 1024


def test_in_a_class_export_one_bad_archive_costs_only_its_student(tmp_path: Path) -> None:
    subs, target = tmp_path / "subs", tmp_path / ".unpacked"
    with_symlink(tmp_path / "link.zip")
    make_zip(subs / "export.zip", {
        "alice.py": GOOD,
        "bob.ipynb": notebook_json(GOOD),
        "dave.zip": zip_bytes({"../../escaped.py": "x = 1\n"}),
        "erin.zip": b"not a zip",
        "frank.zip": (tmp_path / "link.zip").read_bytes(),
        "gina/notes.txt": "no code here",
    })
    found, ignored = discover(subs, unpack_to=target)
    assert [s for s, _ in found] == ["alice", "bob", "dave", "erin", "frank"]
    assert [p.name for p in ignored] == ["gina"]
    problems = {s: load(s, p).problems for s, p in found}
    assert problems["alice"] == () and problems["bob"] == ()
    assert "outside its folder" in problems["dave"][0] and "dave.zip (in export.zip)" in problems["dave"][0]
    assert "not a zip file" in problems["erin"][0]
    assert "symbolic link" in problems["frank"][0]
    assert not list(tmp_path.rglob("escaped*"))


def test_a_symlinked_archive_is_not_followed(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    make_zip(tmp_path / "elsewhere.zip", {"solution.py": GOOD})
    subs.mkdir()
    (subs / "alice.zip").symlink_to(tmp_path / "elsewhere.zip")
    (subs / "bob.py").write_text(GOOD)
    loaded = only_student(discover(subs, unpack_to=tmp_path / ".unpacked")[0], "alice")
    assert not loaded.readable and "symbolic link" in loaded.problems[0]


def test_a_folder_the_grader_cannot_write_stops_with_its_own_error_not_the_students(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "alice.zip", {"solution.py": GOOD})
    (tmp_path / "grades").write_text("a file where the output folder should be")
    with pytest.raises(GraderError, match="could not be unpacked into"):
        unpack(archive, tmp_path / "grades" / ".unpacked", allow_class=False)


# ---------------------------------------------------------------- one hand-in given as SUBMISSIONS


def test_one_students_folder_is_recognised_and_the_parent_named() -> None:
    logistic = find_assignment("logistic_softmax")
    message = one_handin_message(Path("examples/submissions/ada"), logistic)
    assert message is not None
    assert "task2a.py" in message and message.endswith("grade examples/submissions")
    assert one_handin_message(Path("examples/submissions"), logistic) is None
    assert one_handin_message(Path("examples/bayes_submissions"), find_assignment("bayes_mlp")) is None


def test_a_one_notebook_hand_in_with_its_helper_module_is_recognised(tmp_path: Path) -> None:
    demo = load_assignment(DEMO)
    handin = tmp_path / "alice"
    write(handin / "homework.ipynb", notebook(code("from helpers import mse_grad\nimport numpy as np")))
    (handin / "helpers.py").write_text(GOOD)
    assert one_handin_message(handin, demo) == (
        f"{handin} looks like one student's hand-in (it holds helpers.py, homework.ipynb); "
        f"grade the folder that holds it: grade {tmp_path}")
    klass = tmp_path / "class"
    klass.mkdir()
    for student in ("alice", "bob", "carol"):
        (klass / f"{student}.py").write_text(GOOD)
    write(klass / "dave.ipynb", NOTEBOOK_GOOD)
    assert one_handin_message(klass, demo) is None


def test_a_class_folder_with_the_starter_modules_left_in_it_is_not_refused(tmp_path: Path) -> None:
    ada = REPO / "examples" / "submissions" / "ada"
    logistic = find_assignment("logistic_softmax")
    klass = tmp_path / "class"
    for student in ("ada", "grace"):
        (klass / student).mkdir(parents=True)
        for module in ada.glob("*.py"):
            (klass / student / module.name).write_bytes(module.read_bytes())
    for module in ("task2a.py", "utils.py"):
        (klass / module).write_bytes((ada / module).read_bytes())
    assert one_handin_message(klass, logistic) is None
    assert one_handin_message(klass / "ada", logistic) is not None


# ---------------------------------------------------------------- through the real grade command


def grade(submissions: Path, out: Path, *extra: str):
    return run_cli("grade", str(submissions), "-a", str(DEMO), "-o", str(out), "-q", "-j", "1", *extra)


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    return {row["student"]: row for row in csv.DictReader((out / "gradebook.csv").open())}


def test_a_class_export_is_graded_and_a_rerun_says_unchanged(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "grades"
    export = {
        "alice.py": GOOD,
        "bob/homework.ipynb": notebook_json(GOOD),
        "carol.zip": zip_bytes({"carol/homework.ipynb": notebook_json(GOOD)}),
        "dave.zip": zip_bytes({"dave/solution.py": GOOD, "../../../escaped.py": "x = 1\n"}),
        "index.html": "<p>exported</p>",
    }
    make_zip(subs / "lms-export.zip", export)
    run = grade(subs, out)
    assert run.returncode == 0, run.stderr
    rows = gradebook(out)
    assert sorted(rows) == ["alice", "bob", "carol", "dave"]  # .unpacked is no student
    assert all(rows[s]["score"] == "32" and rows[s]["status"] == "graded" for s in ("alice", "bob", "carol"))
    assert rows["dave"]["status"] == "unreadable" and rows["dave"]["score"] == "0"
    dave = json.loads((out / "dave" / "result.json").read_text())
    assert any("outside its folder" in e for e in dave["errors"])
    assert (out / ".unpacked").is_dir() and not list(tmp_path.rglob("escaped*"))
    assert "index.html" in (out / "summary.html").read_text()

    again = grade(subs, out)
    assert again.returncode == 0, again.stderr
    assert "graded 0, unchanged 4" in again.stdout, again.stdout

    # the LMS exported again after bob resubmitted: a new archive, and only bob is graded again
    (subs / "lms-export.zip").unlink()
    make_zip(subs / "lms-export.zip", {**export, "bob/homework.ipynb": notebook_json(GOOD.replace("/ len(y)", ""))})
    third = grade(subs, out)
    assert "graded 1, unchanged 3" in third.stdout, third.stdout
    assert gradebook(out)["bob"]["score"] != "32"
    assert len(list((out / ".unpacked").glob("lms-export-*"))) == 1  # the old export's tree was pruned


def test_student_zips_get_a_row_each_whatever_they_hold(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "grades"
    make_zip(subs / "alice.zip", {"alice/solution.py": GOOD})
    make_zip(subs / "bob.zip", {"homework.ipynb": notebook_json(GOOD)})
    make_zip(subs / "mallory.zip", {"solution.py": GOOD, "/tmp/escaped-absolute.py": "x = 1\n"})
    bomb(subs / "zed.zip")
    (subs / "erin.zip").write_bytes(b"PK\x05\x06 broken")
    (subs / "frank.py").write_text(GOOD)
    run = grade(subs, out)
    assert run.returncode == 0, run.stderr
    rows = gradebook(out)
    assert sorted(rows) == ["alice", "bob", "erin", "frank", "mallory", "zed"]
    assert [rows[s]["score"] for s in ("alice", "bob", "frank")] == ["32", "32", "32"]
    for student, reason in (("mallory", "absolute path"), ("zed", "MB allowed per student"), ("erin", "not a zip")):
        assert rows[student]["status"] == "unreadable", student
        errors = json.loads((out / student / "result.json").read_text())["errors"]
        assert any(reason in e for e in errors), (student, errors)
    assert tree_size(out / ".unpacked") < 2**20

    make_zip(subs / "alice.zip", {"alice/solution.py": GOOD.replace("/ len(y)", "")})
    again = grade(subs, out)
    assert "graded 1, unchanged 5" in again.stdout, again.stdout


def test_one_students_folder_given_as_submissions_is_refused_with_the_parent_named() -> None:
    run = run_cli("grade", "examples/submissions/ada", "-a", "logistic_softmax", "-o", "/nonexistent/never")
    assert run.returncode == 2
    assert "one student's hand-in" in run.stderr and "grade examples/submissions" in run.stderr
    assert not Path("/nonexistent/never").exists()
