"""One part of an answer to a multi-part question, read from the answer to the whole question.

The whole may be a tuple in the handout's order (`ANSWERS["3.4"] = (a, b, c, d)`), a dict keyed
by the parts' names (`{"db2": ..., "dW2": ...}`), or text answering the parts in order:
marked `(a) ... (b) ...`, or one box or display equation per part.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from grader.answers.locate import FoundAnswer
from grader.answers.mathtext import extract_math, math_segments
from grader.answers.questions import Question

_LETTERS = "abcdefghijklmnop"
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")


def names_of(question: Question) -> tuple[str, ...]:
    """Every name a part answers to, normalised: its declared names, its id, and its id after the parent's."""
    names = [*question.part_names, question.id]
    if question.part_of and question.id.lower().startswith(question.part_of.lower()):
        names.append(question.id[len(question.part_of) :])
    return tuple(dict.fromkeys(n for n in (_key(name) for name in names) if n))


def part_of_answer(
    whole: FoundAnswer, question: Question, siblings: tuple[tuple[str, ...], ...]
) -> FoundAnswer | None:
    """The part of `whole` (the answer to `question.part_of`) that answers `question`; None if it has none.

    `siblings` are the names of every part of the parent, in order, so that a dict keyed by
    names nobody declared can still be read in order.
    """
    where = f"part {question.part + 1} of the answer to {question.part_of}"
    if whole.is_literal and isinstance(whole.value, tuple | list):
        return _from_sequence(whole, question, tuple(whole.value), where)
    if whole.is_literal and isinstance(whole.value, Mapping):
        return _from_mapping(whole, question, whole.value, siblings, where)
    pieces = _text_parts(whole.text, question.part_count)
    if pieces is None or question.part >= len(pieces[0]):
        return None
    texts, doubt = pieces
    text = texts[question.part]
    return _as_part(whole, question, text, None, False, where, doubt)


def _from_sequence(
    whole: FoundAnswer, question: Question, values: tuple[object, ...], where: str
) -> FoundAnswer | None:
    if question.part >= len(values):
        return None
    doubt = "" if len(values) == question.part_count else (
        f"the answer to {question.part_of} holds {len(values)} values for its {question.part_count} parts"
    )
    value = values[question.part]
    return _as_part(whole, question, value if isinstance(value, str) else repr(value), value, True, where, doubt)


def _from_mapping(
    whole: FoundAnswer,
    question: Question,
    value: Mapping[object, object],
    siblings: tuple[tuple[str, ...], ...],
    where: str,
) -> FoundAnswer | None:
    keyed = {_key(k): v for k, v in value.items()}
    mine = names_of(question)
    for name in mine:
        if name in keyed:
            item = keyed[name]
            return _as_part(whole, question, item if isinstance(item, str) else repr(item), item, True, where, "")
    known = {n for names in siblings for n in names}
    if known & set(keyed) or len(keyed) != question.part_count:
        return None
    item = list(value.values())[question.part]
    doubt = f"the keys of the answer to {question.part_of} name none of its parts, so they were read in order"
    return _as_part(whole, question, item if isinstance(item, str) else repr(item), item, True, where, doubt)


def _as_part(
    whole: FoundAnswer, question: Question, text: str, value: object, literal: bool, where: str, doubt: str
) -> FoundAnswer:
    return replace(
        whole,
        qid=question.id,
        text=text,
        math=extract_math(text),
        value=value,
        is_literal=literal,
        doubt=" and ".join(d for d in (whole.doubt, doubt) if d),
        where=f"{where} {whole.where}".strip(),
    )


def _text_parts(text: str, count: int) -> tuple[tuple[str, ...], str] | None:
    """The text of each part, in order, and a doubt when their number is not the number of parts."""
    for labels in (_LETTERS[:count], _ROMAN[:count]):
        marked = _marked(text, tuple(labels))
        if marked is not None:
            return marked, ""
    segments = math_segments(text)
    if not segments:
        segments = tuple(p for p in _plain_pieces(text) if p.strip())
    if not segments:
        return None
    if len(segments) == count:
        return tuple(f"${s}$" if "\\" in s or "{" in s else s for s in segments), ""
    doubt = f"the answer holds {len(segments)} equations for {count} parts"
    kept = segments[-count:] if len(segments) > count else segments
    return tuple(f"${s}$" for s in kept), doubt


def _marked(text: str, labels: tuple[str, ...]) -> tuple[str, ...] | None:
    """The pieces of `text` after the markers `(a)`, `(b)`, ... (or `a)`), when all of them appear in order."""
    starts = []
    at = 0
    for label in labels:
        marker = re.compile(r"(?:^|(?<=[\s*_]))\(?" + label + r"\)", re.I | re.M)
        match = marker.search(text, at)
        if match is None:
            return None
        starts.append((match.start(), match.end()))
        at = match.end()
    ends = [s for s, _ in starts[1:]] + [len(text)]
    return tuple(text[end:stop] for (_, end), stop in zip(starts, ends, strict=True))


def _plain_pieces(text: str) -> tuple[str, ...]:
    """A plain-text answer to several parts split at `;` or new lines, else at top-level commas."""
    pieces = [p for p in re.split(r";|\n", text) if p.strip()]
    if len(pieces) > 1:
        return tuple(pieces)
    out, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return tuple(out)


def _key(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())
