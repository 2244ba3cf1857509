"""The `shared` fixture: a student's expensive result, computed once per hand-in for every test that asks.

Tests of one hand-in often need the same costly thing from the student's code (the weights of
models trained for four values of lambda, used by three tasks). A test writes

    weights = shared(f"weights lambda={lam:g}", lambda: train(student.task3.SoftmaxTrainer, lam))

and the first test that asks computes it; the others get a copy. What makes this safe:
- only plain data is shared (numbers, strings, numpy arrays, and lists, tuples and dicts of
  them), and every test gets its own deep copy, so a test that changes what it got changes
  nothing for the next; a handle to an object living in the worker cannot be shared;
- the student's code runs with a seed of its own for the key (the worker is seeded with
  `crc32(key)` before `compute` and with the test's seed again after), so the value does not
  depend on which test asked first; `compute` must not use the test's `rng` or `seed` either;
- a failure is shared too: the student's error or a failed check raised by `compute` is raised
  again, unchanged, in every test that asks for the key (one cause, one message);
- `grade --no-cache` computes it in every test instead, which must give the same grades.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.errors import ConfigError
from grader.sandbox.client import StudentError
from grader.sandbox.proxy import RemoteObject, StudentSession
from grader.testing.checks import CheckFailed


class SharedResults:
    """One hand-in's shared results: values, or the failure that computing them raised."""

    def __init__(self, session: StudentSession, enabled: bool = True) -> None:
        self.session = session
        self.enabled = enabled
        self.values: dict[str, Any] = {}
        self.failures: dict[str, BaseException] = {}

    def fixture(self, test_ident: str, test_seed: int) -> Callable[[str, Callable[[], Any]], Any]:
        """The `shared(key, compute)` function one test receives."""

        def shared(key: str, compute: Callable[[], Any]) -> Any:
            if self.enabled and key in self.failures:
                raise self.failures[key]
            if not self.enabled or key not in self.values:
                self._compute(test_ident, key, compute, test_seed)
            return copy.deepcopy(self.values[key])

        return shared

    def _compute(self, test_ident: str, key: str, compute: Callable[[], Any], test_seed: int) -> None:
        self.session.request({"op": "seed", "seed": zlib.crc32(key.encode())})
        try:
            value = compute()
        except (StudentError, CheckFailed) as failure:
            self.failures[key] = failure
            raise
        finally:
            self.session.request({"op": "seed", "seed": test_seed})
        _check_plain(value, f"{test_ident}: shared({key!r}, ...)")
        self.values[key] = value


def _check_plain(value: Any, where: str) -> None:
    """Only plain data may be shared between tests: never a handle to an object in the worker."""
    if isinstance(value, RemoteObject):
        raise ConfigError(f"{where} returned an object that lives in the student's worker; share plain data "
                          "(numbers, arrays, lists, dicts), such as the trained weights, instead")
    if isinstance(value, dict):
        for item in value.values():
            _check_plain(item, where)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_plain(item, where)
    elif value is not None and not isinstance(value, (bool, int, float, complex, str, bytes, np.ndarray, np.generic)):
        raise ConfigError(f"{where} returned a {type(value).__name__}; share plain data only")
