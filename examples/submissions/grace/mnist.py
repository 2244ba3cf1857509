# Downloads MNIST once and caches it as data/mnist.npz.
import gzip
import pathlib
import urllib.request

import numpy as np

MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
CACHE = pathlib.Path("data", "mnist.npz")


def _fetch(name):
    with urllib.request.urlopen(MIRROR + name) as response:
        raw = gzip.decompress(response.read())
    # idx files: 16 header bytes for images, 8 for labels
    if "images" in name:
        return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 784)
    return np.frombuffer(raw, dtype=np.uint8, offset=8)


def download():
    CACHE.parent.mkdir(exist_ok=True)
    arrays = {key: _fetch(name) for key, name in FILES.items()}
    np.savez(CACHE, **arrays)


def load():
    if not CACHE.exists():
        download()
    data = np.load(CACHE)
    return data["train_images"], data["train_labels"], data["test_images"], data["test_labels"]
