"""The MNIST loader: the genuine files (shapes, label counts) where present, and a small
MNIST-format set written by the tests for the formats, errors, download and CLI."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import http.server
import shutil
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SMALL_TEST, SMALL_TRAIN, small_arrays
from optbench.runners.mnist import data as mnist_data
from optbench.runners.mnist.model import prepare

from optbench.cli import main
from optbench.errors import OptbenchError

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
REAL_FASHION = mnist_data.DATASETS["fashion-mnist"]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
SMALL_TRAIN_COUNTS = [SMALL_TRAIN // 10] * 10


DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """No real Keras cache, Debian install or $OPTBENCH_DATA leak into these tests."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.delenv(mnist_data.DATA_ENV, raising=False)
    fashion = dataclasses.replace(
        mnist_data.DATASETS["fashion-mnist"], system_dirs=(str(tmp_path / "no-debian"),)
    )
    monkeypatch.setitem(mnist_data.DATASETS, "fashion-mnist", fashion)


@pytest.mark.skipif(
    not DEBIAN_FASHION.is_dir(), reason="apt-get install dataset-fashion-mnist (.ci/run does)"
)
def test_fashion_mnist_from_the_debian_package(monkeypatch):
    """`apt-get install dataset-fashion-mnist` (done by .ci/run) puts the files where we look."""
    monkeypatch.setitem(mnist_data.DATASETS, "fashion-mnist", REAL_FASHION)
    loaded = mnist_data.load("fashion-mnist")
    assert Path(loaded.source) == DEBIAN_FASHION
    assert loaded.x_train.shape == (60000, 28, 28) and loaded.x_test.shape == (10000, 28, 28)
    assert np.bincount(loaded.y_train).tolist() == [6000] * 10
    assert np.bincount(loaded.y_test).tolist() == [1000] * 10
    assert loaded.y_train[:5].tolist() == [9, 0, 0, 3, 0]


@pytest.fixture(scope="module")
def arrays(mnist_dir):
    return mnist_data.load("mnist", mnist_dir)


def test_genuine_mnist_shapes_dtypes_and_label_counts(arrays, mnist_dir):
    assert arrays.x_train.shape == (60000, 28, 28) and arrays.x_test.shape == (10000, 28, 28)
    assert arrays.x_train.dtype == np.uint8 and arrays.y_train.dtype == np.uint8
    assert np.bincount(arrays.y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(arrays.y_test).tolist() == TEST_COUNTS
    assert arrays.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert arrays.x_train.mean() == pytest.approx(33.3184, abs=1e-4)
    assert Path(arrays.source) == mnist_dir


def test_prepare_splits_and_scales_as_the_seed(arrays):
    split = prepare(arrays, "split", split_seed=0)
    assert split.x_train.shape == (50000, 784) and split.x_val.shape == (10000, 784)
    assert (
        split.x_train.dtype == np.float32
        and 0.0 <= split.x_train.min() <= split.x_train.max() == 1.0
    )
    assert np.bincount(split.y_train).sum() + np.bincount(split.y_val).sum() == 60000
    again = prepare(arrays, "split", split_seed=0)
    assert np.array_equal(split.y_val, again.y_val)
    seed_like = prepare(arrays, "test", subset=5000)
    assert seed_like.x_train.shape == (5000, 784)
    assert np.array_equal(seed_like.y_val, arrays.y_test)
    with pytest.raises(OptbenchError, match=r"validation 'holdout'.*split, test"):
        prepare(arrays, "holdout")


def _write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_uncompressed_idx_files_are_read(tmp_path):
    rng = np.random.default_rng(0)
    for stem, shape in [
        ("train-images-idx3-ubyte", (6, 28, 28)),
        ("t10k-images-idx3-ubyte", (4, 28, 28)),
    ]:
        _write_idx(tmp_path / stem, rng.integers(0, 256, shape), mnist_data.IMAGE_MAGIC)
    for stem, n in [("train-labels-idx1-ubyte", 6), ("t10k-labels-idx1-ubyte", 4)]:
        _write_idx(tmp_path / stem, np.arange(n) % 10, mnist_data.LABEL_MAGIC)
    loaded = mnist_data.load("mnist", tmp_path)
    assert loaded.x_train.shape == (6, 28, 28) and loaded.y_test.tolist() == [0, 1, 2, 3]


def test_missing_dataset_names_every_place_and_the_command(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(OptbenchError) as info:
        mnist_data.load("mnist", empty)
    message = str(info.value)
    assert str(empty) in message and "missing train-images-idx3-ubyte[.gz]" in message
    assert str(mnist_data.keras_cache() / "mnist.npz") in message
    assert "optbench data download mnist" in message


def test_small_set_reads_the_same_from_idx_gz_and_from_the_keras_npz(small_mnist, small_mnist_npz):
    expected = small_arrays()
    from_idx = mnist_data.load("mnist", small_mnist)
    mnist_data.keras_cache().mkdir(parents=True)
    shutil.copy(small_mnist_npz, mnist_data.keras_cache() / "mnist.npz")
    from_npz = mnist_data.load("mnist")
    assert Path(from_idx.source) == small_mnist
    assert Path(from_npz.source) == mnist_data.keras_cache() / "mnist.npz"
    for key in mnist_data.IDX_FILES:
        np.testing.assert_array_equal(getattr(from_idx, key), getattr(expected, key))
        np.testing.assert_array_equal(getattr(from_npz, key), getattr(expected, key))
    assert from_idx.x_train.shape == (SMALL_TRAIN, 28, 28)
    assert from_idx.y_test.shape == (SMALL_TEST,)
    assert np.bincount(from_npz.y_train).tolist() == SMALL_TRAIN_COUNTS


def test_fashion_mnist_does_not_take_mnist_files(small_mnist_published):
    with pytest.raises(OptbenchError, match=r"holds mnist.*optbench data download fashion-mnist"):
        mnist_data.load("fashion-mnist", small_mnist_published)


@pytest.mark.parametrize("damage", ["truncate", "magic", "gzip"])
def test_corrupt_file_is_an_error_naming_it(tmp_path, small_mnist, damage):
    for path in small_mnist.glob("*labels*.gz"):
        shutil.copy(path, tmp_path / path.name)
    images = tmp_path / "t10k-images-idx3-ubyte.gz"
    shutil.copy(small_mnist / "train-images-idx3-ubyte.gz", tmp_path / "train-images-idx3-ubyte.gz")
    raw = gzip.decompress((small_mnist / images.name).read_bytes())
    if damage == "truncate":
        images.write_bytes(gzip.compress(raw[:-100], compresslevel=1))
        expected = "header says shape"
    elif damage == "magic":
        images.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + raw[4:], compresslevel=1))
        expected = "expected IDX magic 0x00000803"
    else:
        images.write_bytes(b"not a gzip file at all")
        expected = "corrupt dataset file"
    with pytest.raises(OptbenchError, match=expected) as info:
        mnist_data.load("mnist", tmp_path)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)


@pytest.fixture
def server(small_mnist_published, tmp_path):
    """A local HTTP server on 127.0.0.1 serving the small set; yields (url of good, url of bad)."""
    bad = tmp_path / "bad"
    bad.mkdir()
    for path in small_mnist_published.glob("*.gz"):
        shutil.copy(path, bad / path.name)
    (bad / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"tampered"))
    root = tmp_path / "www"
    root.mkdir()
    (root / "good").symlink_to(small_mnist_published)
    (root / "bad").symlink_to(bad)
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield f"{base}/good/", f"{base}/bad/"
    httpd.shutdown()
    thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_from_local_server_verifies_and_caches(server):
    good, bad = server
    with pytest.raises(OptbenchError, match=r"checksum mismatch.*t10k-labels"):
        mnist_data.download("mnist", bad)
    assert not (mnist_data.keras_cache() / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()
    folder = mnist_data.download("mnist", good)
    assert folder == mnist_data.keras_cache() / "mnist"
    loaded = mnist_data.load("mnist")
    assert Path(loaded.source) == folder
    assert np.bincount(loaded.y_train).tolist() == SMALL_TRAIN_COUNTS


def test_cli_data_download_and_where(server):
    good, _ = server
    result = CliRunner().invoke(main, ["data", "download", "mnist", "--url-base", good])
    assert result.exit_code == 0, result.output
    assert str(mnist_data.keras_cache() / "mnist") in result.output
    where = CliRunner().invoke(main, ["data", "where"])
    assert where.exit_code == 0
    assert f"mnist: {mnist_data.keras_cache() / 'mnist'}\n" in where.output
    assert f"  * {mnist_data.keras_cache() / 'mnist'}\n" in where.output
    assert "fashion-mnist: not found" in where.output


def test_unknown_dataset_lists_the_known():
    with pytest.raises(OptbenchError, match="unknown dataset 'cifar'; known: mnist, fashion-mnist"):
        mnist_data.load("cifar")
