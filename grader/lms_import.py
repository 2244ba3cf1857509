"""An LMS's submission export (one zip for the class) to a SUBMISSIONS folder of `STUDENT.ext` / `STUDENT/`.

The layouts, as each LMS names a hand-in in its "download all submissions" zip:
- **Canvas**: flat files `name_[late_]USERID_SUBMISSIONID_original-name.ext` (`name` is the student's
  sortable name in lower case, e.g. `doejane` or `doe_jane`); the student id is the Canvas user id.
- **Moodle**: one folder per hand-in, `Full Name_PARTICIPANTID_assignsubmission_file_/` holding the
  files as uploaded; the student id is the participant id.
- **Gradescope**: `submission_metadata.yml` beside one folder `submission_ID/` per submission; the
  metadata names each submission's submitters (`:name:`, `:sid:`, `:email:`); the student id is the
  first submitter's SID, else their e-mail's local part, else the submission id.

The export is unpacked by `grader.archives` (its safety rules: nothing outside the target, no links,
size limits), then each hand-in is copied to `DEST/STUDENT.ipynb` (or `.py`) when it is one file, or
`DEST/STUDENT/` when it is several. A roster CSV (optional) maps LMS ids to names, e-mails and SIS ids;
a hand-in the roster does not know is imported all the same and listed. What was found is written as a
roster (`DEST-students.csv`, the same columns), which `grader export --roster` reads.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from grader.archives import LIMITS, Limits, refusal_message, unpack
from grader.errors import UsageError

Lms = Literal["canvas", "moodle", "gradescope"]
LAYOUTS: tuple[Lms, ...] = ("canvas", "moodle", "gradescope")
ROSTER_COLUMNS = ("grader_id", "name", "email", "lms_id", "sis_user_id", "sis_login_id", "section", "id_number")
_CANVAS = re.compile(r"^(?P<name>.+?)_(?:(?P<late>late)_)?(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$", re.I)
_MOODLE = re.compile(r"^(?P<name>.+)_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$")
_HANDIN = (".ipynb", ".py")


@dataclass(frozen=True)
class Person:
    """One student as the roster (or the export) knows them; `student` is the id the grader uses."""

    student: str
    name: str = ""
    email: str = ""
    lms_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    id_number: str = ""


@dataclass(frozen=True)
class Imported:
    """One hand-in taken from the export."""

    person: Person
    files: tuple[str, ...]  # the names the student gave their files
    late: bool = False
    in_roster: bool = True


@dataclass(frozen=True)
class LmsImport:
    """What an export became: the hand-ins, those the roster does not know, those the roster misses."""

    lms: Lms
    dest: Path
    students: tuple[Imported, ...]
    missing: tuple[Person, ...] = ()  # on the roster, no hand-in

    @property
    def unknown(self) -> tuple[Imported, ...]:
        return tuple(s for s in self.students if not s.in_roster)


# ---------------------------------------------------------------- roster


def read_roster(path: Path) -> dict[str, Person]:
    """A roster CSV by LMS id (and by student id): columns as `ROSTER_COLUMNS`, any order and case.

    `grader_id` is the student id the grader uses (default: the LMS id). Common spellings are understood:
    `ID` / `user id` / `canvas id` / `participant` / `sid` for `lms_id`, `Student` / `full name` for `name`,
    `email address` for `email`, `SIS User ID`, `SIS Login ID`, `ID number`. A row needs an LMS id or a grader id.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise UsageError(f"the roster {path} cannot be read: {error.strerror or error}") from None
    rows = list(csv.DictReader(io.StringIO(text)))
    people: dict[str, Person] = {}
    for number, row in enumerate(rows, start=2):
        fields = {_column(k): (v or "").strip() for k, v in row.items() if k is not None and _column(k)}
        if not fields.get("lms_id") and not fields.get("student"):
            raise UsageError(f"{path}, line {number}: a roster row needs an LMS id (column `lms_id` or `ID`) or `grader_id`")
        person = Person(**{_FIELD.get(k, k): fields.get(_FIELD.get(k, k), "") for k in ROSTER_COLUMNS})
        if not person.student:
            person = replace(person, student=person.lms_id)
        for key in {person.lms_id, person.student} - {""}:
            people[key] = person
    return people


_FIELD = {"grader_id": "student"}  # the roster's column for Person.student
_ALIASES = {
    "grader_id": "student", "student_id": "student",
    "name": "name", "full_name": "name", "student_name": "name", "student": "name",  # Canvas's `Student` is the name
    "email": "email", "email_address": "email", "e_mail": "email",
    "lms_id": "lms_id", "id": "lms_id", "user_id": "lms_id", "canvas_id": "lms_id", "participant": "lms_id",
    "participant_id": "lms_id", "sid": "lms_id",
    "sis_user_id": "sis_user_id", "sis_login_id": "sis_login_id", "section": "section",
    "id_number": "id_number", "idnumber": "id_number",
}


def _column(header: str) -> str:
    return _ALIASES.get(re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_"), "")


def roster_csv(people: Iterable[Person], late: dict[str, bool] | None = None) -> str:
    """People as a roster CSV (what `read_roster` reads)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*ROSTER_COLUMNS, "late"])
    for person in sorted(people, key=lambda p: p.student):
        writer.writerow([getattr(person, _FIELD.get(c, c)) for c in ROSTER_COLUMNS] + [
            "yes" if (late or {}).get(person.student) else ""])
    return out.getvalue()


# ---------------------------------------------------------------- import


def import_export(archive: Path, dest: Path, lms: Lms | None = None, roster: Path | None = None,
                  limits: Limits = LIMITS) -> LmsImport:
    """Unpack an LMS export zip and write its hand-ins under `dest`, one entry per student."""
    if not archive.is_file():
        raise UsageError(f"{archive} is not a file (give the zip the LMS exported)")
    scratch = dest.parent / f".{dest.name}.lms-unpacked"
    whole = Limits(limits.class_bytes, limits.class_members, limits.ratio, limits.ratio_floor,
                   limits.class_bytes, limits.class_members)
    unpacked = unpack(archive, scratch, allow_class=False, limits=whole, shown=archive.name)
    if not unpacked.candidates:
        raise UsageError(f"{archive.name} holds no hand-ins")
    root = unpacked.candidates[0].path
    reason = refusal_message(root)
    if reason is not None:
        raise UsageError(f"{archive.name} cannot be unpacked: {reason}")
    if root.is_file():
        raise UsageError(f"{archive.name} holds one file, not an LMS export")
    root = _step_in(root)
    layout = lms or detect_layout(root)
    found = {"canvas": _canvas, "moodle": _moodle, "gradescope": _gradescope}[layout](root)
    people = read_roster(roster) if roster is not None else {}
    dest.mkdir(parents=True, exist_ok=True)
    students = []
    for imported, sources in found:
        known = people.get(imported.person.lms_id) or people.get(imported.person.student)
        person = _merged(imported.person, known)
        _write_handin(dest, person.student, sources, canvas=layout == "canvas")
        students.append(replace(imported, person=person, in_roster=known is not None or roster is None))
    seen = {s.person.student for s in students} | {s.person.lms_id for s in students}
    missing = tuple({p.student: p for p in people.values() if p.student not in seen and p.lms_id not in seen}.values())
    shutil.rmtree(scratch, ignore_errors=True)
    result = LmsImport(layout, dest, tuple(sorted(students, key=lambda s: s.person.student)), missing)
    lateness = {s.person.student: s.late for s in result.students}
    (dest.parent / f"{dest.name}-students.csv").write_text(roster_csv([s.person for s in result.students], lateness))
    return result


def detect_layout(root: Path) -> Lms:
    """Which LMS made this export, from its layout; a UsageError when none fits."""
    names = [p.name for p in root.iterdir() if not p.name.startswith(".")]
    if "submission_metadata.yml" in names:
        return "gradescope"
    if any(_MOODLE.match(n) for n in names):
        return "moodle"
    if any(_CANVAS.match(n) for n in names):
        return "canvas"
    raise UsageError("this zip is not a Canvas, Moodle or Gradescope submission export "
                     "(no `name_USERID_SUBMISSIONID_file`, `Name_ID_assignsubmission_file_/` or submission_metadata.yml)")


def _step_in(root: Path) -> Path:
    """Into a lone wrapping folder (an export re-zipped by hand)."""
    entries = [p for p in root.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir() and not _MOODLE.match(entries[0].name):
        return _step_in(entries[0])
    return root


def _merged(found: Person, known: Person | None) -> Person:
    if known is None:
        return found
    return replace(known, student=found.student, lms_id=known.lms_id or found.lms_id,
                   name=known.name or found.name, email=known.email or found.email)


def _canvas(root: Path) -> list[tuple[Imported, list[tuple[str, Path]]]]:
    by_user: dict[str, tuple[Imported, list[tuple[str, Path]]]] = {}
    for path in sorted(root.iterdir()):
        match = _CANVAS.match(path.name)
        if match is None or not path.is_file():
            continue
        user = match["user"]
        entry = by_user.setdefault(user, (Imported(Person(user, match["name"], lms_id=user), ()), []))
        late = entry[0].late or bool(match["late"])
        by_user[user] = (replace(entry[0], files=(*entry[0].files, match["file"]), late=late),
                         [*entry[1], (match["file"], path)])
    return list(by_user.values())


def _moodle(root: Path) -> list[tuple[Imported, list[tuple[str, Path]]]]:
    by_participant: dict[str, tuple[Imported, list[tuple[str, Path]]]] = {}
    for folder in sorted(root.iterdir()):
        match = _MOODLE.match(folder.name)
        if match is None or not folder.is_dir():
            continue
        participant = match["participant"]
        files = [(str(p.relative_to(folder)), p) for p in sorted(folder.rglob("*")) if p.is_file()]
        entry = by_participant.setdefault(participant, (Imported(Person(participant, match["name"], lms_id=participant), ()), []))
        by_participant[participant] = (replace(entry[0], files=(*entry[0].files, *(f for f, _ in files))), [*entry[1], *files])
    return list(by_participant.values())


def _gradescope(root: Path) -> list[tuple[Imported, list[tuple[str, Path]]]]:
    import yaml

    try:
        metadata = yaml.safe_load((root / "submission_metadata.yml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise UsageError(f"submission_metadata.yml cannot be read: {error}") from None
    found = []
    for key, info in sorted(metadata.items()):
        folder = root / str(key)
        if not folder.is_dir() or not isinstance(info, dict):
            continue
        submitters = info.get(":submitters") or info.get("submitters") or []
        first = submitters[0] if submitters and isinstance(submitters[0], dict) else {}
        email = str(first.get(":email") or first.get("email") or "")
        sid = str(first.get(":sid") or first.get("sid") or "")
        number = str(key).removeprefix("submission_")
        student = _safe_id(sid or email.split("@")[0] or number)
        files = [(str(p.relative_to(folder)), p) for p in sorted(folder.rglob("*")) if p.is_file()]
        person = Person(student, str(first.get(":name") or first.get("name") or ""), email, sid or number)
        found.append((Imported(person, tuple(f for f, _ in files)), files))
    return found


def _safe_id(text: str) -> str:
    """A student id usable as a file name."""
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", text).strip("._") or "student"


def _write_handin(dest: Path, student: str, sources: list[tuple[str, Path]], canvas: bool) -> None:
    """One file as `STUDENT.ext`; several as `STUDENT/` with the names the student gave them."""
    for old in (dest / f"{student}.ipynb", dest / f"{student}.py", dest / student):
        if old.is_dir():
            shutil.rmtree(old)
        elif old.exists():
            old.unlink()
    code = [(n, p) for n, p in sources if p.suffix in _HANDIN]
    if len(sources) == 1 and code:
        shutil.copyfile(code[0][1], dest / f"{student}{code[0][1].suffix}")
        return
    folder = dest / student
    for name, path in sources:
        target = folder / (_canvas_original(name) if canvas else name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def _canvas_original(name: str) -> str:
    """Canvas appends `-1`, `-2` to a file handed in again (`hw-1.ipynb`); the module name is the original's."""
    match = re.match(r"^(?P<stem>.+?)-\d+(?P<suffix>\.(?:py|ipynb))$", name)
    return f"{match['stem']}{match['suffix']}" if match else name
