"""Choice answers: the student's words, folded, against the spellings of each option the question offers."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NEGATIONS = frozenset("not no never isnt arent doesnt dont cannot cant neither nor".split())
_MARKUP = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|boldsymbol|operatorname|emph|mbox)\b")

# An inequality keeps its direction as a word: `$\mu_{MLE} > \mu_{MAP}$` is not `$\mu_{MLE} < \mu_{MAP}$`.
_RELATIONS = {
    ">=": "geq", "<=": "leq", "≥": "geq", "≤": "leq", ">": "gt", "<": "lt",
    "\\geq": "geq", "\\ge": "geq", "\\leq": "leq", "\\le": "leq", "\\gt": "gt", "\\lt": "lt",
}
_RELATION = re.compile(r"\\(?:geq|ge|leq|le|gt|lt)(?![a-z])|>\s*=|<\s*=|[<>≥≤]")


@dataclass(frozen=True)
class ChoiceReading:
    """What a choice answer says: the right option, another one, both, or none."""

    passed: bool
    message: str


def fold(text: str) -> str:
    """Lower case, markup and punctuation gone, words separated by single spaces: `**Greater.**` -> `greater`."""
    text = _MARKUP.sub(" ", text.lower())
    text = _RELATION.sub(_relation_word, text)
    text = re.sub(r"\\([a-z]+)", r" \1 ", text)
    text = re.sub(r"['’]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def read_choice(text: str, right: tuple[str, ...], options: tuple[str, ...]) -> ChoiceReading:
    """Credit `text` if it is a right spelling, or a sentence naming a right option and no other, un-negated."""
    folded = fold(text)
    rights = {fold(s) for s in right} - {""}
    wrongs = {fold(s) for s in options} - rights - {""}
    if folded in rights:
        return ChoiceReading(True, "correct")
    if folded in wrongs:
        return ChoiceReading(False, "not the right choice")
    named_right = [s for s in rights if _occurrences(s, folded)]
    named_wrong = [s for s in wrongs if _occurrences(s, folded)]
    negated = any(_negated(s, folded) for s in named_right + named_wrong)
    if named_right and not named_wrong and not negated:
        return ChoiceReading(True, "correct")
    if named_right:
        return ChoiceReading(
            False, "the answer names more than one option, or negates one, so it cannot be read"
        )
    if named_wrong:
        return ChoiceReading(False, "not the right choice")
    offered = ", ".join(f"`{o}`" for o in (options or right))
    return ChoiceReading(False, f"none of the options ({offered}) could be found in the answer")


def _relation_word(match: re.Match[str]) -> str:
    return " " + _RELATIONS["".join(match.group(0).split())] + " "


def _occurrences(phrase: str, folded: str) -> list[int]:
    """Word positions where `phrase` starts in `folded`."""
    words, target = folded.split(), phrase.split()
    return [i for i in range(len(words) - len(target) + 1) if words[i : i + len(target)] == target]


def _negated(phrase: str, folded: str) -> bool:
    words = folded.split()
    return any(_NEGATIONS & set(words[max(0, i - 2) : i]) for i in _occurrences(phrase, folded))
