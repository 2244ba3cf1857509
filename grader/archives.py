"""Unpack hand-in archives (`.zip`) safely into a folder the grader owns.

An LMS hands in either one `.zip` per student or one `.zip` for the whole class. Each archive
is unpacked into `TARGET/STEM-HASH/`, where HASH is taken from the archive's bytes: the same
archive always gives the same tree at the same place (so a rerun's fingerprints say
`unchanged`), and a changed archive is unpacked again beside it. A marker written last
(`.unpacked.json`) says the folder is complete; a folder is built under a temporary name and
renamed into place, so a batch killed midway leaves nothing half-unpacked that looks finished.

**Class or student.** An archive that sits alone in SUBMISSIONS (`allow_class`) is read as a
class export when its top level, after stepping into one wrapping folder, holds at least two
hand-ins with code (notebooks, `.py` files, folders holding notebooks or `.py` files) or at
least two `.zip` files, and its `.py` files are not one module set (none is imported by another
top-level file: a student's modules import each other, the hand-ins of a class never do). Its
entries become students as in a SUBMISSIONS folder; a `.zip` among them is one student's
archive (archives nest at most one level; a zip inside a student's zip is left packed). Every
other archive is one student's hand-in whatever it holds, named by the archive's stem: LMSes
export one zip per student or one zip for the class, never a mix. (The one case this reads
wrong: a class of one student whose lone zip holds two notebooks that do not import each other.)

**Safety.** Nothing is written outside the target: absolute member paths and `..` refuse the
whole archive; symbolic links, special files and encrypted members refuse their student; member
modes are not applied (files 0644, folders 0755). `__MACOSX/`, caches, hidden entries and
virtual environments are skipped, not refused (a link inside `.venv/` costs nothing). Per
student: at most `Limits.student_bytes` unpacked (checked on the declared sizes, then on the
bytes actually written, since declared sizes can lie), `Limits.student_members` members, and a
member above `Limits.ratio_floor` may not be compressed more than `Limits.ratio`:1. A class
export has its own totals, and each student's part of it is checked on the per-student limits
(one bad part costs only its student).

**Refusals are data.** An archive that cannot be unpacked (damaged, a bomb, a path outside its
folder) still gives its student an entry: a note `STUDENT.refused` holding the reason, which
`grader.submission.load` reads as an unreadable hand-in. Nothing here raises for a student's file;
a failure to write the grader's own folder (disk full, no permission) raises `GraderError`.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import re
import shutil
import stat
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from grader.errors import GraderError

MB = 2**20
HANDIN_SUFFIXES = (".ipynb", ".py")
REFUSED_SUFFIX = ".refused"
MARKER = ".unpacked.json"
_FORMAT = 1  # bump when the layout or the rules change: older folders are then unpacked again
_JUNK = frozenset({"__MACOSX", "__pycache__", ".ipynb_checkpoints", "site-packages", "node_modules"})
_KEYED = re.compile(r"^.+-[0-9a-f]{16}$")
# the module an import line names, in Python source or in a notebook's JSON (lines start with a quote)
IMPORTED = re.compile(r"(?:^|\")[ \t]*(?:from|import)[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
_PEEK = MB  # bytes read of a top-level module to see what it imports


@dataclass(frozen=True)
class Limits:
    """How much one archive may unpack to."""

    student_bytes: int = 200 * MB
    student_members: int = 2_000
    ratio: int = 100  # uncompressed:compressed, only for members above ratio_floor
    ratio_floor: int = MB
    class_bytes: int = 20 * 1024 * MB
    class_members: int = 200_000


LIMITS = Limits()


@dataclass(frozen=True)
class Candidate:
    """One student's entry found in an archive: `kind` is `.ipynb`, `.py`, `.zip` or `` for a folder."""

    student: str
    kind: str
    path: Path


@dataclass(frozen=True)
class Unpacked:
    """What one archive became, all of it under `folder`."""

    folder: Path
    is_class: bool
    candidates: tuple[Candidate, ...]  # one student's hand-in (or refusal note), or a class export's entries
    ignored: tuple[Path, ...] = ()


def refusal_message(path: Path) -> str | None:
    """The reason kept in a refusal note, or None if `path` is not one."""
    if path.suffix != REFUSED_SUFFIX or path.is_symlink() or not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")[:2000]
    except (OSError, UnicodeDecodeError):
        return None


def unpack(archive: Path, target: Path, allow_class: bool, limits: Limits = LIMITS, shown: str = "") -> Unpacked:
    """Unpack `archive` under `target` (once per content), as one student's hand-in or, if allowed, a class."""
    shown = shown or archive.name
    try:
        return _unpack(archive, target, allow_class, limits, shown)
    except OSError as error:  # the grader's own folder, not the student's archive: the batch stops and says so
        raise GraderError(f"{shown} could not be unpacked into {target}: {error.strerror or error}") from error


def _unpack(archive: Path, target: Path, allow_class: bool, limits: Limits, shown: str) -> Unpacked:
    student = archive.stem
    target.mkdir(parents=True, exist_ok=True)
    try:
        handle = _open_regular(archive, shown)
    except _Refused as refused:
        return _publish_refusal(target, student, str(refused), limits)
    with handle:
        digest = hashlib.file_digest(handle, "sha256")
        folder = target / f"{student}-{digest.hexdigest()[:16]}"
        done = _read_marker(folder, limits)
        if done is not None:
            return done
        work = _fresh(target, folder.name)
        handle.seek(0)
        record = _build(handle, work, student, allow_class, limits, shown)
        return _publish(work, folder, record, limits)


def prune(target: Path, keep: Iterable[Path]) -> None:
    """Remove what earlier runs unpacked under `target` that no archive of this run uses."""
    if not target.is_dir():
        return
    kept = {p.name for p in keep}
    for entry in target.iterdir():
        if entry.name not in kept and (_KEYED.match(entry.name) or entry.name.startswith(".partial-")):
            _remove(entry)


# ---------------------------------------------------------------- building one archive's folder


class _Refused(Exception):
    """An archive (or one student's part of it) that is not unpacked, with the reason for the student."""


@dataclass(frozen=True)
class _Member:
    """One zip member: its path parts (relative, checked) or why it may not be unpacked."""

    info: zipfile.ZipInfo
    parts: tuple[str, ...]
    problem: str = ""
    escapes: bool = False  # an absolute path or `..`: the whole archive is refused, whoever it belongs to

    @property
    def is_dir(self) -> bool:
        return self.info.is_dir()


def _build(handle: IO[bytes], work: Path, student: str, allow_class: bool, limits: Limits, shown: str) -> dict:
    """Unpack into `work`; the record of what it became (paths relative to `work`)."""
    try:
        _check_envelope(handle, allow_class, limits, shown)
        with zipfile.ZipFile(handle) as archive:
            members = _wanted([_member(i) for i in archive.infolist()])
            escaping = [m for m in members if m.escapes]
            if escaping:
                raise _Refused(f"{shown} was not unpacked: {escaping[0].problem}. Hand in a zip of your files only.")
            level = _level(members)
            if allow_class and _is_class(archive, members, level):
                return _build_class(archive, members, level, work, limits, shown)
            _check(members, limits.student_bytes, limits.student_members, limits, shown, "per student")
            _extract(archive, members, work / student, limits.student_bytes, shown)
            return {"class": False, "candidates": [[student, "", student]], "ignored": []}
    except _UNREADABLE as error:
        if isinstance(error, OSError) and error.errno in _ENVIRONMENT:
            raise
        return _refusal_record(work, student, "", _reason(error, shown))


def _check_envelope(handle: IO[bytes], allow_class: bool, limits: Limits, shown: str) -> None:
    """Refuse on the archive's own size and its declared entry count, before its directory is read into memory."""
    size = os.fstat(handle.fileno()).st_size
    most = limits.class_bytes if allow_class else limits.student_bytes
    if size > most:
        raise _Refused(f"{shown} was not unpacked: it is {size // MB} MB, more than the {most // MB} MB allowed.")
    end = zipfile._EndRecData(handle)  # type: ignore[attr-defined]  # the end record: stable since Python 2
    entries = end[zipfile._ECD_ENTRIES_TOTAL] if end else 0  # type: ignore[attr-defined]
    most = limits.class_members if allow_class else limits.student_members
    if entries > 10 * most:  # generous: skipped entries (__MACOSX/ doubles a Mac's zip) are counted here
        raise _Refused(f"{shown} was not unpacked: it holds {entries} entries, more than the {most} allowed.")
    handle.seek(0)


# errors of the disk the grader writes to, never of an archive's content: they stop the batch
_ENVIRONMENT = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO,
                          errno.EMFILE, errno.ENFILE, errno.ENOMEM})
_UNREADABLE = (_Refused, zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, ValueError,
               NotImplementedError, RuntimeError, OSError)


def _reason(error: BaseException, shown: str) -> str:
    """What a student reads about an archive that could not be unpacked."""
    if isinstance(error, _Refused):
        return str(error)
    if isinstance(error, NotImplementedError):
        return f"{shown} could not be unpacked: it uses a compression method that is not supported; use a plain zip."
    if isinstance(error, OSError) and not isinstance(error, zipfile.BadZipFile):
        return f"{shown} could not be unpacked: {error.strerror or type(error).__name__}."
    return f"{shown} could not be unpacked: it is not a zip file that can be read ({_plain(error)}). Hand it in again."


def _build_class(archive: zipfile.ZipFile, members: list[_Member], level: tuple[str, ...], work: Path,
                 limits: Limits, shown: str) -> dict:
    """A class export: every hand-in entry of the level unpacked on its own limits, the rest listed."""
    _check(members, limits.class_bytes, limits.class_members, limits, shown, "for a class", each=False)
    groups = _groups(members, level)
    tree = work / "tree"
    candidates: list[list[str]] = []
    ignored: list[str] = []
    for name, group in sorted(groups.items()):
        kind = _kind(name, group, len(level))
        relative = "/".join(("tree", *level, name))
        if kind is None:
            ignored.append(relative)
            continue
        student = name if kind == "" else Path(name).stem
        part = f"{name} in {shown}"
        try:
            _check(group, limits.student_bytes, limits.student_members, limits, part, "per student")
            _extract(archive, group, tree, limits.student_bytes, part)
        except _UNREADABLE as error:
            if isinstance(error, OSError) and error.errno in _ENVIRONMENT:
                raise
            _remove(tree.joinpath(*level, name))
            candidates.append([student, kind, _note(work, f"{name}-refused", student, _reason(error, part))])
            continue
        candidates.append([student, kind, relative])
    return {"class": True, "candidates": candidates, "ignored": ignored}


def _groups(members: list[_Member], level: tuple[str, ...]) -> dict[str, list[_Member]]:
    """The members under `level`, by their entry at that level."""
    groups: dict[str, list[_Member]] = {}
    for m in members:
        if len(m.parts) > len(level) and m.parts[: len(level)] == level:
            groups.setdefault(m.parts[len(level)], []).append(m)
    return groups


def _member(info: zipfile.ZipInfo) -> _Member:
    """A member's checked path parts, or the reason it may not be unpacked."""
    name = info.filename.replace("\\", "/")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    problem = ""
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        problem = f"its entry {info.filename!r} has an absolute path"
    elif ".." in parts:
        problem = f"its entry {info.filename!r} would be written outside its folder"
    elif kind == stat.S_IFLNK:
        problem = f"its entry {info.filename!r} is a symbolic link; links are not unpacked"
    elif kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        problem = f"its entry {info.filename!r} is not a regular file or folder"
    elif info.flag_bits & 0x1:
        problem = f"its entry {info.filename!r} is password-protected"
    elif not parts:
        problem = f"it has an entry with an empty name ({info.filename!r})"
    escapes = problem.endswith(("absolute path", "outside its folder"))
    return _Member(info, parts, problem, escapes)


def _wanted(members: list[_Member]) -> list[_Member]:
    """The members worth unpacking: not `__MACOSX/`, caches, hidden entries or virtual environments.

    What escapes the folder is always kept, so that it refuses the archive.
    """
    venvs = {m.parts[:-1] for m in members if m.parts and m.parts[-1] == "pyvenv.cfg"}

    def junk(parts: tuple[str, ...]) -> bool:
        folders = parts[:-1] or parts
        return any(p in _JUNK or p.startswith(".") for p in folders) or parts[-1].startswith(".") or any(
            parts[:n] in venvs for n in range(1, len(parts)))

    return [m for m in members if m.escapes or (m.parts and not junk(m.parts))]


def _level(members: list[_Member]) -> tuple[str, ...]:
    """The folder whose entries are the hand-ins: the top, or the one folder that wraps everything."""
    tops = {m.parts[0] for m in members if m.parts}
    if len(tops) == 1:
        (top,) = tops
        if any(len(m.parts) > 1 for m in members):
            return (top,)
    return ()


def _kind(name: str, group: list[_Member], depth: int) -> str | None:
    """`.ipynb`, `.py`, `.zip` for a hand-in file, `` for a folder holding code, None for anything else."""
    if len(group) == 1 and len(group[0].parts) == depth + 1 and not group[0].is_dir:
        suffix = Path(name).suffix
        kind = ".zip" if suffix.lower() == ".zip" else suffix
        return kind if kind in (*HANDIN_SUFFIXES, ".zip") else None
    if any(Path(m.parts[-1]).suffix in HANDIN_SUFFIXES and not m.is_dir for m in group):
        return ""
    return None


def _is_class(archive: zipfile.ZipFile, members: list[_Member], level: tuple[str, ...]) -> bool:
    """Several hand-ins at the level (two with code, or two archives) that do not import each other."""
    groups = _groups(members, level)
    kinds = {name: _kind(name, group, len(level)) for name, group in groups.items()}
    code = [name for name, kind in kinds.items() if kind in ("", *HANDIN_SUFFIXES)]
    archives = [name for name, kind in kinds.items() if kind == ".zip"]
    if len(code) < 2 and len(archives) < 2:
        return False
    modules = {Path(n).stem for n, k in kinds.items() if k == ".py"}
    for name, kind in kinds.items():
        if kind in HANDIN_SUFFIXES and not groups[name][0].problem:
            imported = set(IMPORTED.findall(_peek(archive, groups[name][0].info)))
            if (imported - {Path(name).stem}) & modules:
                return False
    return True


def _peek(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """The start of a member as text (a bounded read: never the whole of a bomb)."""
    try:
        with archive.open(info) as source:
            return source.read(_PEEK).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError, ValueError, OSError):
        return ""


def _check(members: list[_Member], max_bytes: int, max_members: int, limits: Limits, shown: str, scope: str,
           each: bool = True) -> None:
    """Refuse on the members' declared sizes and count (and, with `each`, on each member), before a byte is written."""
    for m in members if each else ():
        if m.problem:
            raise _Refused(f"{shown} was not unpacked: {m.problem}. Hand in a zip of your files only.")
    if len(members) > max_members:
        raise _Refused(f"{shown} was not unpacked: it holds {len(members)} entries, more than the "
                       f"{max_members} allowed {scope}.")
    declared = sum(m.info.file_size for m in members)
    if declared > max_bytes:
        raise _Refused(f"{shown} was not unpacked: it expands to {declared // MB} MB, more than the "
                       f"{max_bytes // MB} MB allowed {scope}.")
    for m in members if each else ():
        size, packed = m.info.file_size, max(m.info.compress_size, 1)
        if size > limits.ratio_floor and size > limits.ratio * packed:
            raise _Refused(f"{shown} was not unpacked: its entry {m.info.filename!r} is compressed "
                           f"{size // packed}:1 (more than {limits.ratio}:1), as zip bombs are.")


def _extract(archive: zipfile.ZipFile, members: list[_Member], root: Path, max_bytes: int, shown: str) -> None:
    """Write the members under `root`, counting the bytes actually written against `max_bytes`."""
    root.mkdir(parents=True, exist_ok=True)
    written = 0
    seen: set[tuple[str, ...]] = set()
    for m in sorted(members, key=lambda m: m.parts):
        destination = root.joinpath(*m.parts)
        if m.is_dir:
            destination.mkdir(mode=0o755, parents=True, exist_ok=True)
            continue
        if m.parts in seen:
            raise _Refused(f"{shown} was not unpacked: it holds {'/'.join(m.parts)!r} twice.")
        seen.add(m.parts)
        destination.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as out, archive.open(m.info) as source:
            for chunk in iter(lambda: source.read(1 << 16), b""):
                written += len(chunk)
                if written > max_bytes:
                    raise _Refused(f"{shown} was not unpacked: it expands to more than the {max_bytes // MB} MB "
                                   "allowed per student (the sizes it declares are wrong), as zip bombs do.")
                out.write(chunk)


# ---------------------------------------------------------------- the folder on disk


def _open_regular(path: Path, shown: str) -> io.BufferedReader:
    """The archive opened for reading, never through a link or from a FIFO or device."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if os.path.islink(path):
            raise _Refused(f"{shown} is a symbolic link; links are not followed. Hand in the file itself.") from None
        raise _Refused(f"{shown} could not be read ({error.strerror}).") from None
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        handle.close()
        raise _Refused(f"{shown} is not a regular file, so it was not read.")
    return handle


def _fresh(target: Path, name: str) -> Path:
    """An empty folder to build in, named so that `prune` and a rerun recognise it as unfinished."""
    work = target / f".partial-{name}-{os.getpid()}"
    _remove(work)
    work.mkdir()
    return work


def _publish(work: Path, folder: Path, record: dict, limits: Limits) -> Unpacked:
    """Mark `work` complete and rename it into place (a folder left by an older format is replaced)."""
    record = {"format": _FORMAT, "limits": _limits_key(limits), **record}
    (work / MARKER).write_text(json.dumps(record, indent=1), encoding="utf-8")
    if folder.exists() and _read_marker(folder, limits) is None:
        _remove(folder)
    try:
        os.rename(work, folder)
    except OSError:  # another run published the same archive first: its folder is the same
        _remove(work)
    done = _read_marker(folder, limits)
    if done is None:
        raise OSError(f"{folder} could not be published")
    return done


def _limits_key(limits: Limits) -> list[int]:
    return [limits.student_bytes, limits.student_members, limits.ratio, limits.ratio_floor,
            limits.class_bytes, limits.class_members]


def _publish_refusal(target: Path, student: str, reason: str, limits: Limits) -> Unpacked:
    """A refusal for an archive that could not even be read: keyed by the reason."""
    key = hashlib.sha256(reason.encode()).hexdigest()[:16]
    folder = target / f"{student}-{key}"
    done = _read_marker(folder, limits)
    if done is not None:
        return done
    work = _fresh(target, folder.name)
    return _publish(work, folder, _refusal_record(work, student, "", reason), limits)


def _refusal_record(work: Path, student: str, kind: str, reason: str) -> dict:
    for entry in list(work.iterdir()):  # what a refused archive half-wrote is not kept
        _remove(entry)
    return {"class": False, "candidates": [[student, kind, _note(work, student, student, reason)]], "ignored": []}


def _note(work: Path, name: str, student: str, reason: str) -> str:
    """Write the refusal note for `student`; its path relative to `work`."""
    note = work / "refused" / name / f"{student}{REFUSED_SUFFIX}"
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text(reason, encoding="utf-8")
    return note.relative_to(work).as_posix()


def _read_marker(folder: Path, limits: Limits) -> Unpacked | None:
    """The finished unpacking recorded in `folder`, or None when there is none of this format."""
    try:
        record = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        if record["format"] != _FORMAT or record["limits"] != _limits_key(limits):
            return None
        candidates = tuple(Candidate(s, k, _inside(folder, p)) for s, k, p in record["candidates"])
        ignored = tuple(_inside(folder, p) for p in record["ignored"])
        return Unpacked(folder, bool(record["class"]), candidates, ignored)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _inside(folder: Path, relative: str) -> Path:
    """A recorded path, which must stay inside `folder`."""
    parts = Path(relative).parts
    if Path(relative).is_absolute() or ".." in parts or not parts:
        raise ValueError(relative)
    return folder.joinpath(*parts)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _plain(error: BaseException) -> str:
    return str(error) or type(error).__name__

