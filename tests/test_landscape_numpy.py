"""Landscape functions are array-API generic: NumPy in, NumPy float64 out, equal to JAX's value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from optbench.landscapes.base import array_namespace

from optbench import registry

INSTANCES = (0, 1, 7)
RANDOM_POINTS = 20
RTOL = ATOL = 1e-12


def _cases() -> list[tuple[str, int | None, int]]:
    """Every landscape at its default dimension, scalable ones also in 3-D, per instance."""
    cases = []
    for name in registry.names("landscape"):
        plugin = registry.landscape(name)
        dims = [None, 3] if plugin.scalable and plugin.default_dim != 3 else [None]
        cases += [(name, dim, instance) for dim in dims for instance in INSTANCES]
    return cases


def _numpy_value(fn: Callable[[Any], Any], point: np.ndarray) -> np.floating:
    """`fn` at a float64 NumPy point, refusing any host-to-device transfer (no JAX array)."""
    with jax.transfer_guard("disallow"):
        value = fn(np.asarray(point, dtype=np.float64))
    assert not isinstance(value, jax.Array)
    assert np.ndim(value) == 0 and value.dtype == np.float64
    return value


def test_array_namespace_is_numpy_for_numpy_and_python_values_and_jax_numpy_for_jax():
    assert array_namespace(np.zeros(2)) is np and array_namespace(np.float64(1.0)) is np
    assert array_namespace([1.0, 2.0]) is np and array_namespace(1.0) is np
    assert array_namespace(jnp.zeros(2)) is jnp
    seen = []
    jax.jit(lambda x: seen.append(array_namespace(x)) or x)(jnp.zeros(2))
    jax.grad(lambda x: seen.append(array_namespace(x)) or jnp.sum(x))(jnp.zeros(2))
    assert seen == [jnp, jnp]


@pytest.mark.parametrize(("name", "dim", "instance"), _cases())
def test_numpy_evaluation_matches_jax(name, dim, instance):
    landscape = registry.landscape(name).make(dim=dim, instance=instance)
    rng = np.random.default_rng(12345 + instance)
    width = landscape.upper - landscape.lower
    points = landscape.lower + rng.random((RANDOM_POINTS, landscape.dim)) * width
    points = np.vstack([points, landscape.minimizers])
    numpy_values = np.array([_numpy_value(landscape.fn, p) for p in points])
    jax_values = np.array([float(landscape.jitted(p)) for p in points])
    np.testing.assert_allclose(numpy_values, jax_values, rtol=RTOL, atol=ATOL)
    tolerance = max(1e-8, 1e-8 * abs(landscape.f_min))
    minima = numpy_values[RANDOM_POINTS:]
    np.testing.assert_allclose(minima, landscape.f_min, rtol=0, atol=tolerance)
