"""COCO-style instances: minimisers carried exactly, reproducible across processes, orthogonal."""

from __future__ import annotations

import functools
import json
import subprocess
import sys

import jax
import numpy as np
import pytest
import scipy.optimize
from optbench.landscapes import instances
from threadpoolctl import threadpool_limits

from optbench import registry
from optbench.errors import OptbenchError

CASES = [(name, None) for name in registry.names("landscape")] + [
    ("rastrigin", 3), ("dixon-price", 4), ("trid", 5), ("schwefel", 3), ("ackley", 1),
]  # fmt: skip


@functools.cache
def _make(name: str, dim: int | None, instance: int):
    return registry.landscape(name).make(dim=dim, instance=instance)


@pytest.mark.parametrize(("name", "dim"), CASES)
def test_minimizers_of_an_instance_attain_its_f_min(name, dim):
    base = _make(name, dim, 0)
    for instance in (1, 2, 1003):
        landscape = _make(name, dim, instance)
        assert landscape.f_min == base.f_min and landscape.dim == base.dim
        assert landscape.minimizers.shape == base.minimizers.shape
        assert np.all(landscape.minimizers >= landscape.lower)
        assert np.all(landscape.minimizers <= landscape.upper)
        values = np.asarray(jax.jit(jax.vmap(landscape.fn))(landscape.minimizers))
        np.testing.assert_allclose(values, base.f_min, rtol=1e-8, atol=1e-8)
        assert not np.allclose(landscape.minimizers, base.minimizers)


def test_instance_zero_is_the_function_itself():
    base = registry.landscape("branin").make()
    assert base.name == "branin" and base.noise is None
    assert base.fn is registry.landscape("branin").fn


def test_gradient_vanishes_at_the_moved_minimizers():
    for name, dim in [("himmelblau", None), ("rosenbrock", 5), ("six-hump-camel", None)]:
        landscape = _make(name, dim, 4)
        gradients = np.asarray(jax.jit(jax.vmap(jax.grad(landscape.fn)))(landscape.minimizers))
        assert np.max(np.abs(gradients)) < 1e-6


def test_rotations_are_orthogonal_and_the_scaling_is_cocos():
    for dim in (2, 3, 10):
        rotation = instances.rotation(dim, np.random.default_rng(dim))
        np.testing.assert_allclose(rotation.T @ rotation, np.eye(dim), atol=1e-12)
        assert np.linalg.det(rotation) == pytest.approx(1.0)
    np.testing.assert_allclose(instances.conditioning(3), [1.0, 10**0.25, 10**0.5])
    landscape = registry.landscape("sphere").make(dim=4)
    transform = instances.make_transform(landscape, seed=7)
    singular = np.linalg.svd(transform.matrix, compute_uv=False)
    assert singular.max() / singular.min() == pytest.approx(10**0.5)
    scaled_back = transform.matrix / singular.min() / instances.conditioning(4)[:, None]
    np.testing.assert_allclose(scaled_back @ scaled_back.T, np.eye(4), atol=1e-12)


def test_sphere_instance_is_the_quadratic_form_of_its_matrix():
    landscape = _make("sphere", 3, 5)
    x = np.array([0.3, -1.2, 2.0])
    t = landscape.fn.transform
    assert landscape(x) == pytest.approx(float(np.sum((t.matrix @ (x - t.x_opt)) ** 2)), rel=1e-13)
    assert "rotated" in landscape.tags and "separable" not in landscape.tags


def test_box_bounded_instances_keep_their_minima_global():
    """Eggholder's minimum sits on its boundary; its instance clips, so nothing goes lower."""
    for name, instance in [("eggholder", 3), ("mccormick", 1), ("schwefel", 2), ("branin", 6)]:
        landscape = _make(name, 2 if name == "schwefel" else None, instance)
        rng = np.random.default_rng(1)
        starts = landscape.lower + rng.random((30, 2)) * (landscape.upper - landscape.lower)
        value_and_grad = jax.jit(jax.value_and_grad(landscape.fn))

        def fun(x, vg=value_and_grad):
            value, grad = vg(x)
            return float(value), np.asarray(grad)

        bounds = list(zip(landscape.lower, landscape.upper, strict=True))
        with threadpool_limits(1):
            finals = [
                scipy.optimize.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds).fun
                for x0 in starts
            ]
        assert min(finals) >= landscape.f_min - 1e-9
        far = landscape.upper + 50 * (landscape.upper - landscape.lower)
        assert landscape(far) > landscape.f_min


_SCRIPT = """
import json, numpy as np
from optbench import registry
out = {}
for name, dim, k in [("rastrigin", 5, 3), ("shubert", None, 2), ("levy", 4, 1001)]:
    L = registry.landscape(name).make(dim=dim, instance=k)
    x = np.linspace(-1, 1, L.dim)
    out[f"{name}{k}"] = [L.minimizers.tolist(), L(x)]
print(json.dumps(out))
"""


def test_the_same_id_gives_the_same_instance_in_another_process():
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True, cwd="/"
    )
    other = json.loads(result.stdout.strip().splitlines()[-1])
    for name, dim, k in [("rastrigin", 5, 3), ("shubert", None, 2), ("levy", 4, 1001)]:
        landscape = _make(name, dim, k)
        minimizers, value = other[f"{name}{k}"]
        assert np.array_equal(np.array(minimizers), landscape.minimizers)
        assert value == landscape(np.linspace(-1, 1, landscape.dim))
    assert not np.allclose(_make("rastrigin", 5, 3).minimizers, _make("rastrigin", 5, 4).minimizers)


def test_noisy_instances_keep_fn_exact_and_noise_seeded():
    multiplicative = _make("rosenbrock", 2, 1002)
    additive = _make("rosenbrock", 2, 2002)
    plain = _make("rosenbrock", 2, 2)
    x = np.array([0.5, 0.5])
    assert multiplicative(x) == plain(x) == additive(x)
    np.testing.assert_array_equal(multiplicative.minimizers, plain.minimizers)
    assert "noisy" in multiplicative.tags and plain.noise is None
    keys = jax.random.split(jax.random.key(0), 2000)
    value = plain(x)
    noisy = np.asarray(jax.vmap(lambda k: additive.noise(value, x, k))(keys))
    assert np.std(noisy) == pytest.approx(instances.ADDITIVE_SIGMA, rel=0.1)
    assert np.mean(noisy) == pytest.approx(value, abs=5 * instances.ADDITIVE_SIGMA / np.sqrt(2000))
    ratios = np.asarray(jax.vmap(lambda k: multiplicative.noise(value, x, k))(keys)) / value
    assert np.std(np.log(ratios)) == pytest.approx(instances.MULTIPLICATIVE_BETA, rel=0.1)
    at_minimum = multiplicative.noise(plain.f_min, plain.minimizers[0], jax.random.key(3))
    assert float(at_minimum) == plain.f_min
    key = jax.random.key(42)
    assert float(additive.noise(value, x, key)) == float(additive.noise(value, x, key))
    other = _make("rosenbrock", 2, 2003)
    assert float(additive.noise(value, x, key)) != float(other.noise(value, x, key))


@pytest.mark.parametrize(
    ("instance", "message"),
    [
        (-1, "beale: instance must be a non-negative integer, got -1"),
        (1.5, "beale: instance must be a non-negative integer, got 1.5"),
        (True, "beale: instance must be a non-negative integer, got True"),
        ("2", "beale: instance must be a non-negative integer, got '2'"),
        (3000, "beale: instance 3000 is not available; allowed: 0 (the function itself), 1..999"),
    ],
)
def test_bad_instance_ids_are_refused(instance, message):
    with pytest.raises(OptbenchError) as caught:
        registry.landscape("beale").make(instance=instance)
    assert message in str(caught.value)
    with pytest.raises(OptbenchError, match="instance"):
        registry.landscape("sphere").make(dim=3, instance=instance)
