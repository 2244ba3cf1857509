"""Where a free-form report answers a task: the text under a heading or label that names it.

Groups write their own report rather than the answer format, so a task is named as
`## Task 1a`, `**Task 1 a:**`, `1a)`, `Question 1a`, `Oppgave 1a`, `### 1.2b`, or as a
heading `# Task 1` with a sub-heading or paragraph `a)` under it. A section runs from the
label to the next heading at the label's level or above, or the next line that names a task,
across the markdown cells that follow (code cells between them are skipped).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from grader.model import SourceFile

_KEYWORDS = r"(?:task|question|problem|exercise|assignment|oppgave|oppg|opg|part|del|ex|q)"
_HEAD = (
    r"^[ \t]*+(?P<hashes>#{1,6})?[ \t]*+(?:[-*+][ \t]++)?(?P<bold>\*\*|__)?[ \t]*+"
    r"(?P<kw>" + _KEYWORDS + r"\.?[ \t]*+)?(?P<open>\()?"
)
_TAIL = r"(?P<close>\))?[ \t]*+(?P<punct>[:.\-–—])?[ \t]*+(?P<bold2>\*\*|__)?[ \t]*+[:.\-–—]?[ \t]*+"
_HEADING = re.compile(r"^[ \t]*+(#{1,6})[ \t]")
# a line that names some task: it ends the section of another one
_ANY_TASK = re.compile(
    r"^[ \t]*+(?:#{1,6}[ \t]*+)?(?:\*\*|__)?[ \t]*+(?:(?:" + _KEYWORDS + r"|answer)\.?[ \t]*+\(?\d"
    r"|\(?\d+(?:\.\d+)*[ \t]*+\(?[a-z]\))",
    re.I,
)
_SUB_LABEL = re.compile(
    r"^[ \t]*+(?P<hashes>#{1,6})?[ \t]*+(?:\*\*|__)?[ \t]*+(?:\((?P<a>[a-z]|[ivx]+)\)|(?P<b>[a-z]|[ivx]+)[).:])"
    r"(?:\*\*|__)?[ \t]*+",
    re.I,
)


@dataclass(frozen=True)
class Section:
    """The text of a report under a label that names a task, and where it is."""

    file: str
    cell: int
    label: str  # the label line as written, for messages
    text: str


def id_pattern(ident: str) -> str:
    """A regex for a task id as people write it: `1a` as `1a`, `1 a`, `1.a`, `1(a)`; `1.2b` as `1.2 b`."""
    tokens = re.findall(r"\d+|[A-Za-z]+", ident)
    if not tokens:
        return re.escape(ident)
    pattern = re.escape(tokens[0])
    for before, token in zip(tokens, tokens[1:], strict=False):
        if before.isdigit() and token.isdigit():
            pattern += r"[ \t]*+[.,][ \t]*+"
        elif before.isdigit():
            pattern += r"[ \t]*+[.\-]?[ \t]*+\(?"
        else:
            pattern += r"[ \t]*+[.\-_]?[ \t]*+"
        pattern += re.escape(token)
    # the id ends here: `1` is not `1.2`, `1a` is not `1ab`, `1` is not `1 a)` (that is task 1a)
    return pattern + r"(?![A-Za-z0-9]|[ \t]*+[.,][ \t]*+\d|[ \t]*+[.\-]?[ \t]*+\(?[A-Za-z]\)|[.\-][A-Za-z])"


def sections_naming(files: tuple[SourceFile, ...], ident: str) -> tuple[Section, ...]:
    """Every section of the markdown whose label names `ident`, in notebook order."""
    has_letter = any(c.isalpha() for c in ident)
    label = re.compile(_HEAD + id_pattern(ident) + _TAIL, re.I)
    found = []
    for source, lines in _markdown_lines(files):
        for at, (cell, line) in enumerate(lines):
            match = label.match(line)
            if match is None or not _is_label(match, has_letter):
                continue
            level = len(match.group("hashes") or "") or 7
            body = [line[match.end() :]]
            for _, following in lines[at + 1 :]:
                if _ends_section(following, level):
                    break
                body.append(following)
            found.append(Section(source.path, cell, line[: match.end()].strip(), "\n".join(body).strip()))
    return tuple(found)


def sub_sections(section: Section, letter: str) -> tuple[Section, ...]:
    """Inside the section of task `1`, the parts labelled `a)`, `(a)`, `**a.**` or `### a`, for question `1a`."""
    lines = section.text.splitlines()
    found = []
    for at, line in enumerate(lines):
        match = _SUB_LABEL.match(line)
        if match is None or (match.group("a") or match.group("b") or "").lower() != letter.lower():
            continue
        body = [line[match.end() :]]
        for following in lines[at + 1 :]:
            if _SUB_LABEL.match(following):
                break
            body.append(following)
        label = f"{section.label} / {line[: match.end()].strip()}"
        found.append(Section(section.file, section.cell, label, "\n".join(body)))
    return tuple(found)


def _is_label(match: re.Match[str], has_letter: bool) -> bool:
    """A heading, a keyword (`Task`), bold, or an id closed by `)` or `:` names a task; `1.` alone is a list."""
    if match.group("hashes") or match.group("kw") or match.group("bold") or match.group("close"):
        return True
    punct = match.group("punct") or ""
    return punct == ":" or (punct == "." and has_letter)


def _ends_section(line: str, level: int) -> bool:
    """A heading at the label's level or above (any heading after a paragraph label), or a line naming a task."""
    heading = _HEADING.match(line)
    if heading is not None and len(heading.group(1)) <= level:
        return True
    return _ANY_TASK.match(line) is not None


def _markdown_lines(files: tuple[SourceFile, ...]) -> Iterator[tuple[SourceFile, list[tuple[int, str]]]]:
    """Each file's markdown as (cell index, line) pairs, fenced code left out."""
    for source in files:
        lines: list[tuple[int, str]] = []
        for cell in source.cells:
            if cell.kind != "markdown":
                continue
            fenced = False
            for line in cell.source.splitlines():
                if line.lstrip().startswith(("```", "~~~")):
                    fenced = not fenced
                    continue
                if not fenced:
                    lines.append((cell.index, line))
        yield source, lines
