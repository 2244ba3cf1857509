"""Offline datasets for assignments: 28x28 digits from scikit-learn, or a local MNIST when given.

`digits_28x28()` upscales scikit-learn's bundled 8x8 digits (1797 images) to MNIST's
shape and range, deterministically, so that grading needs no network. `load_mnist(path)`
reads MNIST from a folder of IDX files (gzipped or not) or from one `.npz` file.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

import numpy as np


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.float64) / 16.0  # [N, 8, 8] in 0..1
    large = zoom(images, (1, 28 / 8, 28 / 8), order=1)  # [N, 28, 28]
    large = np.clip(large, 0.0, 1.0)
    X = np.round(large * 255).astype(np.uint8).reshape(len(images), 784)
    y = digits.target.astype(np.int64)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def digits_28x28() -> tuple[np.ndarray, np.ndarray]:
    """(X uint8 [1797, 784] in 0..255, y int [1797]): scikit-learn's digits grown to 28x28."""
    X, y = _digits()
    return X.copy(), y.copy()


def split(X: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_a, y_a, X_b, y_b): a seeded random permutation, the first `fraction` of it in part a."""
    order = np.random.default_rng(seed).permutation(len(X))
    cut = int(round(fraction * len(X)))
    first, second = order[:cut], order[cut:]
    return X[first], y[first], X[second], y[second]


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    return data.reshape(shape)


def _find(folder: Path, stem: str) -> Path:
    for candidate in (stem, f"{stem}.gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / candidate).is_file():
            return folder / candidate
    raise FileNotFoundError(f"{folder}: no {stem}[.gz]")


@functools.cache
def _mnist(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    where = Path(path).expanduser()
    if where.is_file() and where.suffix == ".npz":
        with np.load(where) as archive:
            keys = set(archive.files)
            names = ("x_train", "y_train", "x_test", "y_test")
            if not set(names) <= keys:
                names = ("X_train", "Y_train", "X_test", "Y_test")
            arrays = [archive[n] for n in names]
    elif where.is_dir():
        arrays = [
            _read_idx(_find(where, "train-images-idx3-ubyte")),
            _read_idx(_find(where, "train-labels-idx1-ubyte")),
            _read_idx(_find(where, "t10k-images-idx3-ubyte")),
            _read_idx(_find(where, "t10k-labels-idx1-ubyte")),
        ]
    else:
        raise FileNotFoundError(f"{where}: give a folder of MNIST IDX files or an .npz file")
    X_train, y_train, X_test, y_test = arrays
    return (
        np.asarray(X_train, dtype=np.uint8).reshape(len(X_train), 784),
        np.asarray(y_train).astype(np.int64).reshape(-1),
        np.asarray(X_test, dtype=np.uint8).reshape(len(X_test), 784),
        np.asarray(y_test).astype(np.int64).reshape(-1),
    )


def load_mnist(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train uint8 [N, 784], y_train int [N], X_test, y_test) from local IDX files or an .npz."""
    return tuple(a.copy() for a in _mnist(str(path)))  # type: ignore[return-value]
