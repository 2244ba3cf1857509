"""The `expected` fixture: reference-derived values that public tests carry to students' machines.

A public test never takes `reference`: a student's machine has none. It asks instead

    want = expected("accuracy", lambda reference: train(reference.task2.LogisticTrainer, ...))

With the reference at hand (the instructor's `grade`, `grader assign`), `compute(reference)`
runs and its value is recorded; without it (`grader check` on a student's machine), the
value comes from the store that `grader assign` wrote beside the public tests,
`tests/public/expected.npz`. Keys are scoped per test (`test_file.py::test_name[param]::key`),
so two tests can both ask for "accuracy".

Only numbers, booleans and numeric arrays are stored (a list of floats comes back as an
array), and the store is read with `allow_pickle=False`: it is data, never code.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from grader.errors import ConfigError

STORE_NAME = "expected.npz"


class ExpectedMissing(ConfigError):
    """A public test asked for a value that is neither computable here nor in the store."""


def store_path(public_tests: Path) -> Path:
    """Where an assignment's store lives: beside its public tests."""
    return public_tests / STORE_NAME


def read_store(path: Path) -> dict[str, np.ndarray]:
    """The stored values, or nothing when there is no store yet."""
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: np.array(archive[key]) for key in archive.files}
    except (ValueError, OSError) as error:
        raise ConfigError(f"{path}: the store of expected values cannot be read: {error}") from None


def write_store(path: Path, values: Mapping[str, np.ndarray]) -> bool:
    """Write the store when its values changed (npz files carry timestamps); return whether it did."""
    if same_values(read_store(path), values):
        return False
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{key: values[key] for key in sorted(values)})  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".npz.tmp")
    temporary.write_bytes(buffer.getvalue())
    temporary.replace(path)
    return True


# How far a stored float may drift from what the reference computes now and still count as the
# same: another CPU or BLAS sums in another order (differences near 1e-15), far below any test's
# tolerance (1e-6 and up), so the store is stale only when a value really changed.
STALE_RTOL = 1e-9


def same_values(old: Mapping[str, np.ndarray], new: Mapping[str, np.ndarray]) -> bool:
    """Same keys, dtypes and shapes; equal values (NaN equal to NaN), floats within STALE_RTOL of the larger magnitude."""
    if set(old) != set(new):
        return False
    return all(old[k].dtype == new[k].dtype and old[k].shape == new[k].shape and _same(old[k], new[k]) for k in old)


def _same(old: np.ndarray, new: np.ndarray) -> bool:
    if old.dtype.kind not in "fc":
        return bool(np.array_equal(old, new))
    finite = np.isfinite(old) & np.isfinite(new)
    if not np.array_equal(old[~finite], new[~finite], equal_nan=True) or not np.array_equal(finite, np.isfinite(old)):
        return False
    scale = float(np.max(np.abs(old[finite]), initial=0.0))
    return bool(np.allclose(old[finite], new[finite], rtol=STALE_RTOL, atol=STALE_RTOL * scale))


def as_storable(value: Any, where: str) -> np.ndarray:
    """A number, bool or numeric array(-like) as an array; anything else is the instructor's mistake."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        array = np.asarray(None)
    if array.dtype.kind not in "biuf":
        raise ConfigError(f"{where}: expected values must be numbers or numeric arrays, "
                          f"not {type(value).__name__}")
    return array


def restore(array: np.ndarray) -> Any:
    """A 0-d array back to a Python number; arrays stay arrays."""
    return array.item() if array.ndim == 0 else array


class ExpectedValues:
    """Computes from the reference and records, or reads the store: one per grading process."""

    def __init__(self, reference: Any, stored: Mapping[str, np.ndarray], store: Path, cache: bool = True) -> None:
        self.reference = reference
        self.stored = dict(stored)
        self.store = store
        self.recorded: dict[str, np.ndarray] = {}
        # Values computed from the reference, kept for the next student: a value depends on its test and
        # key only (the contract that lets the store carry it to students' machines), never on the hand-in.
        self.cache_enabled = cache
        self.cache: dict[str, np.ndarray] = {}

    def save_cache(self, path: Path) -> None:
        """Keep what was computed, so that a resumed batch does not compute the reference's values again."""
        if self.cache_enabled and self.cache:
            write_store(path, self.cache)

    def load_cache(self, path: Path) -> None:
        if self.cache_enabled:
            try:
                self.cache.update(read_store(path))
            except ConfigError:
                pass  # a damaged cache is recomputed, never trusted

    @property
    def live(self) -> bool:
        return self.reference is not None

    def fixture(self, test_ident: str, record: bool) -> Callable[[str, Callable[[Any], Any]], Any]:
        """The `expected(key, compute)` function one test receives."""

        def expected(key: str, compute: Callable[[Any], Any]) -> Any:
            full = f"{test_ident}::{key}"
            if self.live:
                cached = self.cache.get(full) if self.cache_enabled else None
                value = cached if cached is not None else as_storable(compute(self.reference), full)
                if self.cache_enabled:
                    self.cache[full] = value
                if record:
                    self.recorded[full] = value
                return restore(value.copy())  # a copy: a test that changes it in place changes nothing shared
            if full not in self.stored:
                raise ExpectedMissing(f"{self.store}: no stored value for {full!r}; the instructor refreshes "
                                      "the store with `grader assign ASSIGNMENT`")
            return restore(self.stored[full])

        return expected
