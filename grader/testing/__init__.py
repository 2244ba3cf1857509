"""What instructors' tests import: tolerant comparison, result coercion, gradient checks, explicit failures."""

from grader.testing.checks import (
    CheckFailed,
    as_number,
    as_result,
    assert_close,
    check_gradient,
    fail,
    numeric_gradient,
    tolerances,
)
from grader.testing.diagnose import lowest_precision

__all__ = [
    "CheckFailed",
    "as_number",
    "as_result",
    "assert_close",
    "check_gradient",
    "fail",
    "lowest_precision",
    "numeric_gradient",
    "tolerances",
]
