"""Keras and optax run the same algorithm: Beale from (1, 1), 200 steps, float64.

Conventions found and how each test matches them:
- SGD: Keras keeps the learning rate inside the velocity (v ← μv − ηg); our optax `sgd` does
  the same (optax.sgd would not, under `decay`). Keras (TensorFlow backend) casts the Python
  float `momentum` through float32 (0.8 → 0.800000011920929) even for float64 variables; the
  same hyperparameters agree to ~1e-9 in x, and with optax given float32(0.8) to ~1e-15.
- Adam/AdamW: Keras adds ε to sqrt(v) before bias correction; matched exactly by giving optax
  the schedule ε_t = ε / sqrt(1 − β₂ᵗ) (`keras_epsilon`). Keras also casts β₁, β₂ through
  float32 in the bias correction (β^t) but not in the moving averages (1 − β); β values that
  float32 holds exactly (float32(0.9), float32(0.999)) make both sides run the same numbers.
- RMSprop: both put ε inside the square root and start the average at 0: no change needed.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from optbench.optimizers.optax_optimizers import keras_epsilon

from optbench import registry

jax.config.update("jax_enable_x64", True)

STEPS = 200
X0 = np.array([1.0, 1.0])
DECAY = 0.1 / 60
B1, B2 = float(np.float32(0.9)), float(np.float32(0.999))


def beale(x):
    x1, x2 = x[0], x[1]
    return (
        (1.5 - x1 + x1 * x2) ** 2 + (2.25 - x1 + x1 * x2**2) ** 2 + (2.625 - x1 + x1 * x2**3) ** 2
    )


@pytest.fixture(scope="module")
def keras():
    keras = pytest.importorskip("keras")
    previous = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield keras
    keras.config.set_floatx(previous)


def run_optax(name: str, hp: dict) -> tuple[np.ndarray, np.ndarray]:
    return run_transformation(registry.optimizer(name).build(**hp))


def run_transformation(tx: optax.GradientTransformation) -> tuple[np.ndarray, np.ndarray]:

    def step(carry, _):
        x, state = carry
        value, grad = jax.value_and_grad(beale)(x)
        updates, state = tx.update(grad, state, x, value=value)
        return (optax.apply_updates(x, updates), state), value

    x = jnp.asarray(X0)
    (x, _), values = jax.jit(lambda x: jax.lax.scan(step, (x, tx.init(x)), length=STEPS))(x)
    return np.asarray(x), np.asarray(values)


def run_keras_plugin(name: str, hp: dict) -> tuple[np.ndarray, np.ndarray]:
    from optbench.runners.landscape.keras_loop import run_keras

    plugin = registry.optimizer(name)
    value_and_grad = jax.jit(jax.value_and_grad(beale))
    return run_keras(plugin.build(**hp), value_and_grad, X0, STEPS)  # its own callbacks


def assert_same_path(optax_run, keras_run, tol: float) -> None:
    (x_optax, f_optax), (x_keras, f_keras) = optax_run, keras_run
    assert np.all(np.isfinite(f_keras)) and f_keras[-1] < 0.2 * f_keras[0]
    np.testing.assert_allclose(f_keras, f_optax, rtol=0, atol=tol)
    np.testing.assert_allclose(x_keras, x_optax, rtol=0, atol=tol)


SGD_CASES = [
    {"momentum": 0.8, "nesterov": nesterov, "decay": decay}
    for nesterov in (False, True)
    for decay in (0.0, DECAY)
]


@pytest.mark.parametrize(
    "hp", SGD_CASES, ids=lambda hp: f"nesterov={hp['nesterov']},decay={hp['decay']:.3g}"
)
def test_sgd_momentum(keras, hp):
    hp = {"learning_rate": 0.01} | hp
    assert_same_path(run_optax("sgd", hp), run_keras_plugin("keras.sgd", hp), 1e-6)


def test_sgd_momentum_is_exact_with_keras_float32_momentum(keras):
    hp = {"learning_rate": 0.01, "momentum": 0.8, "nesterov": True, "decay": DECAY}
    optax_run = run_optax("sgd", hp | {"momentum": float(np.float32(0.8))})
    assert_same_path(optax_run, run_keras_plugin("keras.sgd", hp), 1e-12)


def test_optax_sgd_convention_differs_under_decay(keras):
    """Why our optax `sgd` puts the rate inside the velocity: optax.sgd drifts away under decay."""
    keras_run = run_keras_plugin(
        "keras.sgd", {"learning_rate": 0.01, "momentum": 0.8, "decay": 0.05}
    )
    tx = optax.inject_hyperparams(optax.sgd)(
        learning_rate=lambda t: 0.01 / (1 + 0.05 * t), momentum=0.8
    )
    x, _ = run_transformation(tx)
    assert np.max(np.abs(x - keras_run[0])) > 1e-3


def test_adam_with_matched_epsilon(keras):
    optax_hp = {"learning_rate": 0.01, "b1": B1, "b2": B2, "eps": keras_epsilon(1e-7, B2)}
    keras_hp = {"learning_rate": 0.01, "beta_1": B1, "beta_2": B2, "epsilon": 1e-7}
    assert_same_path(run_optax("adam", optax_hp), run_keras_plugin("keras.adam", keras_hp), 1e-6)


def test_adamw_with_matched_epsilon(keras):
    betas = {"b1": B1, "b2": B2}
    optax_hp = {"learning_rate": 0.01, "eps": keras_epsilon(1e-7, B2), "weight_decay": 0.004}
    keras_hp = {"learning_rate": 0.01, "epsilon": 1e-7, "weight_decay": 0.004}
    optax_hp, keras_hp = optax_hp | betas, keras_hp | {"beta_1": B1, "beta_2": B2}
    assert_same_path(run_optax("adamw", optax_hp), run_keras_plugin("keras.adamw", keras_hp), 1e-6)


@pytest.mark.parametrize(
    "extra", [{}, {"centered": True, "momentum": 0.5}], ids=["plain", "centered-momentum"]
)
def test_rmsprop(keras, extra):
    optax_hp = {"learning_rate": 0.01, "eps": 1e-7, "rho": 0.9} | extra
    keras_hp = {"learning_rate": 0.01, "epsilon": 1e-7, "rho": 0.9} | extra
    assert_same_path(
        run_optax("rmsprop", optax_hp), run_keras_plugin("keras.rmsprop", keras_hp), 1e-6
    )


@pytest.mark.parametrize(
    ("optax_name", "optax_hp", "keras_hp"),
    [
        ("adagrad", {"learning_rate": 0.1, "eps": 1e-7}, {"learning_rate": 0.1, "epsilon": 1e-7}),
        ("adamax", {"learning_rate": 0.01, "eps": 1e-7}, {"learning_rate": 0.01, "epsilon": 1e-7}),
        ("lion", {"learning_rate": 0.001, "weight_decay": 0.0}, {"learning_rate": 0.001}),
        (
            "adadelta",
            {"learning_rate": 1.0, "rho": 0.95, "eps": 1e-7},
            {"learning_rate": 1.0, "rho": 0.95, "epsilon": 1e-7},
        ),
    ],
)
def test_other_pairs(keras, optax_name, optax_hp, keras_hp):
    optax_run = run_optax(optax_name, optax_hp)
    keras_run = run_keras_plugin(f"keras.{optax_name}", keras_hp)
    (x_optax, f_optax), (x_keras, f_keras) = optax_run, keras_run
    np.testing.assert_allclose(f_keras, f_optax, rtol=0, atol=1e-6)
    np.testing.assert_allclose(x_keras, x_optax, rtol=0, atol=1e-6)


def test_same_schedule_same_path(keras):
    """A per-epoch schedule runs as a callback in Keras and as a schedule in optax."""
    hp = {"learning_rate": 0.01, "momentum": 0.8, "schedule": "exponential", "k": 0.01}
    assert_same_path(run_optax("sgd", hp), run_keras_plugin("keras.sgd", hp), 1e-6)


def sphere(x):
    return jnp.sum(x**2)


@pytest.mark.parametrize(
    "name", [p.name for p in registry.plugins("optimizer").values() if p.obj.family == "keras"]
)
def test_every_keras_optimizer_lowers_the_sphere(keras, name):
    from optbench.runners.landscape.keras_loop import run_keras

    plugin = registry.optimizer(name)
    hp = {"learning_rate": 0.05}
    x0 = np.array([1.3, -2.1])
    x, values = run_keras(plugin.build(**hp), jax.jit(jax.value_and_grad(sphere)), x0, 50)
    assert np.all(np.isfinite(values)) and float(sphere(x)) < values[0]


def test_keras_defaults_are_the_installed_keras_defaults(keras):
    for plugin in (
        p.obj for p in registry.plugins("optimizer").values() if p.obj.family == "keras"
    ):
        signature = inspect.signature(getattr(keras.optimizers, plugin.keras_class))
        for name, default in {**plugin.own_defaults, **plugin.common}.items():
            assert signature.parameters[name].default == default, (plugin.name, name)
