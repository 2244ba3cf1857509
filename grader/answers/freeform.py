"""An answer read from a free-form report: the last equation under the heading that names the task.

Found this way, the grader is never sure it read the right thing: the answer carries a
`doubt`, so a wrong or unreadable reading is held for review rather than scored 0. The
equation a task statement asks to show (`show that $$...$$`, often copied into the report)
and quoted lines (`> ...`) are not the student's answer; when they are the only math under
the heading, or the answer is a picture, the answer is held whatever it says.
"""

from __future__ import annotations

import re

from grader.answers.locate import FoundAnswer
from grader.answers.mathtext import display_spans, extract_math
from grader.answers.sections import Section

_QUOTED = re.compile(r"^[ \t]*>.*$", re.M)
# the imperative of a task statement ("..., show that"), not a student's "we wanted to show:"
_NOT_IMPERATIVE = r"(?<!\bto )(?<!\bwe )(?<!\bwill )(?<!\bcan )(?<!\bi )"
_STATED = re.compile(
    _NOT_IMPERATIVE + r"\b(?:show|prove|verify)(?:\s+that)?\s*:?\s*$|" + _NOT_IMPERATIVE + r"\bshow\s+that\b[^.!?$]*$",
    re.I,
)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|<img\b", re.I)


def answer_under(section: Section, qid: str) -> FoundAnswer:
    """The answer to `qid` in `section`: its last box, else its last display equation, else its last inline math."""
    where = f"under `{section.label}` ({section.file}, cell {section.cell})"
    doubt = f"found {where} rather than in an `Answer {qid}` cell"
    text = _QUOTED.sub("", section.text)
    own, stated = _without_stated(text)
    math = extract_math(own)
    hold = ""
    if math is None and stated:
        math = extract_math(stated[-1])
        hold = f"the only equation {where} is the one the task asks to show"
    elif math is None and _IMAGE.search(text):
        hold = f"the answer {where} is an image"
    return FoundAnswer(
        qid, "heading", section.file, section.cell, section.text, own.strip(), math,
        doubt=doubt, where=where, hold=hold,
    )


def _without_stated(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` without the display equations a statement asks to show, and those equations."""
    kept = []
    stated = []
    last = 0
    for start, end in display_spans(text):
        before = text[max(last, start - 160) : start]
        if _STATED.search(before):
            kept.append(text[last:start])
            stated.append(text[start:end])
        else:
            kept.append(text[last:end])
        last = end
    kept.append(text[last:])
    return "".join(kept), tuple(stated)
