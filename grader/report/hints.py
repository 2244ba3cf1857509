"""Each diagnosis code as advice a student can act on."""

from __future__ import annotations

from grader.model import Diagnosis

HINTS: dict[Diagnosis, str] = {
    Diagnosis.NOT_IMPLEMENTED: "This part is not done yet: the code is missing or still raises NotImplementedError, or "
    "the answer is missing or still the template's placeholder. Write it, then run the self-check again.",
    Diagnosis.UNDEFINED_NAME: "Your code uses a name the graded code never defines. Define it inside the function, "
    "pass it as an argument, or define it at the top level of the file, not only in a script block or another cell.",
    Diagnosis.SYNTAX_ERROR: "The code that defines this does not parse; the line is given. Fix it and run the cell again.",
    Diagnosis.EXCEPTION: "Your code raised an error; the message and the line it names are where to start.",
    Diagnosis.TIMEOUT: "Your code ran past the time limit: look for an endless loop, or vectorise a slow Python loop.",
    Diagnosis.MEMORY_LIMIT: "Your code asked for more memory than allowed: look for a huge array (an N x N matrix?).",
    Diagnosis.WRONG_SHAPE: "The result has the wrong shape or type: check the shapes the handout asks for.",
    Diagnosis.NAN_OR_INF: "The result holds NaN or infinity: look for log(0), division by zero or an overflowing exp.",
    Diagnosis.SIGN_FLIPPED: "Your result is the negative of the right one: check the sign in your derivation (y - y_hat or y_hat - y?).",
    Diagnosis.SCALED: "Your result is off by a constant factor: did you average over the batch (a missing 1/N), "
    "or is there a stray factor 2?",
    Diagnosis.TRANSPOSED: "Your result is the transpose of the right one: check the order of a matrix product.",
    Diagnosis.MISSING_REGULARIZATION: "The regularization term is missing or uses another convention: add the "
    "gradient of the penalty to your gradient.",
    Diagnosis.NUMERICALLY_UNSTABLE: "Right on small inputs, but it overflows on large ones: subtract the maximum "
    "before exponentiating (advice only, no points lost).",
    Diagnosis.BELOW_THRESHOLD: "Training ran but did not reach the required accuracy: check the update step, "
    "learning rate and shuffling.",
    Diagnosis.FORBIDDEN_API: "The code uses an API this task forbids; write the computation yourself.",
    Diagnosis.WRONG_ANSWER: "The written answer is not equivalent to the expected one.",
    Diagnosis.NUMPY_VERSION: "This code was written for an older NumPy: the message names the API the grader's "
    "NumPy no longer has and what to write instead, which works with every NumPy.",
}


def hint(diagnosis: Diagnosis) -> str:
    """The advice for one diagnosis."""
    return HINTS.get(diagnosis, "")
