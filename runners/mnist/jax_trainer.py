"""The seed's MLP in JAX/optax: one compiled `lax.scan` per epoch, Keras' callback rules."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from optbench.runners.mnist.callbacks import EarlyStopping, KeepBest, ReduceLROnPlateau
from optbench.runners.mnist.model import (
    N_CLASSES,
    Data,
    ModelConfig,
    Outcome,
    TrainSettings,
)

from optbench.environment import jax_device
from optbench.jax_cache import enable_compilation_cache

F32 = jnp.float32
Params = list[tuple[jax.Array, jax.Array]]
EPS = 1e-7  # Keras' backend epsilon, used where its losses clip probabilities


def _keras_uniform(key: jax.Array, shape: tuple[int, ...], dtype: Any = F32) -> jax.Array:
    return jax.random.uniform(key, shape, dtype, minval=-0.05, maxval=0.05)


def _keras_normal(key: jax.Array, shape: tuple[int, ...], dtype: Any = F32) -> jax.Array:
    return 0.05 * jax.random.normal(key, shape, dtype)


_init = jax.nn.initializers
INITIALIZERS: dict[str, Callable[..., jax.Array]] = {
    "random_uniform": _keras_uniform,
    "random_normal": _keras_normal,
    "truncated_normal": _init.truncated_normal(stddev=0.05),
    "zeros": _init.zeros,
    "ones": _init.ones,
    "glorot_normal": _init.glorot_normal(),
    "glorot_uniform": _init.glorot_uniform(),
    "he_normal": _init.he_normal(),
    "he_uniform": _init.he_uniform(),
    "lecun_normal": _init.lecun_normal(),
    "lecun_uniform": _init.lecun_uniform(),
    "orthogonal": _init.orthogonal(),
}
ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "elu": jax.nn.elu,
    "selu": jax.nn.selu,
    "gelu": partial(jax.nn.gelu, approximate=False),
    "softplus": jax.nn.softplus,
    "swish": jax.nn.swish,
    "linear": lambda x: x,
}


def _on_probabilities(fn: Callable[[jax.Array, jax.Array], jax.Array]) -> Callable:
    return lambda logits, y: fn(jax.nn.softmax(logits), y)


def _hinge_labels(y: jax.Array) -> jax.Array:
    return 2.0 * y - 1.0


# Per-example losses with Keras' definitions; `y` is one-hot (integer for the sparse loss).
LOSSES: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {
    "categorical_crossentropy": optax.softmax_cross_entropy,
    "sparse_categorical_crossentropy": optax.softmax_cross_entropy_with_integer_labels,
    "mean_squared_error": _on_probabilities(lambda p, y: jnp.mean((y - p) ** 2, -1)),
    "mean_absolute_error": _on_probabilities(lambda p, y: jnp.mean(jnp.abs(y - p), -1)),
    "kl_divergence": _on_probabilities(
        lambda p, y: jnp.sum(
            jnp.clip(y, EPS, 1) * jnp.log(jnp.clip(y, EPS, 1) / jnp.clip(p, EPS, 1)), -1
        )
    ),
    "poisson": _on_probabilities(lambda p, y: jnp.mean(p - y * jnp.log(p + EPS), -1)),
    "categorical_hinge": _on_probabilities(
        lambda p, y: jnp.maximum(jnp.max((1 - y) * p, -1) - jnp.sum(y * p, -1) + 1, 0.0)
    ),
    "hinge": _on_probabilities(
        lambda p, y: jnp.mean(jnp.maximum(1 - _hinge_labels(y) * p, 0.0), -1)
    ),
    "squared_hinge": _on_probabilities(
        lambda p, y: jnp.mean(jnp.maximum(1 - _hinge_labels(y) * p, 0.0) ** 2, -1)
    ),
    "binary_crossentropy": _on_probabilities(
        lambda p, y: (
            -jnp.mean(
                y * jnp.log(jnp.clip(p, EPS, 1 - EPS))
                + (1 - y) * jnp.log(1 - jnp.clip(p, EPS, 1 - EPS)),
                -1,
            )
        )
    ),
    "log_cosh": _on_probabilities(
        lambda p, y: jnp.mean((p - y) + jax.nn.softplus(-2 * (p - y)) - math.log(2.0), -1)
    ),
}


def init_params(key: jax.Array, config: ModelConfig) -> Params:
    """Kernels from the configured initializer, zero biases, all float32."""
    init = INITIALIZERS[config.initializer]
    keys = jax.random.split(key, len(config.sizes) - 1)
    return [
        (init(k, (a, b), F32), jnp.zeros((b,), F32))
        for k, a, b in zip(keys, config.sizes[:-1], config.sizes[1:], strict=True)
    ]


def logits_fn(
    params: Params, x: jax.Array, config: ModelConfig, keep: tuple[Any, ...] | None = None
) -> jax.Array:
    """Forward pass; with keep-masks (one per hidden layer, None where no dropout), inverted
    dropout as in training."""
    act = ACTIVATIONS[config.activation]
    h = x
    for i, (w, b) in enumerate(params[:-1]):
        h = act(h @ w + b)
        if keep is not None and keep[i] is not None:
            h = jnp.where(keep[i], h / (1.0 - config.dropout[i]), 0.0)
    w, b = params[-1]
    return h @ w + b


def dropout_masks(key: jax.Array, config: ModelConfig, shape: tuple[int, ...]) -> tuple:
    """Keep-masks for every hidden layer with dropout, drawn at once for a whole epoch."""
    keys = jax.random.split(key, len(config.widths))
    return tuple(
        jax.random.bernoulli(k, 1.0 - rate, (*shape, width)) if rate > 0.0 else None
        for k, rate, width in zip(keys, config.dropout, config.widths, strict=True)
    )


def _targets(y: jax.Array, config: ModelConfig) -> jax.Array:
    return y if config.sparse_labels else jax.nn.one_hot(y, N_CLASSES, dtype=F32)


def _same_dtypes(new: Any, old: Any) -> Any:
    """`new` cast leaf by leaf to the dtypes of `old` (float64 hyperparameters under x64
    must not promote a float32 optimizer state inside the scan)."""
    return jax.tree.map(lambda n, o: n.astype(o.dtype) if hasattr(o, "dtype") else n, new, old)


def batch_grad(config: ModelConfig) -> Callable:
    """`(params, x, y, mask, keep) -> ((loss, (correct, weight)), grads)` of one masked batch:
    the mean loss over its real rows, and how many of them the model classifies right."""
    loss_fn = LOSSES[config.loss]

    def batch_loss(params, x, y, mask, keep):
        logits = logits_fn(params, x, config, keep)
        losses = loss_fn(logits, _targets(y, config))
        correct = (jnp.argmax(logits, -1) == y).astype(F32)
        weight = jnp.sum(mask)
        return jnp.sum(losses * mask) / weight, (jnp.sum(correct * mask), weight)

    return jax.value_and_grad(batch_loss, has_aux=True)


def batch_table(key: jax.Array, config: ModelConfig, n_train: int, batch_size: int) -> tuple:
    """One epoch's batches: shuffled positions (padded to whole batches), the mask of real rows
    and the dropout keep-masks, each shaped (batches, batch_size)."""
    n_batches = -(-n_train // batch_size)
    perm_key, drop_key = jax.random.split(key)
    order = jax.random.permutation(perm_key, n_train)
    order = jnp.concatenate([order, jnp.zeros((n_batches * batch_size - n_train,), order.dtype)])
    mask = (jnp.arange(n_batches * batch_size) < n_train).astype(F32)
    return (
        order.reshape(n_batches, batch_size),
        mask.reshape(n_batches, batch_size),
        dropout_masks(drop_key, config, (n_batches, batch_size)),
    )


def scan_batches(grad_fn, tx, state, batches, data, n_train: int, scale=None) -> tuple:
    """One `lax.scan` of optimizer steps over `batches` (rows of `data`); returns the new
    (params, opt_state), the mean training loss and accuracy. `scale` multiplies each update."""
    x_all, y_all = data

    def step(carry, batch):
        params, opt_state, loss_sum, correct_sum = carry
        idx, m, k = batch
        (loss, (correct, weight)), grads = grad_fn(params, x_all[idx], y_all[idx], m, k)
        updates, new_state = tx.update(grads, opt_state, params, value=loss)
        opt_state = _same_dtypes(new_state, opt_state)
        if scale is not None:
            updates = jax.tree.map(lambda u: (u * scale).astype(u.dtype), updates)
        params = optax.apply_updates(params, updates)
        return (params, opt_state, loss_sum + loss * weight, correct_sum + correct), None

    zero = jnp.zeros((), F32)
    (params, opt_state, loss_sum, correct_sum), _ = jax.lax.scan(
        step, (*state, zero, zero), batches
    )
    return params, opt_state, loss_sum / n_train, correct_sum / n_train


def make_epoch(
    config: ModelConfig, tx: optax.GradientTransformation, batch_size: int, n_train: int
) -> Callable:
    """One epoch as one jitted `lax.scan` over shuffled batches (the last one partial, masked)."""
    tx = optax.with_extra_args_support(tx)
    grad_fn = batch_grad(config)

    def epoch(params, opt_state, key, scale, x_all, y_all):
        order, mask, keep = batch_table(key, config, n_train, batch_size)
        return scan_batches(grad_fn, tx, (params, opt_state), (order, mask, keep),
                            (x_all, y_all), n_train, scale)  # fmt: skip

    return jax.jit(epoch)


def make_evaluate(config: ModelConfig) -> Callable:
    """Mean loss and accuracy of a parameter set on a whole split, inference mode."""
    loss_fn = LOSSES[config.loss]

    def evaluate(params, x, y):
        logits = logits_fn(params, x, config)
        loss = jnp.mean(loss_fn(logits, _targets(y, config)))
        return loss, jnp.mean((jnp.argmax(logits, -1) == y).astype(F32))

    return jax.jit(evaluate)


def predict(params: Params, x: np.ndarray, config: ModelConfig) -> np.ndarray:
    """Class probabilities, inference mode."""
    return np.asarray(jax.nn.softmax(logits_fn(params, jnp.asarray(x, F32), config)))


def current_lr(opt_state: Any) -> float:
    """The learning rate in effect, from the outermost `inject_hyperparams` state (NaN if none)."""
    hyperparams = getattr(opt_state, "hyperparams", None)
    if isinstance(hyperparams, dict) and "learning_rate" in hyperparams:
        return float(hyperparams["learning_rate"])
    children = opt_state if isinstance(opt_state, tuple | list) else ()
    for child in children:
        lr = current_lr(child)
        if not math.isnan(lr):
            return lr
    return math.nan


def save(path: str | Path, params: Params, config: ModelConfig) -> Path:
    """Parameters and model description in one `.npz` file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"w{i}": np.asarray(w) for i, (w, _) in enumerate(params)}
    arrays |= {f"b{i}": np.asarray(b) for i, (_, b) in enumerate(params)}
    config_json = json.dumps(
        {k: list(v) if isinstance(v, tuple) else v for k, v in vars(config).items()}
    )
    np.savez(path, config=np.array(config_json), **arrays)
    return path


def load(path: str | Path) -> tuple[Params, ModelConfig]:
    """The parameters and model description written by `save`."""
    with np.load(path, allow_pickle=False) as f:
        raw = json.loads(str(f["config"]))
        config = ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
        n = len(config.sizes) - 1
        params = [(jnp.asarray(f[f"w{i}"]), jnp.asarray(f[f"b{i}"])) for i in range(n)]
    return params, config


def progress(epoch: int, epochs: int, steps: int, seconds: float, logs: dict[str, float]) -> None:
    """The epoch's progress, drawn as the Keras path draws it."""
    from optbench.runners.mnist import progress as bars

    bars.epoch_done(epoch, epochs, logs)


def train(
    data: Data,
    config: ModelConfig,
    tx: optax.GradientTransformation,
    settings: TrainSettings,
    compiled_cache: dict[Any, Any] | None = None,
    cache_key: Any = None,
) -> Outcome:
    """Train the MLP with `tx`; per-epoch history, Keras' callback rules, final test metrics.

    Runs with 64-bit mode off whatever the process set, so that a seed gives the same numbers
    with or without the landscapes' global `jax_enable_x64`."""
    with jax.enable_x64(False):
        return _train(data, config, tx, settings, compiled_cache, cache_key)


def _train(
    data: Data,
    config: ModelConfig,
    tx: optax.GradientTransformation,
    settings: TrainSettings,
    compiled_cache: dict[Any, Any] | None,
    cache_key: Any,
) -> Outcome:
    n_train = len(data.x_train)
    key = jax.random.key(settings.seed)
    init_key, train_key = jax.random.split(key)
    params = init_params(init_key, config)
    opt_state = tx.init(params)
    x_train, y_train = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    x_val, y_val = jnp.asarray(data.x_val), jnp.asarray(data.y_val)
    scale = jnp.ones((), F32)
    cache = compiled_cache if compiled_cache is not None else {}
    compile_s = 0.0
    if cache_key is None or cache_key not in cache:
        enable_compilation_cache()
        t0 = time.perf_counter()
        epoch_fn = make_epoch(config, tx, settings.batch_size, n_train)
        compiled = epoch_fn.lower(params, opt_state, train_key, scale, x_train, y_train).compile()
        evaluate = make_evaluate(config)
        evaluate(params, x_val, y_val)
        compile_s = time.perf_counter() - t0
        cache[cache_key] = (compiled, evaluate)
    compiled, evaluate = cache[cache_key]

    stopper = (
        EarlyStopping(
            settings.monitor,
            settings.early_stopping,
            settings.min_delta,
            settings.restore_best_weights,
        )
        if settings.early_stopping > 0
        else None
    )
    plateau = (
        ReduceLROnPlateau(
            factor=settings.reduce_lr_factor,
            patience=settings.reduce_lr_patience,
            min_lr=settings.min_lr,
        )
        if settings.reduce_lr_patience > 0
        else None
    )
    keeper = KeepBest() if settings.checkpoint else None
    steps = -(-n_train // settings.batch_size)
    history: list[dict[str, float]] = []
    diverged = stopped = False
    for epoch in range(settings.epochs):
        t0 = time.perf_counter()
        params, opt_state, loss, acc = compiled(
            params, opt_state, jax.random.fold_in(train_key, epoch), scale, x_train, y_train
        )
        loss = float(loss)
        seconds = time.perf_counter() - t0
        val_loss, val_acc = (float(v) for v in evaluate(params, x_val, y_val))
        lr = current_lr(opt_state) * float(scale)
        logs = {
            "epoch": epoch,
            "loss": loss,
            "accuracy": float(acc),
            "val_loss": val_loss,
            "val_accuracy": val_acc,
            "lr": lr,
            "epoch_time": seconds,
        }
        history.append(logs)
        if settings.verbose:
            progress(epoch, settings.epochs, steps, seconds, logs)
        if not math.isfinite(loss):
            diverged = True
            break
        if keeper is not None:
            keeper.update(epoch, logs, params)
        if plateau is not None and math.isfinite(lr):
            new_lr = plateau.update(logs, lr)
            if new_lr != lr:
                scale = scale * (new_lr / lr)
        if stopper is not None and stopper.update(epoch, logs, params):
            stopped = True
            if stopper.best_weights is not None:
                params = stopper.best_weights
            break

    best_epoch = int(np.argmax([h["val_accuracy"] for h in history]))
    if keeper is not None and keeper.weights is not None:
        params, best_epoch = keeper.weights, keeper.best_epoch
    test_loss, test_acc = evaluate(params, jnp.asarray(data.x_test), jnp.asarray(data.y_test))
    saved = None
    if settings.save_dir is not None:
        saved = str(save(Path(settings.save_dir) / "params.npz", params, config))
    return Outcome(
        history=history,
        test_loss=float(test_loss),
        test_accuracy=float(test_acc),
        compile_s=compile_s,
        best_epoch=best_epoch,
        stopped_early=stopped,
        diverged=diverged,
        backend="jax",
        device=jax_device(),
        saved=saved,
    )
