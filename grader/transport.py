"""Files as bytes and back: a hand-in or an assignment travelling to a machine that shares no file system.

`pack` turns a file or folder into a deterministic zip (sorted entries, fixed times). It never
follows a link and never reads a special file: a link travels as a link and a FIFO as a
FIFO, so that the machine that grades sees exactly what the local loader would see (and
refuses it the same way). `unpack` is for archives `pack` made, on the grader's own side.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

_EPOCH = (1980, 1, 1, 0, 0, 0)
_SKIPPED = frozenset({"__pycache__", ".ipynb_checkpoints"})


def pack(path: Path) -> bytes:
    """`path` (a file or a folder) as zip bytes whose members are named from `path.name` down."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in _members(path):
            _add(archive, member, member.relative_to(path.parent).as_posix())
    return buffer.getvalue()


def _members(path: Path) -> list[Path]:
    if path.is_symlink() or not path.is_dir():
        return [path]
    found = [path]
    for root, dirs, files in os.walk(path):  # never descends into linked folders
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED)
        found.extend(Path(root) / name for name in sorted(dirs + files))
    return sorted(found)


def _add(archive: zipfile.ZipFile, member: Path, name: str) -> None:
    info = member.lstat()
    entry = zipfile.ZipInfo(name + ("/" if stat.S_ISDIR(info.st_mode) else ""), _EPOCH)
    entry.external_attr = (info.st_mode & 0xFFFF) << 16
    if stat.S_ISLNK(info.st_mode):
        archive.writestr(entry, os.readlink(member))
    elif stat.S_ISREG(info.st_mode):
        entry.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(entry, member.read_bytes())
    elif stat.S_ISDIR(info.st_mode) or stat.S_ISFIFO(info.st_mode):
        archive.writestr(entry, b"")
    # devices and sockets do not travel: the local loader never reads them either


def unpack(data: bytes, destination: Path) -> Path:
    """Recreate what `pack` packed under `destination`; returns the top-level path."""
    destination.mkdir(parents=True, exist_ok=True)
    top: Path | None = None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in archive.infolist():
            target = (destination / entry.filename).resolve()
            if not target.is_relative_to(destination.resolve()):
                raise ValueError(f"an archive member points outside its folder: {entry.filename}")
            mode = entry.external_attr >> 16
            target.parent.mkdir(parents=True, exist_ok=True)
            if stat.S_ISLNK(mode):
                os.symlink(archive.read(entry).decode(), target)
            elif stat.S_ISFIFO(mode):
                os.mkfifo(target)
            elif entry.is_dir():
                target.mkdir(exist_ok=True)
            else:
                target.write_bytes(archive.read(entry))
            if top is None:
                top = destination / Path(entry.filename).parts[0]
    if top is None:
        raise ValueError("an empty archive")
    return top
