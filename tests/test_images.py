"""MNIST/Fashion-MNIST loading: the real files from ../shared/data, the source order, and the IDX parser.

The real data is required: CI provides it, so a missing copy fails these tests instead of skipping them.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from playground import data
from playground.data import images

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("PLAYGROUND_DATA_DIR") or ROOT / ".." / "shared" / "data").resolve()
FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _load_via_env(name: str) -> data.ImageSet:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLAYGROUND_DATA_DIR", str(DATA_DIR))
        return data.load_images(name)


# Module scope: each full dataset takes ~0.4 s to decode, and the in-process cache holds only two.
@pytest.fixture(scope="module")
def mnist() -> data.ImageSet:
    return _load_via_env("mnist")


@pytest.fixture(scope="module")
def fashion() -> data.ImageSet:
    return _load_via_env("fashion_mnist")


def _write_idx(path: Path, array: np.ndarray, *, compress: bool = True) -> Path:
    magic = 2051 if array.ndim == 3 else 2049
    raw = struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def _fake_dataset(root: Path, *, n_train: int = 6, n_test: int = 4, subdir: str = "mnist") -> Path:
    """Writes a tiny dataset whose first pixel holds the image's index, so tests can tell sources apart."""
    for prefix, count in (("train", n_train), ("t10k", n_test)):
        x = np.zeros((count, 28, 28), np.uint8)
        x[:, 0, 0] = np.arange(count)
        x[:, 27, 27] = 255
        _write_idx(root / subdir / f"{prefix}-images-idx3-ubyte.gz", x)
        _write_idx(root / subdir / f"{prefix}-labels-idx1-ubyte.gz", np.arange(count) % 10)
    return root


def _no_keras(name: str):
    raise OSError("no network in this test")


# --- the real datasets ---------------------------------------------------------------------------------------


@pytest.mark.full_data
def test_mnist_has_the_official_split_shapes_and_dtypes(mnist):
    assert mnist.x_train.shape == (60000, 28, 28, 1) and mnist.x_test.shape == (10000, 28, 28, 1)
    assert mnist.y_train.shape == (60000,) and mnist.y_test.shape == (10000,)
    assert mnist.x_train.dtype == np.float32 and mnist.x_test.dtype == np.float32
    assert mnist.y_train.dtype == np.int64 and mnist.y_test.dtype == np.int64
    assert mnist.class_names == tuple("0123456789") == data.CLASS_NAMES["mnist"]


@pytest.mark.full_data
def test_mnist_label_histograms_match_the_published_ones(mnist):
    assert np.bincount(mnist.y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(mnist.y_test).tolist() == MNIST_TEST_COUNTS


@pytest.mark.full_data
def test_fashion_mnist_is_balanced_and_named(fashion):
    assert fashion.x_train.shape == (60000, 28, 28, 1) and fashion.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(fashion.y_train).tolist() == [6000] * 10
    assert np.bincount(fashion.y_test).tolist() == [1000] * 10
    assert fashion.class_names[0] == "T-shirt/top" and fashion.class_names[9] == "Ankle boot"
    assert len(fashion.class_names) == 10
    assert data.DATASET_LABELS == {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


@pytest.mark.full_data
@pytest.mark.parametrize("which", ["mnist", "fashion"])
def test_pixels_span_exactly_zero_to_one(which, mnist, fashion):
    dataset = mnist if which == "mnist" else fashion
    for x in (dataset.x_train, dataset.x_test):
        assert x.min() == 0.0 and x.max() == 1.0
    # uint8 / 255 gives 256 distinct levels at most; far fewer would mean a bad scaling
    assert 200 < len(np.unique(dataset.x_test[:500])) <= 256


@pytest.mark.full_data
def test_arrays_are_read_only_so_the_cache_cannot_be_corrupted(mnist):
    for array in (mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test):
        assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        mnist.x_test[0, 0, 0, 0] = 0.5
    with pytest.raises(ValueError, match="read-only"):
        mnist.y_train[0] = 3


@pytest.mark.full_data
def test_the_argument_and_the_environment_reach_the_same_cached_data(mnist, monkeypatch):
    monkeypatch.delenv("PLAYGROUND_DATA_DIR", raising=False)
    again = data.load_images("mnist", data_dir=DATA_DIR)
    assert again.x_test.shape == mnist.x_test.shape
    assert np.array_equal(again.y_test, mnist.y_test)


# --- where the data comes from -------------------------------------------------------------------------------


def test_data_dir_argument_beats_the_environment(tmp_path, monkeypatch):
    env_dir = _fake_dataset(tmp_path / "env", n_train=3)
    arg_dir = _fake_dataset(tmp_path / "arg", n_train=5)
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(env_dir))
    monkeypatch.setattr(images, "_from_keras", _no_keras)
    assert len(data.load_images("mnist", data_dir=arg_dir).x_train) == 5
    assert len(data.load_images("mnist").x_train) == 3


def test_a_relative_environment_path_is_resolved_against_the_working_directory(tmp_path, monkeypatch):
    _fake_dataset(tmp_path / "here" / "data", n_train=7, subdir="fashion")
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", "data")
    monkeypatch.chdir(tmp_path / "here")
    loaded = data.load_images("fashion_mnist")
    assert loaded.x_train.shape == (7, 28, 28, 1)
    assert loaded.x_train[:, 0, 0, 0].tolist() == pytest.approx([i / 255 for i in range(7)])
    assert loaded.x_train[0, 27, 27, 0] == 1.0
    assert loaded.y_train.tolist() == list(range(7))
    assert loaded.class_names == data.CLASS_NAMES["fashion_mnist"]


def test_loads_are_cached_per_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PLAYGROUND_DATA_DIR", raising=False)
    first = _fake_dataset(tmp_path / "a")
    assert data.load_images("mnist", data_dir=first) is data.load_images("mnist", data_dir=tmp_path / "a" / ".")
    second = _fake_dataset(tmp_path / "b")
    assert data.load_images("mnist", data_dir=second) is not data.load_images("mnist", data_dir=first)


def test_without_a_folder_the_keras_cache_is_used(monkeypatch):
    monkeypatch.delenv("PLAYGROUND_DATA_DIR", raising=False)
    calls = []

    def fake_keras(name):
        calls.append(name)
        x = np.full((2, 28, 28), 255, np.uint8)
        return (x, np.array([1, 2], np.uint8)), (x[:1], np.array([9], np.uint8))

    monkeypatch.setattr(images, "_from_keras", fake_keras)
    images._load.cache_clear()  # a real Keras load cached by another test must not answer for the fake
    try:
        loaded = data.load_images("fashion_mnist")
    finally:
        images._load.cache_clear()
    assert calls == ["fashion_mnist"]
    assert loaded.x_train.shape == (2, 28, 28, 1) and loaded.x_train.dtype == np.float32
    assert loaded.x_train.max() == 1.0
    assert loaded.y_test.tolist() == [9] and loaded.y_test.dtype == np.int64
    assert not loaded.x_test.flags.writeable


def test_a_missing_file_is_named_with_guidance(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "_from_keras", _no_keras)
    root = _fake_dataset(tmp_path)
    (root / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataUnavailableError) as info:
        data.load_images("mnist", data_dir=root)
    message = str(info.value)
    assert str(root / "mnist" / "t10k-labels-idx1-ubyte.gz") in message
    assert str(root / "mnist" / "train-images-idx3-ubyte.gz") not in message  # only the missing one is named
    assert "PLAYGROUND_DATA_DIR" in message


def test_an_empty_folder_names_every_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(images, "_from_keras", _no_keras)
    with pytest.raises(data.DataUnavailableError) as info:
        data.load_images("fashion_mnist", data_dir=tmp_path)
    message = str(info.value)
    assert all(str(tmp_path / "fashion" / file) in message for file in FILES)
    assert "PLAYGROUND_DATA_DIR" in message and "internet" in message


def test_no_data_anywhere_says_how_to_get_it(monkeypatch):
    monkeypatch.delenv("PLAYGROUND_DATA_DIR", raising=False)
    monkeypatch.setattr(images, "_from_keras", _no_keras)
    images._load.cache_clear()  # a real Keras load cached by another test would hide the failure
    with pytest.raises(data.DataUnavailableError) as info:
        data.load_images("mnist")
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert isinstance(info.value.__cause__, OSError)
    assert "no network in this test" in message
    assert "PLAYGROUND_DATA_DIR" in message and "mnist/train-images-idx3-ubyte.gz" in message
    assert "internet" in message and "Keras" in message


def test_an_empty_environment_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", "")
    monkeypatch.setattr(images, "_from_keras", _no_keras)
    with pytest.raises(data.DataUnavailableError, match="PLAYGROUND_DATA_DIR is not set"):
        data.load_images("mnist")


def test_unknown_dataset_name_is_rejected():
    with pytest.raises(ValueError, match=r"Expected name in \['fashion_mnist', 'mnist'\]. Received: name='cifar10'"):
        data.load_images("cifar10")


def test_inconsistent_files_are_rejected(tmp_path):
    root = _fake_dataset(tmp_path, n_test=4)
    _write_idx(root / "mnist" / "t10k-labels-idx1-ubyte.gz", np.zeros(3))
    with pytest.raises(ValueError, match="Expected 4 labels, one per image"):
        data.load_images("mnist", data_dir=root)
    _write_idx(root / "mnist" / "t10k-labels-idx1-ubyte.gz", np.full(4, 10))
    with pytest.raises(ValueError, match=r"Expected labels in 0..9. Received: a label 10"):
        data.load_images("mnist", data_dir=root)
    _write_idx(root / "mnist" / "t10k-images-idx3-ubyte.gz", np.zeros((4, 32, 32)))
    with pytest.raises(ValueError, match=r"Expected images of shape \(n, 28, 28\)"):
        data.load_images("mnist", data_dir=root)


# --- the IDX parser ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trips_images_and_labels(tmp_path, compress):
    x = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    assert np.array_equal(data.read_idx(_write_idx(tmp_path / "x.idx", x, compress=compress)), x)
    y = np.array([7, 0, 255])
    labels = data.read_idx(_write_idx(tmp_path / "y.idx", y, compress=compress))
    assert labels.dtype == np.uint8 and labels.tolist() == [7, 0, 255]


@pytest.mark.full_data
def test_read_idx_reads_the_real_test_labels():
    labels = data.read_idx(DATA_DIR / "mnist" / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,) and np.bincount(labels).tolist() == MNIST_TEST_COUNTS


def _labels_file(count: int = 3) -> bytes:
    return struct.pack(">II", 2049, count) + bytes(range(count))


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "at least 4 bytes. Received: 0 bytes"),
        (struct.pack(">II", 2050, 1) + b"\0", "magic number 2051 .* or 2049 .* Received: 2050"),
        (struct.pack(">I", 2051) + b"\0\0\0\1", r"header of 16 bytes. Received: 8 bytes .*truncated"),
        (_labels_file()[:-1], r"Expected 11 bytes .* Received: 10 bytes .*truncated"),
        (_labels_file() + b"\0", r"Expected 11 bytes .* Received: 12 bytes .*trailing bytes"),
        (struct.pack(">IIII", 2051, 1, 0, 28), r"dimensions >= 1. Received: dims=\(1, 0, 28\)"),
        (gzip.compress(_labels_file())[:-6], "Expected a valid gzip file"),
        (b"\x1f\x8b" + b"not really gzip", "Expected a valid gzip file"),
    ],
    ids=["empty", "bad-magic", "short-header", "truncated", "trailing", "zero-dim", "cut-gzip", "bad-gzip"],
)
def test_read_idx_rejects_corrupt_files(tmp_path, content, match):
    path = tmp_path / "bad.idx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        data.read_idx(path)


@pytest.mark.full_data
def test_a_truncated_real_file_fails_clearly(tmp_path):
    raw = gzip.decompress((DATA_DIR / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes())
    _fake_dataset(tmp_path)
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw[: len(raw) // 2], 1))
    with pytest.raises(ValueError, match="truncated"):
        data.load_images("mnist", data_dir=tmp_path)


# --- import cost ---------------------------------------------------------------------------------------------


def test_importing_the_data_package_does_not_load_tensorflow():
    code = (
        "import json, sys\n"
        "from playground import data\n"
        "from playground.data import images, uploads\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'streamlit'})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
