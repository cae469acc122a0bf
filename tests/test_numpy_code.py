"""The scipy path's derivatives as NumPy code (#14): JAX's autodiff of every landscape written
out by `numpy_code`, equal to jitted JAX, stored on disk so a warm process traces nothing, and
jitted JAX where a primitive has no translation."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import LANDSCAPE_CASES, uniform_points
from jax import lax
from optbench.runners.landscape import derivatives, jaxpr_walk, numpy_code
from optbench.runners.landscape.common import landscape_for

from optbench.contracts import Landscape

jax.config.update("jax_enable_x64", True)

EXACT = ("beale", "booth", "himmelblau", "matyas", "rosenbrock", "sphere")


def _close(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Largest difference, relative to the largest entry of JAX's result."""
    scale = max(float(np.max(np.abs(theirs))), 1e-300)
    return float(np.max(np.abs(ours - theirs))) / scale


@pytest.mark.parametrize(("name", "dim", "instance"), LANDSCAPE_CASES)
def test_every_derivative_of_every_landscape_equals_jax(name, dim, instance):
    landscape = landscape_for(name, dim, instance)
    direction = np.random.default_rng(1).standard_normal(landscape.dim)
    for kind, (make, arity) in derivatives.KINDS.items():
        function = make(landscape.fn)
        source = numpy_code.translate(function, *[np.zeros(landscape.dim)] * arity)
        assert source is not None, f"{name} {kind}: no translation"
        ours, jitted = numpy_code.compiled(source), jax.jit(function)
        for x in uniform_points(landscape, 4):
            args = (x, direction)[:arity]
            with np.errstate(all="ignore"):
                got, want = np.asarray(ours(*args)), np.asarray(jitted(*args))
            assert got.shape == want.shape
            assert _close(got, want) <= 1e-9, f"{name} {kind} at {x}"


@pytest.mark.parametrize("name", EXACT)
def test_polynomial_gradients_equal_xla_to_the_last_bit(name):
    """Without FMA (optbench's XLA flags) each product and sum rounds once, as in NumPy."""
    landscape = landscape_for(name, None, 0)
    gradient = numpy_code.translate(jax.grad(landscape.fn), np.zeros(landscape.dim))
    ours = numpy_code.compiled(gradient)
    jitted = jax.jit(jax.grad(landscape.fn))
    for x in uniform_points(landscape, 50):
        np.testing.assert_array_equal(ours(x), np.asarray(jitted(x)))


def _translated(fn, *examples):
    source = numpy_code.translate(fn, *examples)
    assert source is not None
    return numpy_code.compiled(source)


PRIMITIVES = {
    "pad, negative edges and interior": (
        lambda x: lax.pad(x, 1.5, [(-1, 2, 1), (2, -1, 0)]), ((4, 3),)),
    "dot_general with a batch axis": (
        lambda a, b: lax.dot_general(a, b, (((2,), (1,)), ((0,), (0,)))), ((2, 3, 4), (2, 4, 5))),
    "tensordot": (lambda a, b: jnp.tensordot(a, b, axes=([0], [1])), ((3, 4), (2, 3))),
    "select_n on an integer": (
        lambda x: lax.select_n((x > 0).astype(jnp.int32), x, -x, 2 * x)[0], ((5,),)),
    "where, reductions and clamp": (
        lambda x: jnp.where(x > 0, jnp.max(x, 0), jnp.clip(x, -0.5, 0.5)).sum(0), ((3, 4),)),
    "split, concatenate, transpose": (
        lambda x: jnp.concatenate(jnp.split(x, [1, 3], axis=1)[::-1], axis=1).T, ((2, 5),)),
    "iota, integer powers and division": (
        lambda x: x ** -3 + x**7 / (jnp.arange(x.size) + 1.0), ((6,),)),
    "transcendentals": (
        lambda x: jnp.log1p(jnp.abs(x)) * jnp.tanh(x) + jnp.arctan2(x, 2.0) + jnp.cbrt(x),
        ((7,),)),
}  # fmt: skip


@pytest.mark.parametrize("case", PRIMITIVES)
def test_each_primitive_translates_as_lax_defines_it(case):
    fn, shapes = PRIMITIVES[case]
    rng = np.random.default_rng(2)
    args = [rng.standard_normal(shape) + 0.1 for shape in shapes]
    got = np.asarray(_translated(fn, *args)(*args))
    want = np.asarray(jax.jit(fn)(*args))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_a_scalar_division_by_zero_gives_inf_not_an_exception():
    ours = _translated(lambda x: 1.0 / x[0], np.ones(2))
    with np.errstate(all="ignore"):
        assert ours(np.zeros(2)) == np.inf


def _erf_landscape() -> Landscape:
    return Landscape(name="erf-bowl", fn=lambda x: jnp.sum(jax.scipy.special.erf(x) ** 2),
                     lower=-np.ones(3), upper=np.ones(3), minimizers=np.zeros((1, 3)),
                     f_min=0.0)  # fmt: skip


def test_a_primitive_without_a_translation_keeps_jitted_jax(monkeypatch, tmp_path):
    monkeypatch.setenv("OPTBENCH_JAX_CACHE", str(tmp_path / "jax"))
    landscape = _erf_landscape()
    assert numpy_code.translate(jax.grad(landscape.fn), np.zeros(3)) is None
    before = dict(derivatives.LOADS)
    grad = derivatives.Derivative(landscape, "grad")
    x = np.array([0.3, -0.2, 0.5])
    np.testing.assert_allclose(grad(x), np.asarray(jax.grad(landscape.fn)(x)), rtol=1e-14)
    assert derivatives.LOADS["jax"] == before["jax"] + 1
    (stored,) = tmp_path.glob("jax-programs/*.numpy.py")
    assert stored.read_bytes() == derivatives.UNTRANSLATABLE


def test_a_derivative_without_a_translation_is_not_translated_again(monkeypatch, tmp_path):
    monkeypatch.setenv("OPTBENCH_JAX_CACHE", str(tmp_path / "jax"))
    tries = []
    translate = numpy_code.translate
    monkeypatch.setattr(numpy_code, "translate", lambda *a: tries.append(1) or translate(*a))
    x = np.array([0.3, -0.2, 0.5])
    first = derivatives.Derivative(_erf_landscape(), "grad")(x)
    again = derivatives.Derivative(_erf_landscape(), "grad")(x)
    assert len(tries) == 1, "the failed translation is remembered in the program store"
    np.testing.assert_array_equal(first, again)


def _bits(value) -> np.ndarray:
    array = np.ascontiguousarray(value).reshape(-1)
    return array.view(np.uint8) if array.dtype.kind == "f" else array


@pytest.mark.parametrize(("name", "dim", "instance"), [c for c in LANDSCAPE_CASES if c[2] == 1])
def test_constants_folded_by_numpy_are_xla_s_to_the_bit(monkeypatch, name, dim, instance):
    landscape = landscape_for(name, dim, instance)
    numpy_fold, checked = jaxpr_walk._numpy_fold, []

    def compared(eqn, values):
        ours = numpy_fold(eqn, values)
        if ours is not None:
            theirs = eqn.primitive.bind(*values, **eqn.params)
            theirs = theirs if eqn.primitive.multiple_results else [theirs]
            for mine, xla in zip(ours, theirs, strict=True):
                xla = np.asarray(xla)
                mine = np.asarray(mine, dtype=xla.dtype)
                assert mine.shape == xla.shape, eqn
                np.testing.assert_array_equal(_bits(mine), _bits(xla), err_msg=str(eqn))
            checked.append(eqn.primitive.name)
        return ours

    monkeypatch.setattr(jaxpr_walk, "_numpy_fold", compared)
    for make, arity in derivatives.TRANSLATED.values():
        numpy_code.translate(make(landscape.fn), *[np.zeros(landscape.dim)] * arity)
    assert {"iota", "broadcast_in_dim"} <= set(checked)


def test_instances_and_kinds_have_their_own_stored_code():
    stems = {
        derivatives.stem(landscape_for("rastrigin", 6, instance), kind)
        for instance in (0, 1)
        for kind in derivatives.KINDS
    }
    assert len(stems) == 6


def _scaled_bowl(scale: float, marker: object = None) -> Landscape:
    return Landscape(name="bowl", fn=lambda x, m=marker: scale * jnp.sum(x**2),
                     lower=-np.ones(2), upper=np.ones(2), minimizers=np.zeros((1, 2)),
                     f_min=0.0)  # fmt: skip


def test_the_stored_code_is_keyed_on_what_the_function_closes_over():
    """Same name, bounds and code; a different constant in the closure: different files."""
    assert derivatives.stem(_scaled_bowl(2.0), "grad") != derivatives.stem(
        _scaled_bowl(3.0), "grad"
    )
    assert derivatives.stem(_scaled_bowl(2.0), "grad") == derivatives.stem(
        _scaled_bowl(2.0), "grad"
    )


def test_a_closure_the_fingerprint_cannot_read_is_keyed_by_its_jaxpr():
    import hashlib

    with pytest.raises(derivatives.Unknown, match="object"):
        derivatives.fingerprint(_scaled_bowl(2.0, object()).fn, hashlib.sha256())
    stems = {derivatives.stem(_scaled_bowl(scale, object()), "grad") for scale in (2.0, 2.0, 3.0)}
    assert len(stems) == 2


SCRIPT = """
import json, sys
from optbench import OptimizerEntry, Study, run_study
from optbench.runners.landscape import derivatives

study = Study(problems=("beale", "rastrigin:dim=3"), optimizers=(OptimizerEntry("l-bfgs-b"),
              OptimizerEntry("newton-cg", {"hess": "hessp"}), OptimizerEntry("trust-krylov")),
              starts=4,
              budget={"steps": 200})
runs = run_study(study, sys.argv[1], quiet=True).results.runs
runs.to_parquet(sys.argv[1] + ".parquet")
print(json.dumps(derivatives.LOADS))
"""


def _run(out, cache):
    import pandas as pd

    environ = os.environ | {"OPTBENCH_JAX_CACHE": str(cache), "OPTBENCH_WORKERS": "1"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(out)], check=True, env=environ,
                          capture_output=True, text=True)  # fmt: skip
    rows = pd.read_parquet(f"{out}.parquet").set_index("run_key").sort_index()
    rows = rows.drop(columns=[c for c in rows if c.startswith("env.") or c.endswith("_s")])
    return json.loads(done.stdout.strip().splitlines()[-1]), rows


def test_a_warm_process_loads_the_derivatives_and_gives_identical_rows(tmp_path):
    """The value, grad for l-bfgs-b, hessp for newton-cg, hess for trust-krylov: four per
    landscape."""
    import pandas as pd

    cold, first = _run(tmp_path / "cold", tmp_path / "jax")
    assert cold == {"translated": 8, "loaded": 0, "jax": 0, "scalar": 8}
    assert len(list((tmp_path / "jax-programs").glob("*.scalar.py"))) == 8
    warm, again = _run(tmp_path / "warm", tmp_path / "jax")
    assert warm == {"translated": 0, "loaded": 8, "jax": 0, "scalar": 8}
    assert len(first) == 2 * 3 * 4
    pd.testing.assert_frame_equal(first, again, check_exact=True)
