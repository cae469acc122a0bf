"""A Keras optimizer on a landscape: x in a float64 `keras.Variable`, JAX gives f and its gradient.

This is the reference loop for the Keras family on test functions and for the optax/Keras
parity tests: the only Keras code that runs is the optimizer's own update
(`optimizer.apply_gradients`, compiled with `tf.function` on the TensorFlow backend as `fit`
does), so a difference from optax is a difference between optimizers.

    from optbench import registry
    plugin = registry.optimizer("keras.sgd")
    hp = {"learning_rate": 0.01, "momentum": 0.8}
    x, values = run_keras(plugin.build(**hp), jax.value_and_grad(landscape.fn), x0, steps=200)

Each step is one epoch for the callbacks (`on_epoch_begin(step)` before the update,
`on_epoch_end(step, {"loss": f})` after it), so per-epoch schedules and reduce-on-plateau
count steps as they do in the optax path with `steps_per_epoch=1`. Build the optimizer under
`keras.config.set_floatx("float64")` for a float64 learning rate as well as a float64 x.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def run_keras(
    optimizer: Any,
    value_and_grad: Callable[[np.ndarray], tuple[Any, Any]],
    x0: np.ndarray,
    steps: int,
    callbacks: Sequence[Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Take `steps` updates from `x0`; return the final x and f before each update.

    `callbacks` default to the optimizer's own `optbench_callbacks` (the per-epoch schedule
    an optbench Keras plugin built it with), so `run_keras(plugin.build(**hp), ...)` is enough.

    A non-finite value or gradient stops the run early (the trajectory has diverged); the
    remaining values are NaN, so the caller can record `status="diverged"`.
    """
    import keras

    x = keras.Variable(np.asarray(x0, dtype=np.float64), dtype="float64", name="x")
    if callbacks is None:
        callbacks = getattr(optimizer, "optbench_callbacks", ())
    stand_in = _ModelStandIn(optimizer)
    for callback in callbacks:
        callback.set_model(stand_in)
    values = np.full(int(steps), np.nan)
    apply = _compiled_update(optimizer, x)
    for step in range(int(steps)):
        for callback in callbacks:
            callback.on_epoch_begin(step)
        value, grad = value_and_grad(np.asarray(x.numpy(), dtype=np.float64))
        value, grad = float(value), np.asarray(grad, dtype=np.float64)
        values[step] = value
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            break
        apply(keras.ops.convert_to_tensor(grad, dtype="float64"))
        for callback in callbacks:
            callback.on_epoch_end(step, {"loss": value})
    return np.asarray(x.numpy(), dtype=np.float64), values


def _compiled_update(optimizer: Any, x: Any) -> Callable[[Any], None]:
    """`optimizer.apply_gradients` for x, as a `tf.function` on TensorFlow as `fit` runs it."""
    import keras

    def apply(grad: Any) -> None:
        optimizer.apply_gradients([(grad, x)])

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(apply)
    return apply


class _ModelStandIn:
    """What a Keras callback needs of a model outside `fit`: its optimizer and a stop flag."""

    def __init__(self, optimizer: Any):
        self.optimizer = optimizer
        self.stop_training = False
