"""Atomic writes: a reader never sees half a file, even if the grader is killed mid-write."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: Path, content: str | bytes | Iterable[str]) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it into place.

    `content` may be text, bytes, or text in chunks (a page rendered piece by piece is never whole in memory).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    chunks = [content] if isinstance(content, (str, bytes)) else content
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            for chunk in chunks:
                stream.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
