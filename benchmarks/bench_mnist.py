"""Epoch time of the JAX runner vs Keras-TF `fit` on full MNIST, and a whole seed Run A in JAX.

Run: `OPTBENCH_DATA=DIR pytest benchmarks/bench_mnist.py --benchmark-only -p no:cacheprovider`
(add `-k "not run_a"` to skip the 60-epoch run). Compilation and tracing are excluded: each
measured epoch follows a warm-up on the same shapes. Seconds per epoch and the JAX/Keras speedup
are in each benchmark's `extra_info`.
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
from optbench.spec import RunSpec

BATCHES = (7, 128, 784)
SGD = {"learning_rate": 0.1, "momentum": 0.8}
EPOCH_SECONDS: dict[tuple[str, int], float] = {}


@pytest.fixture(scope="module")
def data():
    return prepare(mnist_data.load("mnist"), validation="test")


def _record(benchmark, backend: str, batch: int, seconds: float) -> None:
    """Seconds per epoch; JAX's speedup over Keras' default `fit` (`keras`) and over Keras at
    its best (`keras-best`, the runner's `steps_per_execution`), whichever ran first."""
    EPOCH_SECONDS[(backend, batch)] = seconds
    benchmark.extra_info.update({"backend": backend, "batch_size": batch, "epoch_s": seconds})
    jax_s = EPOCH_SECONDS.get(("jax", batch))
    for keras in ("keras", "keras-best"):
        keras_s = EPOCH_SECONDS.get((keras, batch))
        if jax_s is not None and keras_s is not None and backend in ("jax", keras):
            benchmark.extra_info[f"jax_speedup_over_{keras}"] = keras_s / jax_s


@pytest.mark.parametrize("batch", BATCHES)
def test_epoch_jax(benchmark, data, batch):
    """One compiled `lax.scan` epoch over 60,000 images."""
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

    benchmark.pedantic(one_epoch, rounds=3 if batch > 7 else 2, iterations=1)
    _record(benchmark, "jax", batch, benchmark.stats.stats.min)


@pytest.mark.parametrize("per_execution", [1, mnist_plugin.OPTIONS["steps_per_execution"]])
@pytest.mark.parametrize("batch", BATCHES)
def test_epoch_keras(benchmark, data, batch, per_execution):
    """One `model.fit` epoch over 60,000 images with Keras 3 on TensorFlow: the default `fit`
    (one step per execution) and at its best (the runner's `steps_per_execution`)."""
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

    benchmark.pedantic(one_epoch, rounds=1 if batch == 7 else 2, iterations=1)
    name = "keras" if per_execution == 1 else "keras-best"
    _record(benchmark, name, batch, benchmark.stats.stats.min)
    benchmark.extra_info["steps_per_execution"] = per_execution


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
            "val_acc": outcome.history[-1]["val_accuracy"],
            "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        }
    )
