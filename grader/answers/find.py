"""The answer to each question of an assignment, from the surest place to the least sure.

In order: the contract's forms for the question's own id (`ANSWERS`, a tagged cell, an
`Answer QID` label); the same forms for the question it is a part of, read part by part;
then, for a free-form report, a heading or label naming the question, its parent question
(read part by part) or its task. What is found under a heading carries a doubt (see
`freeform.py`); the contract's forms never do, so they keep their meaning.
"""

from __future__ import annotations

import re

from grader.answers.freeform import answer_under
from grader.answers.locate import FoundAnswer, find_answers
from grader.answers.parts import names_of, part_of_answer
from grader.answers.questions import Question
from grader.answers.sections import Section, sections_naming, sub_sections
from grader.model import SourceFile

_MATH = re.compile(r"\$|\\\[|\\\(|\\begin\{")


def find_for(files: tuple[SourceFile, ...], questions: tuple[Question, ...]) -> dict[str, FoundAnswer]:
    """The answer to each question that has one, by id."""
    parents = tuple(q.part_of for q in questions if q.part_of)
    explicit = find_answers(files, tuple(dict.fromkeys([*(q.id for q in questions), *parents])))
    found: dict[str, FoundAnswer] = {}
    for question in questions:
        siblings = tuple(names_of(q) for q in questions if q.part_of and q.part_of == question.part_of)
        answer = explicit.get(question.id)
        if answer is None and question.part_of and question.part_of in explicit:
            answer = part_of_answer(explicit[question.part_of], question, siblings)
        if answer is None:
            answer = _under_heading(files, question, siblings)
        if answer is not None:
            found[question.id] = answer
    return found


def _under_heading(
    files: tuple[SourceFile, ...], question: Question, siblings: tuple[tuple[str, ...], ...]
) -> FoundAnswer | None:
    """The answer in a free-form report: under the question's own label, its parent's, or its task's."""
    own = _best(_sections(files, question.id))
    if own is not None:
        return answer_under(own, question.id)
    if question.part_of:
        whole = _best(_sections(files, question.part_of))
        if whole is not None:
            return part_of_answer(answer_under(whole, question.part_of), question, siblings)
    if question.task and question.task not in (question.id, question.part_of):
        task = _best(_sections(files, question.task))
        if task is not None:
            return answer_under(task, question.id)
    return None


def _sections(files: tuple[SourceFile, ...], ident: str) -> tuple[Section, ...]:
    """The sections naming `ident`, or, for `1a` with none, the `a)` parts of the sections naming `1`."""
    direct = sections_naming(files, ident)
    if direct:
        return direct
    split = re.fullmatch(r"(.*\d)[ .\-]*([A-Za-z])", ident)
    if split is None:
        return ()
    wholes = sections_naming(files, split.group(1))
    return tuple(part for whole in wholes for part in sub_sections(whole, split.group(2)))


def _best(sections: tuple[Section, ...]) -> Section | None:
    """The last section that holds math, else the last that holds anything, else None."""
    filled = [s for s in sections if s.text.strip()]
    with_math = [s for s in filled if _MATH.search(s.text)]
    best = with_math or filled
    return best[-1] if best else None
