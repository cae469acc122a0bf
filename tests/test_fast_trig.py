"""The optax program's vectorised float64 sin and cos: within 1 ulp of 1 of the C library's,
the library's own value for arguments the reduction cannot hold, and chosen by `OPTBENCH_TRIG`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from optbench.runners.landscape import fast_trig

from optbench.errors import OptbenchError
from optbench.execute import run_study
from optbench.study import OptimizerEntry, Study

jax.config.update("jax_enable_x64", True)

ULP_OF_ONE = 2.0**-52
RANGES = (1e-8, 1.0, np.pi, 100.0, 1e4, 1e6, 1e8, fast_trig.REDUCTION_LIMIT * 0.999)


def library_and_fast(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The C library's values (XLA's `sin`/`cos`) and the vectorised ones, both jitted."""
    library = jax.jit(getattr(lax, name))(x)
    fast = jax.jit(getattr(fast_trig, name))(x)
    return np.asarray(library), np.asarray(fast)


@pytest.mark.parametrize("name", ["sin", "cos"])
@pytest.mark.parametrize("scale", RANGES)
def test_within_one_ulp_of_one_of_the_library(name, scale):
    x = np.random.default_rng(7).uniform(-scale, scale, 200_000)
    library, fast = library_and_fast(name, x)
    assert np.max(np.abs(fast - library)) <= ULP_OF_ONE
    assert np.mean(fast == library) > 0.6


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_large_arguments_take_the_library_value(name):
    rng = np.random.default_rng(3)
    big = rng.uniform(1.0, 1e6, 1000) * fast_trig.REDUCTION_LIMIT
    x = np.concatenate([big, -big * 1e200, rng.uniform(-3, 3, 1000)])
    library, fast = library_and_fast(name, x)
    np.testing.assert_array_equal(fast[:2000], library[:2000])
    assert np.max(np.abs(fast[2000:] - library[2000:])) <= ULP_OF_ONE


def test_special_values_match_the_library():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 2.0**-1000, -(2.0**-1000)])
    for name in ("sin", "cos"):
        library, fast = library_and_fast(name, x)
        np.testing.assert_array_equal(fast, library, err_msg=name)
        assert (np.signbit(fast) == np.signbit(library))[[0, 1, 5, 6]].all(), name


def test_shapes_are_kept():
    x = np.random.default_rng(0).uniform(-4, 4, (37, 10))
    library, fast = library_and_fast("cos", x)
    assert fast.shape == (37, 10)
    assert np.max(np.abs(fast - library)) <= ULP_OF_ONE


def test_rewrite_replaces_trig_in_values_and_derivatives():
    def rastrigin(x):
        return 10 * x.shape[0] + jnp.sum(x**2 - 10 * jnp.cos(2 * jnp.pi * x))

    batched = jax.vmap(jax.value_and_grad(rastrigin))
    x = np.random.default_rng(1).uniform(-5.12, 5.12, (64, 10))
    rewritten = fast_trig.vectorised(batched)
    top = [e.primitive.name for e in jax.make_jaxpr(rewritten)(x).jaxpr.eqns]
    assert "cos" not in top and "sin" not in top
    assert top.count("cond") == 2
    (f0, g0), (f1, g1) = batched(x), jax.jit(rewritten)(x)
    np.testing.assert_allclose(f1, f0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(g1, g0, rtol=0, atol=1e-12)


def test_rewrite_leaves_float32_trig_alone():
    x = np.linspace(-3, 3, 16, dtype=np.float32)
    names = [e.primitive.name for e in jax.make_jaxpr(fast_trig.vectorised(jnp.sin))(x).jaxpr.eqns]
    assert names == ["sin"]


def test_mode_reads_the_environment(monkeypatch):
    monkeypatch.delenv(fast_trig.MODE_ENV, raising=False)
    assert fast_trig.mode() == "vectorised"
    monkeypatch.setenv(fast_trig.MODE_ENV, "Library")
    assert fast_trig.mode() == "library"
    monkeypatch.setenv(fast_trig.MODE_ENV, "fast")
    with pytest.raises(OptbenchError, match=r"OPTBENCH_TRIG='fast'.*vectorised, library"):
        fast_trig.mode()


def test_the_mode_keys_the_program(tmp_path, monkeypatch):
    study = Study(
        problems=("rastrigin",),
        optimizers=(OptimizerEntry("adam", grid={"learning_rate": [0.01]}),),
        starts=4,
        budget={"steps": 50},
    )
    runs = {}
    for trig in fast_trig.MODES:
        monkeypatch.setenv(fast_trig.MODE_ENV, trig)
        runs[trig] = run_study(study, tmp_path / trig, quiet=True).results.runs
    vectorised, library = runs["vectorised"], runs["library"]
    assert vectorised["program"].nunique() == library["program"].nunique() == 1
    assert vectorised["program"].iloc[0] != library["program"].iloc[0]
    np.testing.assert_allclose(vectorised["f_final"], library["f_final"], rtol=1e-12)
