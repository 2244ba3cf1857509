"""The store of expected values is stale only when a value really changed, not when another CPU rounds differently."""

from __future__ import annotations

import numpy as np

from grader.testing.expected import read_store, same_values, write_store


def values(scale: float = 1.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"t::grad": rng.normal(size=(5, 3)) * scale, "t::accuracy": np.array(0.8735632183908046 * scale),
            "t::count": np.array(11), "t::flags": np.array([True, False])}


def test_rounding_of_another_cpu_is_not_staleness(tmp_path):
    stored = values()
    recomputed = {**stored, "t::grad": stored["t::grad"] * (1 + 2e-15), "t::accuracy": stored["t::accuracy"] + 2e-15}
    assert not np.array_equal(stored["t::grad"], recomputed["t::grad"])  # bit for bit they differ
    assert same_values(stored, recomputed)
    path = tmp_path / "expected.npz"
    assert write_store(path, stored)
    assert not write_store(path, recomputed)  # no rewrite (and no churn in git) for rounding


def test_a_real_change_is_staleness():
    stored = values()
    assert not same_values(stored, {**stored, "t::grad": stored["t::grad"] * (1 + 1e-7)})
    assert not same_values(stored, {**stored, "t::count": np.array(10)})
    assert not same_values(stored, {**stored, "t::accuracy": np.array(np.nan)})
    assert not same_values(stored, {k: v for k, v in stored.items() if k != "t::flags"})


def test_nan_and_inf_compare_equal_to_themselves(tmp_path):
    stored = {"t::v": np.array([np.nan, np.inf, -np.inf, 1.0])}
    assert same_values(stored, {"t::v": stored["t::v"].copy()})
    path = tmp_path / "expected.npz"
    write_store(path, stored)
    assert same_values(read_store(path), stored)
