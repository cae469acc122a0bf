"""The scipy path's values and derivatives as scalar Python (#14): every 2- to 10-D landscape's
jaxpr and JAX's autodiff of it written out element by element by `scalar_code`, equal to
jitted JAX, NumPy where `math` raises, and no translation where it would not pay."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import LANDSCAPE_CASES, uniform_points
from jax import lax
from optbench.runners.landscape import derivatives, scalar_code
from optbench.runners.landscape.common import landscape_for

from optbench.contracts import Landscape

jax.config.update("jax_enable_x64", True)

POLYNOMIAL = ("beale", "booth", "himmelblau", "matyas", "rosenbrock", "sphere")
CONSTANT_HESSIANS = ("sphere", "sum-squares", "trid", "booth", "matyas")


def _compiled(fn, *examples):
    source = scalar_code.translate(fn, *examples)
    assert source is not None
    return scalar_code.compiled(source)


@pytest.mark.parametrize(("name", "dim", "instance"), LANDSCAPE_CASES)
def test_every_derivative_of_every_landscape_equals_jax(name, dim, instance):
    landscape = landscape_for(name, dim, instance)
    direction = np.random.default_rng(1).standard_normal(landscape.dim)
    for kind, (make, arity) in derivatives.TRANSLATED.items():
        function = make(landscape.fn)
        source = scalar_code.translate(function, *[np.zeros(landscape.dim)] * arity)
        if source is None:
            too_long = name == "schwefel" and instance == 1 and kind == "hess"
            assert too_long or (kind == "hess" and name in CONSTANT_HESSIANS), (name, kind)
            continue
        ours, jitted = scalar_code.compiled(source), jax.jit(function)
        for x in uniform_points(landscape, 4):
            args = (x, direction)[:arity]
            got, want = np.array(ours(*args), dtype=np.float64), np.asarray(jitted(*args))
            assert got.shape == want.shape
            if name in POLYNOMIAL and instance == 0 and kind == "grad":
                np.testing.assert_array_equal(got, want, err_msg=f"{name} {kind}")
            else:
                scale = max(float(np.max(np.abs(want))), 1e-300)
                assert float(np.max(np.abs(got - want))) / scale < 1e-11, (name, kind)


def test_structural_primitives_and_reductions_equal_jax():
    def fn(x):
        m = jnp.reshape(jnp.concatenate([x, x[::-1] * 2.0]), (2, 3))
        padded = lax.pad(m, -1.5, ((1, 0, 1), (0, -1, 0)))
        batched = jnp.einsum("bi,bj->bij", m, m)
        chosen = jnp.where(x > 0.1, x**-2, jnp.clip(x, -0.5, 0.2))
        return (
            jnp.sum(padded) + jnp.max(batched) * jnp.min(m.T @ m)
            + jnp.prod(chosen) + jnp.sum(jnp.sin(x) ** 3)
        )  # fmt: skip

    x = np.array([0.3, -0.7, 0.05])
    for function in (fn, jax.grad(fn)):
        ours = _compiled(function, np.zeros(3))
        np.testing.assert_allclose(ours(x), jax.jit(function)(x), rtol=1e-14)


def test_nan_propagates_through_max_and_min_as_in_xla():
    def fn(x):
        return jnp.stack([jnp.maximum(x[0], x[1]), jnp.minimum(x[1], x[0]), jnp.max(x)])

    ours = _compiled(fn, np.zeros(2))
    for x in ([np.nan, 1.0], [1.0, np.nan], [2.0, -3.0]):
        np.testing.assert_array_equal(ours(np.array(x)), np.asarray(jax.jit(fn)(np.array(x))))


def _exp_landscape() -> Landscape:
    return Landscape(name="exp-bowl", fn=lambda x: jnp.sum(jnp.exp(x)), lower=-np.ones(2),
                     upper=np.ones(2), minimizers=np.zeros((1, 2)), f_min=0.0)  # fmt: skip


def test_where_math_raises_the_numpy_code_gives_inf_as_jax_does(monkeypatch, tmp_path):
    monkeypatch.setenv("OPTBENCH_JAX_CACHE", str(tmp_path / "jax"))
    landscape = _exp_landscape()
    grad = derivatives.Derivative(landscape, "grad")
    np.testing.assert_allclose(grad(np.array([0.5, -0.25])), np.exp([0.5, -0.25]), rtol=1e-15)
    assert isinstance(grad.function, derivatives.Guarded) and grad.function.fallback is None
    with np.errstate(over="ignore"):
        overflowed = grad(np.array([1000.0, 0.0]))
    np.testing.assert_array_equal(overflowed, [np.inf, 1.0])
    assert grad.function.fallback is not None
    value = derivatives.Derivative(landscape, "value")
    assert value(np.array([0.5, -0.25])) == pytest.approx(np.exp(0.5) + np.exp(-0.25), rel=1e-15)
    with np.errstate(over="ignore"):
        assert value(np.array([1000.0, 0.0])) == np.inf
    assert {p.name.split(".", 1)[1] for p in (tmp_path / "jax-programs").iterdir()} == {
        "scalar.py",
        "numpy.py",
    }


def test_past_the_line_limit_there_is_no_translation(monkeypatch):
    landscape = landscape_for("rastrigin", 6, 1)
    assert scalar_code.translate(jax.grad(landscape.fn), np.zeros(6)) is not None
    monkeypatch.setattr(scalar_code, "MAX_LINES", 20)
    assert scalar_code.translate(jax.grad(landscape.fn), np.zeros(6)) is None


def test_a_large_landscape_is_left_to_numpy():
    assert scalar_code.translate(jax.grad(landscape_for("sphere", 100, 0).fn), np.zeros(100))
    rotated = landscape_for("rastrigin", 100, 1)  # a 100 x 100 rotation: 10,000 elements
    assert scalar_code.translate(jax.grad(rotated.fn), np.zeros(100)) is None


def test_float32_is_not_written_as_python_floats():
    assert scalar_code.translate(jax.grad(lambda x: jnp.sum(x**2)), np.zeros(3, np.float32)) is None


def test_a_value_jax_cannot_trace_is_the_landscape_s_numpy_function(monkeypatch, tmp_path):
    monkeypatch.setenv("OPTBENCH_JAX_CACHE", str(tmp_path / "jax"))

    def branching(x):
        return float(x[0]) ** 2 + (x[1] if x[1] > 0 else -x[1])

    landscape = Landscape(name="branching", fn=branching, lower=-np.ones(2), upper=np.ones(2),
                          minimizers=np.zeros((1, 2)), f_min=0.0)  # fmt: skip
    value = derivatives.Derivative(landscape, "value")
    assert value(np.array([0.5, -0.25])) == 0.5
    assert not isinstance(value.function, derivatives.Guarded)
