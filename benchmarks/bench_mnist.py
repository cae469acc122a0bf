"""MNIST: one epoch of the JAX runner vs Keras-TF `fit` at batch 7 / 128 / 784, and test accuracy
after a fixed short run of each.

    .venv/bin/pytest benchmarks/bench_mnist.py --benchmark-only            # the full 60,000
    .venv/bin/pytest benchmarks/bench_mnist.py --benchmark-only --quick    # a 10,000-image subset
    OPTBENCH_BENCH_RUN_A=1 .venv/bin/pytest benchmarks/bench_mnist.py -k run_a   # 60 epochs

Needs the MNIST IDX files (`OPTBENCH_DATA=DIR`, or where `optbench data` finds them); skipped
without them. Compilation and tracing are outside the timed rounds: each timed epoch follows a
warm-up epoch on the same shapes. Seconds per epoch and the JAX/Keras speedup are in
`extra_info`; the short runs' test accuracy is a quality figure for `optbench regress`.
"""

from __future__ import annotations

import os
import resource
import time

import jax
import pytest
from optbench.runners.mnist import data as mnist_data
from optbench.runners.mnist import jax_trainer
from optbench.runners.mnist import plugin as mnist_plugin
from optbench.runners.mnist.model import ModelConfig, prepare

from optbench import registry
from optbench.errors import OptbenchError
from optbench.quality import figure
from optbench.spec import RunSpec

BATCHES = (7, 128, 784)
SUBSET = 10_000
SGD = {"learning_rate": 0.1, "momentum": 0.8}
EPOCH_SECONDS: dict[tuple[str, int], float] = {}


@pytest.fixture(scope="module")
def data(quick):
    """The seed's splits (all 60,000 training images, the test set as validation), or the first
    10,000 training images with `--quick`."""
    try:
        arrays = mnist_data.load("mnist")
    except OptbenchError as exc:
        pytest.skip(f"MNIST not available: {exc}")
    return prepare(arrays, validation="test", subset=SUBSET if quick else None)


def _record(benchmark, backend: str, batch: int, images: int) -> None:
    """Seconds per epoch (median round); JAX's speedup over Keras' default `fit` (`keras`) and
    over Keras at its best (`keras-best`, the runner's `steps_per_execution`)."""
    seconds = benchmark.stats.stats.median
    EPOCH_SECONDS[(backend, batch)] = seconds
    benchmark.extra_info.update(
        {"backend": backend, "batch_size": batch, "images": images, "epoch_s": seconds}
    )
    jax_s = EPOCH_SECONDS.get(("jax", batch))
    for keras in ("keras", "keras-best"):
        keras_s = EPOCH_SECONDS.get((keras, batch))
        if jax_s is not None and keras_s is not None and backend in ("jax", keras):
            benchmark.extra_info[f"jax_speedup_over_{keras}"] = keras_s / jax_s


@pytest.mark.quick
@pytest.mark.parametrize("batch", BATCHES)
def test_epoch_jax(benchmark, data, batch, rounds):
    """One compiled `lax.scan` epoch."""
    config = ModelConfig()
    n = len(data.x_train)
    tx = mnist_plugin.build_optimizer(registry.optimizer("sgd"), SGD, -(-n // batch))
    params = jax_trainer.init_params(jax.random.key(0), config)
    state = tx.init(params)
    x, y = jax.numpy.asarray(data.x_train), jax.numpy.asarray(data.y_train)
    scale = jax.numpy.ones((), jax.numpy.float32)
    epoch = jax_trainer.make_epoch(config, tx, batch, n)
    compiled = epoch.lower(params, state, jax.random.key(1), scale, x, y).compile()
    jax.block_until_ready(compiled(params, state, jax.random.key(1), scale, x, y))

    def one_epoch():
        return jax.block_until_ready(compiled(params, state, jax.random.key(2), scale, x, y))

    benchmark.pedantic(one_epoch, rounds=rounds(3), iterations=1)
    _record(benchmark, "jax", batch, n)


@pytest.mark.quick
@pytest.mark.parametrize("per_execution", [1, mnist_plugin.OPTIONS["steps_per_execution"]])
@pytest.mark.parametrize("batch", BATCHES)
def test_epoch_keras(benchmark, data, batch, per_execution, rounds):
    """One `model.fit` epoch with Keras 3 on TensorFlow: the default `fit` (one step per
    execution) and at its best (the runner's `steps_per_execution`)."""
    from optbench.runners.mnist import keras_trainer

    keras = keras_trainer.import_keras("tensorflow")
    config = ModelConfig()
    model = keras_trainer.build_model(config, 0, keras)
    optimizer = mnist_plugin.build_optimizer(registry.optimizer("keras.sgd"), SGD, 1)
    keras_trainer.compile_model(model, optimizer, config, keras, per_execution)
    y = keras_trainer.targets(data.y_train, config)
    warm = batch * 3 * per_execution
    model.fit(data.x_train[:warm], y[:warm], batch_size=batch, epochs=1, verbose=0)

    def one_epoch():
        model.fit(data.x_train, y, batch_size=batch, epochs=1, verbose=0, shuffle=True)

    benchmark.pedantic(one_epoch, rounds=rounds(1 if batch == 7 else 2), iterations=1)
    name = "keras" if per_execution == 1 else "keras-best"
    _record(benchmark, name, batch, len(data.x_train))
    benchmark.extra_info["steps_per_execution"] = per_execution


@pytest.mark.quick
@pytest.mark.parametrize("optimizer", ["sgd", "keras.sgd"])
def test_short_run(benchmark, optimizer, quick):
    """Two epochs at batch 128 through the MNIST runner, then the test accuracy (10,000 images).
    JAX on the CPU is deterministic (exact on one machine); Keras-TF is judged with tolerance."""
    os.environ[mnist_plugin.QUIET_ENV] = "1"
    spec = RunSpec(
        "mnist",
        "mnist",
        optimizer,
        SGD,
        budget={"epochs": 2},
        options={"batch_size": 128, "validation": "test", "subset": SUBSET if quick else None},
    )
    try:
        mnist_plugin.spec_data(spec)
    except OptbenchError as exc:
        pytest.skip(f"MNIST not available: {exc}")
    result = benchmark.pedantic(lambda: mnist_plugin.runner.run([spec]), rounds=1)
    row = result.rows.iloc[0]
    assert row["status"] != "error", row.get("error")
    keras = optimizer.startswith("keras.")
    benchmark.extra_info.update(
        test_acc=figure(row["test_acc"], "accuracy", n=10_000, deterministic=not keras),
        backend=row["backend"],
        epochs=2,
    )


@pytest.mark.skipif(not os.environ.get("OPTBENCH_BENCH_RUN_A"), reason="OPTBENCH_BENCH_RUN_A=1")
def test_run_a_jax(benchmark, data):
    """The seed's Run A (SGD, legacy decay, batch 7, 60 epochs) end to end in JAX; peak memory."""
    os.environ[mnist_plugin.QUIET_ENV] = "1"
    hp = SGD | {"decay": 0.1 / 60}
    spec = RunSpec(
        "mnist",
        "mnist",
        "sgd",
        hp,
        budget={"epochs": 60},
        options={"batch_size": 7, "validation": "test", "initializer": "uniform"},
    )
    settings = mnist_plugin.spec_settings(spec)
    tx = mnist_plugin.build_optimizer(
        registry.optimizer("sgd"), spec.hp, -(-len(data.x_train) // 7)
    )
    t0 = time.perf_counter()
    outcome = benchmark.pedantic(
        jax_trainer.train,
        args=(data, ModelConfig.from_options(spec.opts), tx, settings),
        rounds=1,
        iterations=1,
    )
    benchmark.extra_info.update(
        {
            "wall_s": time.perf_counter() - t0,
            "train_s": sum(h["epoch_time"] for h in outcome.history),
            "compile_s": outcome.compile_s,
            "val_acc": figure(outcome.history[-1]["val_accuracy"], "accuracy", n=10_000),
            "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        }
    )
