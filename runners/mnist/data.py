"""MNIST and Fashion-MNIST: find the files, read them, download only when asked."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optbench.errors import OptbenchError

DATA_ENV = "OPTBENCH_DATA"
KERAS_URL_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
IMAGE_MAGIC, LABEL_MAGIC = 0x803, 0x801


@dataclass(frozen=True)
class DatasetInfo:
    """Where a dataset lives and how its downloaded files are checked."""

    name: str
    checksums: dict[str, str]
    npz: tuple[str, str] | None = None
    system_dirs: tuple[str, ...] = ()


MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f"
    "203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e"
    "8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
DATASETS = {
    "mnist": DatasetInfo(
        "mnist",
        MNIST_SHA256,
        npz=("mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
    ),
    "fashion-mnist": DatasetInfo(
        "fashion-mnist",
        {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        system_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
}


@dataclass(frozen=True)
class Arrays:
    """The raw images (uint8, N×28×28) and labels (uint8) of the train and test sets."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


def info(name: str) -> DatasetInfo:
    """The dataset registered under `name`, or an error listing the known ones."""
    key = name.lower().replace("_", "-")
    if key not in DATASETS:
        raise OptbenchError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[key]


def keras_cache() -> Path:
    """Keras' dataset cache folder (`$KERAS_HOME/datasets`, by default ~/.keras/datasets)."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "datasets"


def _idx_path(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path: str | os.PathLike[str], magic: int) -> np.ndarray:
    """One IDX file (gzip-compressed or not) as a uint8 array; a corrupt file is an error."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as exc:
        raise OptbenchError(f"corrupt dataset file {str(path)!r}: {exc}") from None
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header or struct.unpack(">I", data[:4])[0] != magic:
        found = data[:4].hex() if len(data) >= 4 else "a short file"
        raise OptbenchError(
            f"corrupt dataset file {str(path)!r}: expected IDX magic 0x{magic:08x}, found {found}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if len(data) - header != int(np.prod(shape)):
        raise OptbenchError(
            f"corrupt dataset file {str(path)!r}: header says shape {shape} "
            f"({int(np.prod(shape))} bytes) but it holds {len(data) - header} bytes"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_idx_folder(folder: Path) -> Arrays:
    """The four standard IDX files of a folder."""
    arrays = {}
    for key, stem in IDX_FILES.items():
        path = _idx_path(folder, stem)
        if path is None:
            raise OptbenchError(f"{str(folder)!r} has no {stem}[.gz]")
        arrays[key] = read_idx(path, IMAGE_MAGIC if key.startswith("x") else LABEL_MAGIC)
    return _checked(Arrays(**arrays, source=str(folder)))


def read_npz(path: Path) -> Arrays:
    """Keras' `mnist.npz` cache file."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: np.asarray(f[key], dtype=np.uint8) for key in IDX_FILES}
    except (OSError, KeyError, ValueError) as exc:
        raise OptbenchError(f"corrupt dataset file {str(path)!r}: {exc}") from None
    return _checked(Arrays(**arrays, source=str(path)))


def _checked(arrays: Arrays) -> Arrays:
    for split in ("train", "test"):
        x, y = getattr(arrays, f"x_{split}"), getattr(arrays, f"y_{split}")
        if x.ndim != 3 or x.shape[0] != y.shape[0] or y.ndim != 1 or y.max(initial=0) > 9:
            raise OptbenchError(
                f"corrupt dataset in {arrays.source!r}: {split} images {x.shape} and "
                f"labels {y.shape} do not match (labels must be 0..9)"
            )
    return arrays


def candidates(name: str, data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Where `load` looks, in order: --data / $OPTBENCH_DATA, the Keras cache, system folders."""
    dataset = info(name)
    places = []
    explicit = data_dir or os.environ.get(DATA_ENV)
    if explicit:
        places += [Path(explicit) / dataset.name, Path(explicit)]
    if dataset.npz is not None:
        places.append(keras_cache() / dataset.npz[0])
    places.append(keras_cache() / dataset.name)
    places.extend(Path(p) for p in dataset.system_dirs)
    return places


def _other_dataset(folder: Path, dataset: DatasetInfo) -> str | None:
    """The name of another known dataset whose published labels file `folder` holds."""
    path = folder / "train-labels-idx1-ubyte.gz"
    if not path.is_file():
        return None
    for other in DATASETS.values():
        expected = other.checksums[path.name]
        if other is not dataset and file_digest(path, _algorithm(expected)) == expected:
            return other.name
    return None


def _algorithm(digest: str) -> str:
    return "md5" if len(digest) == 32 else "sha256"


def load(name: str = "mnist", data_dir: str | os.PathLike[str] | None = None) -> Arrays:
    """The dataset from the first place that holds it, or an error naming every place tried."""
    dataset = info(name)
    tried = []
    for place in candidates(dataset.name, data_dir):
        if place.suffix == ".npz":
            if place.is_file():
                return read_npz(place)
            tried.append(f"{place} (no such file)")
        elif place.is_dir():
            missing = [stem for stem in IDX_FILES.values() if _idx_path(place, stem) is None]
            other = None if missing else _other_dataset(place, dataset)
            if not missing and other is None:
                return read_idx_folder(place)
            reason = (
                f"holds {other}" if other else f"missing {', '.join(m + '[.gz]' for m in missing)}"
            )
            tried.append(f"{place} ({reason})")
        else:
            tried.append(f"{place} (no such folder)")
    raise OptbenchError(
        f"dataset {dataset.name!r} not found; looked in: {'; '.join(tried)}. "
        f"Fetch it with `optbench data download {dataset.name}`, or point --data or "
        f"${DATA_ENV} at a folder holding the four IDX files."
    )


def file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fetch(url: str, destination: Path, expected: str) -> Path:
    """Download `url` to `destination` through a temporary file, verifying its checksum."""
    algorithm = _algorithm(expected)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=destination.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out)
        digest = file_digest(Path(tmp), algorithm)
        if digest != expected:
            raise OptbenchError(
                f"checksum mismatch for {url}: {algorithm} {digest}, expected {expected}; "
                "nothing was stored"
            )
        os.replace(tmp, destination)
    except OSError as exc:
        raise OptbenchError(f"could not download {url}: {exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return destination


def download(name: str, url_base: str | None = None) -> Path:
    """Fetch a dataset into the Keras cache, checksum-verified; returns where it was stored.

    MNIST without `url_base` comes as Keras' own `mnist.npz`; with `url_base` (or for
    Fashion-MNIST) the four IDX files are fetched from `url_base`.
    """
    dataset = info(name)
    if dataset.npz is not None and url_base is None:
        file, digest = dataset.npz
        return _fetch(KERAS_URL_BASE + file, keras_cache() / file, digest)
    base = (url_base or KERAS_URL_BASE).rstrip("/") + "/"
    folder = keras_cache() / dataset.name
    for file, digest in dataset.checksums.items():
        _fetch(base + file, folder / file, digest)
    return folder
