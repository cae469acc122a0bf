"""Optimizer plugins: every registered name works, hyperparameters resolve, bad input is refused."""

from __future__ import annotations

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from optbench import hyperparameters, registry
from optbench.contracts import Objective
from optbench.errors import OptbenchError
from optbench.textform import format_optimizer, parse_optimizer

jax.config.update("jax_enable_x64", True)

LOWER, UPPER = np.full(2, -5.12), np.full(2, 5.12)
X0 = np.array([1.3, -2.1])


def sphere(x):
    return jnp.sum(x**2)


@pytest.fixture(scope="module")
def objective() -> Objective:
    grad, hess = jax.jit(jax.grad(sphere)), jax.jit(jax.hessian(sphere))
    hessp = jax.jit(lambda x, p: jax.jvp(jax.grad(sphere), (x,), (p,))[1])
    return Objective(
        fun=lambda x: float(sphere(x)),
        grad=lambda x: np.asarray(grad(x)),
        hess=lambda x: np.asarray(hess(x)),
        hessp=lambda x, p: np.asarray(hessp(x, p)),
        lower=LOWER,
        upper=UPPER,
    )


def names(family: str) -> list[str]:
    return [p.name for p in registry.plugins("optimizer").values() if p.obj.family == family]


def test_every_family_is_registered():
    counts = {family: len(names(family)) for family in ("scipy", "optax", "keras")}
    assert counts["scipy"] >= 20 and counts["optax"] >= 25 and counts["keras"] >= 10, counts
    assert all(name.startswith("keras.") for name in names("keras"))
    for name in ("l-bfgs-b", "trust-constr", "differential-evolution", "schedule_free_adamw"):
        assert registry.optimizer(name).name == name


def test_listing_optimizers_does_not_import_tensorflow():
    code = (
        "import sys; from optbench.cli.list_cmd import plugin_table; "
        "import optbench.optimizers.keras_optimizers; t = plugin_table('optimizer'); "
        "assert (t.family == 'keras').sum() >= 10; "
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", names("scipy"))
def test_scipy_reaches_the_sphere_minimum(name, objective):
    plugin = registry.optimizer(name)
    budget = {k: 50 for k in ("maxiter", "niter") if k in plugin.defaults}
    method = plugin.build(**hyperparameters.resolve(plugin, budget))
    result = method.minimize(objective, X0)
    assert result.fun <= 1e-6, (name, result.fun, result.message)
    assert np.all(np.abs(result.x) <= 1e-3)


def _run_optax(tx: optax.GradientTransformation, steps: int = 50) -> tuple[float, float]:
    def step(carry, _):
        x, state = carry
        value, grad = jax.value_and_grad(sphere)(x)
        updates, state = tx.update(grad, state, x, value=value)
        return (optax.apply_updates(x, updates), state), value

    x = jnp.asarray(X0)
    (x, _), _ = jax.jit(lambda x: jax.lax.scan(step, (x, tx.init(x)), length=steps))(x)
    return float(sphere(jnp.asarray(X0))), float(sphere(x))


@pytest.mark.parametrize("name", names("optax"))
def test_optax_takes_50_steps_and_lowers_f(name):
    plugin = registry.optimizer(name)
    before, after = _run_optax(plugin.build(**hyperparameters.resolve(plugin, {})))
    assert np.isfinite(after) and after < before, (name, before, after)


def test_optax_build_is_traceable_over_the_learning_rate():
    """The landscape runner vmaps `build` over a learning-rate grid: one program, many rates."""
    plugin = registry.optimizer("sgd")
    hp = hyperparameters.resolve(plugin, {"momentum": 0.8, "decay": 0.01, "schedule": "cosine"})
    rates = jnp.array([0.01, 0.05, 0.1])

    def final(lr):
        tx = plugin.build(**(hp | {"learning_rate": lr}))
        x, state = jnp.asarray(X0), None
        state = tx.init(x)
        for _ in range(5):
            updates, state = tx.update(jax.grad(sphere)(x), state, x)
            x = optax.apply_updates(x, updates)
        return x

    together = jax.jit(jax.vmap(final))(rates)
    one_by_one = [final(float(lr)) for lr in rates]
    np.testing.assert_allclose(together, np.stack(one_by_one), rtol=1e-12)


def test_sgd_equals_optax_sgd_for_a_constant_rate():
    ours = registry.optimizer("sgd").build(learning_rate=0.05, momentum=0.9, nesterov=True)
    reference = optax.sgd(0.05, momentum=0.9, nesterov=True)
    x_ours, x_ref = jnp.asarray(X0), jnp.asarray(X0)
    s_ours, s_ref = ours.init(x_ours), reference.init(x_ref)
    for _ in range(20):
        u, s_ours = ours.update(jax.grad(sphere)(x_ours), s_ours, x_ours)
        x_ours = optax.apply_updates(x_ours, u)
        u, s_ref = reference.update(jax.grad(sphere)(x_ref), s_ref, x_ref)
        x_ref = optax.apply_updates(x_ref, u)
    np.testing.assert_allclose(x_ours, x_ref, rtol=1e-13)


def test_legacy_decay_in_the_optax_state():
    tx = registry.optimizer("sgd").build(learning_rate=0.1, momentum=0.8, decay=0.1 / 60)
    x = jnp.asarray(X0)
    state = tx.init(x)
    for t in range(120):
        _, state = tx.update(jax.grad(sphere)(x), state, x)
        assert float(state.hyperparams["learning_rate"]) == pytest.approx(0.1 / (1 + 0.1 / 60 * t))


def test_steps_per_epoch_makes_per_epoch_schedules_count_epochs():
    hp = {"learning_rate": 0.1, "schedule": "step", "factor": 0.5, "every": 1, "per": "epoch"}
    tx = registry.optimizer("adam").build(**hp, steps_per_epoch=4)
    x = jnp.asarray(X0)
    state, rates = tx.init(x), []
    for _ in range(10):
        _, state = tx.update(jax.grad(sphere)(x), state, x)
        rates.append(float(state.hyperparams["learning_rate"]))
    assert rates == [0.1] * 4 + [0.05] * 4 + [0.025] * 2


def test_scipy_derivative_modes(objective):
    for name, hp in [
        ("newton-cg", {"hess": "hessp"}),
        ("trust-krylov", {"hess": "hessp"}),
        ("trust-constr", {"hess": "bfgs", "jac": "2-point"}),
        ("bfgs", {"jac": "3-point"}),
    ]:
        result = registry.optimizer(name).build(**hp).minimize(objective, X0)
        assert result.fun <= 1e-8, (name, hp, result.fun)


def test_scipy_options_reach_scipy(objective):
    result = registry.optimizer("bfgs").build(maxiter=1, jac="2-point").minimize(objective, X0)
    assert result.nit == 1
    de = registry.optimizer("differential-evolution")
    first = de.build(maxiter=3, polish=False, seed=7).minimize(objective, X0)
    again = de.build(maxiter=3, polish=False, seed=7).minimize(objective, X0)
    assert first.nit == 3 and first.fun == again.fun


def test_text_form_round_trip_and_types():
    text = "sgd:lr=0.1,momentum=0.8,decay=0.0016667,nesterov=true,schedule=piecewise,"
    text += "boundaries=[10,20],scales=[0.5,0.5]"
    name, given = parse_optimizer(text)
    hp = hyperparameters.resolve(registry.optimizer(name), given)
    assert hp["learning_rate"] == 0.1 and hp["momentum"] == 0.8 and hp["nesterov"] is True
    assert hp["decay"] == 0.0016667 and hp["boundaries"] == [10, 20]
    assert parse_optimizer(format_optimizer(name, given)) == (name, given)
    name, given = parse_optimizer("keras.sgd:lr=0.1,schedule=exponential,k=0.1")
    hp = hyperparameters.resolve(registry.optimizer(name), given)
    assert (hp["learning_rate"], hp["schedule"], hp["k"], hp["per"]) == (
        0.1,
        "exponential",
        0.1,
        "epoch",
    )


def test_optax_and_keras_spellings_are_both_accepted():
    adam = hyperparameters.resolve(registry.optimizer("adam"), {"beta_1": 0.8, "epsilon": 1e-7})
    keras_adam = hyperparameters.resolve(registry.optimizer("keras.adam"), {"b1": 0.8, "eps": 1e-7})
    assert (adam["b1"], adam["eps"]) == (0.8, 1e-7)
    assert (keras_adam["beta_1"], keras_adam["epsilon"]) == (0.8, 1e-7)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sgd:foo=1", "unknown hyperparameter 'foo' for optimizer 'sgd'; valid: boundaries,"),
        (
            "keras.adam:beta=0.9",
            "unknown hyperparameter 'beta' for optimizer 'keras.adam'; valid:",
        ),
        ("sgd:lr=-0.1", "sgd: learning_rate=-0.1 is out of range; allowed: (0, inf)"),
        ("sgd:momentum=1.0", "sgd: momentum=1.0 is out of range; allowed: [0, 1)"),
        ("keras.sgd:momentum=1", "keras.sgd: momentum=1 is out of range; allowed: [0, 1)"),
        ("rmsprop:rho=1.2", "rmsprop: rho=1.2 is out of range; allowed: [0, 1)"),
        ("adam:lr=fast", "adam: learning_rate='fast' must be a number"),
        ("adam:nesterov=2", "adam: nesterov=2 must be true or false"),
        ("sgd:schedule=exp", "sgd: unknown schedule 'exp'; choose one of constant, inverse_time"),
        ("keras.sgd:schedule=cosine,horizon=0", "keras.sgd: horizon=0 must be an integer ≥ 1"),
        (
            "keras.sgd:schedule=reduce_on_plateau,per=update",
            "keras.sgd: schedule='reduce_on_plateau' runs per epoch in Keras",
        ),
        (
            "bfgs:xatol=1e-3",
            "unknown hyperparameter 'xatol' for optimizer 'bfgs'; valid: c1, c2, eps, finite_diff",
        ),
        ("nelder-mead:jac=exact", "optimizer 'nelder-mead'; valid: adaptive, fatol, maxfev,"),
        ("l-bfgs-b:jac=exactly", "jac='exactly' is not allowed; choose one of exact, 2-point"),
        ("dogleg:hess=hessp", "dogleg: hess='hessp' is not allowed; choose one of exact"),
        ("bfgs:maxiter=0", "bfgs: maxiter=0 must be an integer ≥ 1"),
        ("nelder-mead:xatol=-1.0", "nelder-mead: xatol=-1.0 is out of range; allowed: [0, inf)"),
        ("differential-evolution:seed=-1", "seed=-1 must be an integer ≥ 0"),
    ],
)
def test_bad_hyperparameters_are_refused(text, message):
    name, given = parse_optimizer(text)
    with pytest.raises(OptbenchError) as info:
        hyperparameters.resolve(registry.optimizer(name), given)
    assert message in str(info.value)


def test_defaults_list_every_accepted_hyperparameter():
    """`build` accepts every name in `defaults` and nothing else."""
    plugin = registry.optimizer("adamw")
    assert {"learning_rate", "b1", "b2", "eps", "weight_decay", "schedule", "decay"} <= set(
        plugin.defaults
    )
    with pytest.raises(OptbenchError, match="unknown hyperparameter 'momentum'"):
        plugin.build(momentum=0.9)
    with pytest.raises(OptbenchError, match=r"valid: .*maxiter.* \(the options of scipy's BFGS\)"):
        registry.optimizer("bfgs").build(xatol=1e-3)
    assert set(registry.optimizer("l-bfgs-b").defaults) >= {"jac", "maxiter", "maxcor", "gtol"}
