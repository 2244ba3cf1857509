"""What instructors' tests import: tolerant comparison, gradient checks, explicit failures."""

from grader.testing.checks import CheckFailed, assert_close, check_gradient, fail, numeric_gradient

__all__ = ["CheckFailed", "assert_close", "check_gradient", "fail", "numeric_gradient"]
