"""The seed's MLP as a backend-neutral description, and the MNIST data it trains on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from optbench.runners.mnist import data as mnist_data

from optbench.errors import OptbenchError

N_CLASSES = 10
N_PIXELS = 784
VALIDATION_SIZE = 10_000

# Keras' initializer names (Keras 2 spellings included) → their Keras 3 names.
INITIALIZERS = {
    "uniform": "random_uniform",
    "random_uniform": "random_uniform",
    "normal": "random_normal",
    "random_normal": "random_normal",
    "truncated_normal": "truncated_normal",
    "zero": "zeros",
    "zeros": "zeros",
    "one": "ones",
    "ones": "ones",
    "glorot_normal": "glorot_normal",
    "glorot_uniform": "glorot_uniform",
    "he_normal": "he_normal",
    "he_uniform": "he_uniform",
    "lecun_normal": "lecun_normal",
    "lecun_uniform": "lecun_uniform",
    "orthogonal": "orthogonal",
}
LOSSES = {
    "categorical_crossentropy": "categorical_crossentropy",
    "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
    "mean_squared_error": "mean_squared_error",
    "mse": "mean_squared_error",
    "mean_absolute_error": "mean_absolute_error",
    "mae": "mean_absolute_error",
    "kl_divergence": "kl_divergence",
    "kld": "kl_divergence",
    "poisson": "poisson",
    "categorical_hinge": "categorical_hinge",
    "hinge": "hinge",
    "squared_hinge": "squared_hinge",
    "binary_crossentropy": "binary_crossentropy",
    "log_cosh": "log_cosh",
}
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu", "gelu", "softplus", "swish", "linear")
VALIDATIONS = ("split", "test")


@dataclass(frozen=True)
class ModelConfig:
    """Hidden widths, dropout after each hidden layer, activation, initializer, loss."""

    widths: tuple[int, ...] = (64, 64)
    dropout: tuple[float, ...] = (0.1, 0.0)
    activation: str = "relu"
    initializer: str = "glorot_uniform"
    loss: str = "categorical_crossentropy"

    @classmethod
    def from_options(cls, opts: Mapping[str, Any]) -> ModelConfig:
        """From runner options; a scalar `dropout` follows the first hidden layer (the seed)."""
        widths = opts.get("widths", cls.widths)
        widths = (widths,) if isinstance(widths, int) else tuple(widths)
        if not widths or any(
            not isinstance(w, int) or isinstance(w, bool) or w < 1 for w in widths
        ):
            raise OptbenchError(f"widths must be positive integers, got {widths!r}")
        dropout = opts.get("dropout", cls.dropout[0])
        if isinstance(dropout, int | float):
            dropout = (float(dropout),) + (0.0,) * (len(widths) - 1)
        dropout = tuple(float(d) for d in dropout)
        if len(dropout) != len(widths) or any(not 0.0 <= d < 1.0 for d in dropout):
            raise OptbenchError(
                f"dropout must be a rate in [0, 1) or one per hidden layer ({len(widths)}), "
                f"got {opts.get('dropout')!r}"
            )
        return cls(
            widths=widths,
            dropout=dropout,
            activation=_choice("activation", opts.get("activation", cls.activation), ACTIVATIONS),
            initializer=INITIALIZERS[
                _choice("initializer", opts.get("initializer", cls.initializer), INITIALIZERS)
            ],
            loss=LOSSES[_choice("loss", opts.get("loss", cls.loss), LOSSES)],
        )

    @property
    def sizes(self) -> tuple[int, ...]:
        return (N_PIXELS, *self.widths, N_CLASSES)

    @property
    def n_params(self) -> int:
        return sum((a + 1) * b for a, b in zip(self.sizes[:-1], self.sizes[1:], strict=True))

    @property
    def sparse_labels(self) -> bool:
        return self.loss == "sparse_categorical_crossentropy"


def _choice(field: str, value: Any, allowed: Any) -> str:
    text = str(value).lower()
    if text not in allowed:
        raise OptbenchError(f"unknown {field} {value!r}; allowed: {', '.join(allowed)}")
    return text


@dataclass(frozen=True)
class Data:
    """Preprocessed splits: images /255 as float32 N×784, integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def flatten(images: np.ndarray) -> np.ndarray:
    """Images scaled to [0, 1] and flattened to 784 features, as the seed did."""
    return (images.reshape(len(images), -1).astype(np.float32) / 255.0).astype(np.float32)


def one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(N_CLASSES, dtype=np.float32)[labels]


def prepare(
    arrays: mnist_data.Arrays,
    validation: str = "split",
    split_seed: int = 0,
    subset: int | None = None,
) -> Data:
    """The train/validation/test splits: 50k/10k seeded split, or the seed's test-as-validation."""
    validation = _choice("validation", validation, VALIDATIONS)
    x, y = flatten(arrays.x_train), arrays.y_train.astype(np.int32)
    x_test, y_test = flatten(arrays.x_test), arrays.y_test.astype(np.int32)
    if validation == "test":
        x_train, y_train, x_val, y_val = x, y, x_test, y_test
    else:
        order = np.random.default_rng(split_seed).permutation(len(x))
        val, train = order[:VALIDATION_SIZE], order[VALIDATION_SIZE:]
        x_train, y_train, x_val, y_val = x[train], y[train], x[val], y[val]
    if subset is not None:
        if not 1 <= int(subset) <= len(x_train):
            raise OptbenchError(f"subset must be in 1..{len(x_train)}, got {subset!r}")
        x_train, y_train = x_train[: int(subset)], y_train[: int(subset)]
    return Data(x_train, y_train, x_val, y_val, x_test, y_test)


@dataclass(frozen=True)
class TrainSettings:
    """How a network is trained: batches, epochs, seed and the callbacks' settings."""

    batch_size: int = 128
    epochs: int = 10
    seed: int = 0
    target: float = 0.97
    early_stopping: int = 0
    monitor: str = "val_loss"
    min_delta: float = 0.0
    restore_best_weights: bool = False
    checkpoint: bool = False
    reduce_lr_patience: int = 0
    reduce_lr_factor: float = 0.1
    min_lr: float = 0.0
    save_dir: str | None = None
    verbose: bool = False
    steps_per_execution: int = 64


@dataclass
class Outcome:
    """What a training run produced, whatever the backend."""

    history: list[dict[str, float]]
    test_loss: float
    test_accuracy: float
    compile_s: float
    best_epoch: int
    stopped_early: bool
    diverged: bool
    backend: str
    device: str
    saved: str | None = None
