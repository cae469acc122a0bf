"""The schedule library: closed forms, identical optax and Keras forms, restarts, legacy decay."""

from __future__ import annotations

import math

import jax
import numpy as np
import optax
import pytest
from optbench.optimizers import schedules

from optbench.errors import OptbenchError

jax.config.update("jax_enable_x64", True)

LR0 = 0.1
STEPS = np.array([0, 1, 2, 5, 9, 10, 11, 25, 50, 99, 100, 150])


def closed_form(name: str, t: float) -> float:
    """The textbook formula of each schedule, written independently of the library."""
    if name == "constant":
        return LR0
    if name == "inverse_time":
        return LR0 / (1 + 0.1 * t)
    if name == "exponential":
        return LR0 * math.exp(-0.1 * t)
    if name == "step":
        return LR0 * 0.5 ** (t // 20)
    if name == "piecewise":
        return LR0 * (0.5 if t >= 10 else 1) * (0.1 if t >= 50 else 1)
    if name == "polynomial":
        return LR0 * (0.99 * (1 - min(t, 100) / 100) ** 2 + 0.01)
    if name == "cosine":
        return LR0 * (0.99 * 0.5 * (1 + math.cos(math.pi * min(t, 100) / 100)) + 0.01)
    if name == "warmup_cosine":
        if t < 10:
            return LR0 * t / 10
        return LR0 * (0.99 * 0.5 * (1 + math.cos(math.pi * min(t - 10, 90) / 90)) + 0.01)
    if name == "one_cycle":
        rise = 30.0
        if t < rise:
            return LR0 + (LR0 / 25 - LR0) * 0.5 * (1 + math.cos(math.pi * t / rise))
        end = LR0 / 25 / 1e4
        fraction = min((t - rise) / 70, 1.0)
        return end + (LR0 - end) * 0.5 * (1 + math.cos(math.pi * fraction))
    raise KeyError(name)


PARAMS = {
    "constant": {},
    "inverse_time": {"k": 0.1},
    "exponential": {"k": 0.1},
    "step": {"factor": 0.5, "every": 20},
    "piecewise": {"boundaries": [10, 50], "scales": [0.5, 0.2]},
    "polynomial": {"horizon": 100, "power": 2.0, "end_scale": 0.01},
    "cosine": {"horizon": 100, "end_scale": 0.01},
    "warmup_cosine": {"warmup": 10, "horizon": 100, "end_scale": 0.01},
    "one_cycle": {"horizon": 100, "pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4},
}


def hp(name: str, **more) -> dict:
    return {"schedule": name, "per": "update"} | PARAMS[name] | more


@pytest.mark.parametrize("name", list(PARAMS))
def test_optax_form_is_the_closed_form(name):
    schedule = schedules.optax_schedule(LR0, hp(name))
    got = np.array([float(schedule(t)) for t in STEPS])
    expected = np.array([closed_form(name, float(t)) for t in STEPS])
    if name == "piecewise":
        expected = np.array(
            [LR0 * (0.5 if t >= 10 else 1) * (0.2 if t >= 50 else 1) for t in STEPS]
        )
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("exponential", lambda: optax.exponential_decay(LR0, 1, math.exp(-0.1))),
        ("piecewise", lambda: optax.piecewise_constant_schedule(LR0, {10: 0.5, 50: 0.2})),
        ("polynomial", lambda: optax.polynomial_schedule(LR0, LR0 * 0.01, 2.0, 100)),
        ("cosine", lambda: optax.cosine_decay_schedule(LR0, 100, alpha=0.01)),
        (
            "warmup_cosine",
            lambda: optax.warmup_cosine_decay_schedule(0.0, LR0, 10, 100, LR0 * 0.01),
        ),
        ("one_cycle", lambda: optax.cosine_onecycle_schedule(100, LR0, 0.3, 25.0, 1e4)),
    ],
)
def test_schedules_agree_with_optax_builtins(name, reference):
    ours, theirs = schedules.optax_schedule(LR0, hp(name)), reference()
    # optax's piecewise switches after the boundary (count > b), ours at it, like Keras's step
    steps = [t for t in STEPS if not (name == "piecewise" and t in (10, 50))]
    np.testing.assert_allclose([ours(t) for t in steps], [theirs(t) for t in steps], rtol=1e-9)


def test_sgdr_restarts_at_the_right_steps():
    p = {"schedule": "sgdr", "per": "update", "horizon": 10, "t_mul": 2.0, "m_mul": 0.5}
    schedule = schedules.optax_schedule(LR0, p)
    values = np.array([float(schedule(t)) for t in range(80)])
    restarts = [t for t in range(1, 80) if values[t] > values[t - 1]]
    assert restarts == [10, 30, 70]  # cycles of 10, 20, 40 steps
    np.testing.assert_allclose(values[[0, 10, 30, 70]], LR0 * 0.5 ** np.arange(4), rtol=1e-12)
    middle = 10 + 10  # halfway through the second cycle of 20
    assert values[middle] == pytest.approx(LR0 * 0.5 * 0.5 * (1 + math.cos(math.pi / 2)), rel=1e-12)


def test_sgdr_with_equal_cycles():
    p = {"schedule": "sgdr", "per": "update", "horizon": 5, "t_mul": 1.0, "end_scale": 0.1}
    values = [float(schedules.optax_schedule(LR0, p)(t)) for t in range(16)]
    assert [t for t in range(1, 16) if values[t] > values[t - 1]] == [5, 10, 15]
    assert values[5] == pytest.approx(LR0)


def test_legacy_decay_is_per_update():
    decay = 0.1 / 60
    p = {"decay": decay, "per": "epoch"}
    updates = np.arange(0, 500, 37)
    for steps_per_epoch in (1, 60):
        schedule = schedules.optax_schedule(LR0, p, steps_per_epoch)
        got = [float(schedule(t)) for t in updates]
        np.testing.assert_allclose(got, LR0 / (1 + decay * updates), rtol=1e-12)


def test_per_epoch_counts_epochs():
    schedule = schedules.optax_schedule(LR0, {"schedule": "exponential", "k": 0.1}, 3)
    got = [float(schedule(t)) for t in range(9)]
    np.testing.assert_allclose(got, [LR0 * math.exp(-0.1 * (t // 3)) for t in range(9)])


def test_decay_composes_with_a_schedule():
    p = {"schedule": "exponential", "k": 0.1, "per": "epoch", "decay": 0.01}
    schedule = schedules.optax_schedule(LR0, p, 10)
    assert float(schedule(25)) == pytest.approx(LR0 * math.exp(-0.2) / (1 + 0.01 * 25), rel=1e-12)


def test_numpy_form_is_the_optax_form():
    for name in PARAMS:
        np_form = schedules.numpy_schedule(LR0, hp(name))
        jax_form = schedules.optax_schedule(LR0, hp(name))
        np.testing.assert_allclose([np_form(t) for t in STEPS], [jax_form(t) for t in STEPS])


def test_schedule_with_a_traced_learning_rate():
    rates = jax.numpy.array([0.1, 0.2, 0.4])
    values = jax.vmap(lambda lr: schedules.optax_schedule(lr, hp("cosine"))(50))(rates)
    np.testing.assert_allclose(values, rates * (0.99 * 0.5 + 0.01), rtol=1e-12)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"schedule": "expo"}, "unknown schedule 'expo'; choose one of constant"),
        ({"per": "batch"}, "per='batch' is not allowed; choose one of update, epoch"),
        ({"k": -1.0}, "k=-1.0 is out of range; allowed: [0, inf)"),
        ({"factor": 1.5}, "factor=1.5 is out of range; allowed: (0, 1]"),
        ({"horizon": 0}, "horizon=0 must be an integer ≥ 1"),
        ({"boundaries": [5, 2], "scales": [1, 1]}, "boundaries=[5, 2] must be increasing"),
        ({"boundaries": [5], "scales": []}, "must have the same length"),
        ({"schedule": "warmup_cosine", "warmup": 100}, "warmup=100 must be less than horizon=100"),
        ({"decay": "fast"}, "decay='fast' must be a number"),
    ],
)
def test_bad_schedule_hyperparameters(bad, message):
    with pytest.raises(OptbenchError) as info:
        schedules.validate(bad)
    assert message in str(info.value)


# Keras forms: one import of TensorFlow for the module.


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.mark.parametrize("name", [*PARAMS, "sgdr"])
def test_keras_schedule_equals_the_optax_form(keras, name):
    from optbench.optimizers.keras_optimizers import learning_rate_schedule

    p = {"schedule": "sgdr", "per": "update", "horizon": 10, "t_mul": 2.0, "m_mul": 0.5}
    p = p if name == "sgdr" else hp(name)
    keras_form = learning_rate_schedule(LR0, p | {"decay": 0.002})
    optax_form = schedules.optax_schedule(LR0, p | {"decay": 0.002})
    got = [float(keras_form(np.int64(t))) for t in STEPS]
    np.testing.assert_allclose(got, [float(optax_form(t)) for t in STEPS], rtol=1e-12)


def test_keras_builtins_agree(keras):
    from optbench.optimizers.keras_optimizers import learning_rate_schedule

    decay = 0.1 / 60
    ours = learning_rate_schedule(LR0, {"decay": decay})
    legacy = keras.optimizers.schedules.InverseTimeDecay(LR0, decay_steps=1, decay_rate=decay)
    sgdr = {"schedule": "sgdr", "per": "update", "horizon": 10, "t_mul": 2.0, "m_mul": 0.5}
    restarts = keras.optimizers.schedules.CosineDecayRestarts(LR0, 10, t_mul=2.0, m_mul=0.5)
    for t in [0, 1, 9, 10, 29, 30, 31, 69, 70]:
        step = np.int64(t)
        assert float(ours(step)) == pytest.approx(float(legacy(step)), rel=1e-6)
        assert float(learning_rate_schedule(LR0, sgdr)(step)) == pytest.approx(
            float(restarts(step)), rel=1e-5, abs=1e-7
        )


def test_keras_per_epoch_schedules_use_a_callback(keras):
    from optbench import registry

    plugin = registry.optimizer("keras.sgd")
    hp_epoch = {"learning_rate": LR0, "schedule": "exponential", "k": 0.1, "per": "epoch"}
    (callback,) = plugin.callbacks(**hp_epoch)
    assert isinstance(callback, keras.callbacks.LearningRateScheduler)
    assert callback.schedule(7, None) == pytest.approx(LR0 * math.exp(-0.7))
    assert float(plugin.build(**hp_epoch).learning_rate) == pytest.approx(LR0)
    per_update = hp_epoch | {"per": "update"}
    assert plugin.callbacks(**per_update) == []
    schedule = plugin.build(**per_update)._learning_rate
    assert float(schedule(np.int64(7))) == pytest.approx(LR0 * math.exp(-0.7))
    # with decay, a per-epoch schedule is a schedule object counting floor(updates / epoch)
    with_decay = hp_epoch | {"decay": 0.01, "steps_per_epoch": 5}
    assert plugin.callbacks(**with_decay) == []
    schedule = plugin.build(**with_decay)._learning_rate
    expected = LR0 * math.exp(-0.1 * (12 // 5)) / (1 + 0.01 * 12)
    assert float(schedule(np.int64(12))) == pytest.approx(expected, rel=1e-12)


def test_reduce_on_plateau_in_optax_and_keras(keras):
    """On a flat loss, both cut the learning rate by `factor` after every `patience` flat epochs."""
    from optbench.runners.landscape.keras_loop import run_keras

    from optbench import registry

    p = {"learning_rate": 0.1, "schedule": "reduce_on_plateau", "factor": 0.5, "patience": 2}
    tx = registry.optimizer("sgd").build(**p)
    x = jax.numpy.zeros(1)
    state = tx.init(x)
    optax_scales = []
    for _ in range(9):
        _, state = tx.update(jax.numpy.ones(1), state, x, value=1.0)
        optax_scales.append(float(state.inner_state[1].scale))
    plugin = registry.optimizer("keras.sgd")
    optimizer = plugin.build(**p)
    keras_rates = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            keras_rates.append(float(self.model.optimizer.learning_rate))

    def flat(x):
        return 1.0, np.zeros_like(x)

    run_keras(optimizer, flat, np.zeros(1), 9, [*plugin.callbacks(**p), Record()])
    assert optax_scales == [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.0625]
    np.testing.assert_allclose(np.array(keras_rates) / 0.1, optax_scales)


def test_sgdr_with_traced_cycle_multipliers():
    """The landscape runner may vmap over any real hyperparameter, t_mul = 1 included."""
    p = {"schedule": "sgdr", "per": "update", "horizon": 10, "m_mul": 0.5}

    def rates(t_mul):
        schedule = schedules.optax_schedule(LR0, p | {"t_mul": t_mul})
        return jax.numpy.stack([schedule(t) for t in range(80)])

    both = np.asarray(jax.jit(jax.vmap(rates))(jax.numpy.array([1.0, 2.0])))
    restarts = [[t for t in range(1, 80) if r[t] > r[t - 1]] for r in both]
    assert restarts == [[10, 20, 30, 40, 50, 60, 70], [10, 30, 70]]
    np.testing.assert_allclose(both[1], rates(2.0), rtol=1e-12)
