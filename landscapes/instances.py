"""COCO-style instances: seeded shift, rotation, scaling and noise, with the minima carried along.

Instance ids: 0 is the function itself; k in 1..999 moves the first global minimiser to a
seeded point inside the bounds and rotates and scales the space around it,
`z = m_0 + B (x - x_opt)` with `B = zoom · Λ · R` (R a random rotation, Λ COCO's
conditioning diagonal); `1000 + k` and `2000 + k` are instance k (k = 0 allowed) with
multiplicative or additive Gaussian noise. Every global minimiser `m_i` maps to
`x_opt + B⁻¹ (m_i - m_0)` and `f_min` is unchanged, so gaps and distances stay exact.
Functions whose minima are global only inside their bounds (`box_bounded`) are evaluated
at the clipped point plus a quadratic penalty outside, which keeps those minima global.
The seed is a hash of (name, dim, id): the same id gives the same instance in any process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from optbench.landscapes.base import array_namespace
from scipy.stats import special_ortho_group

from optbench.contracts import Landscape
from optbench.errors import OptbenchError

PER_KIND = 1000
NOISE_KINDS = ("none", "multiplicative", "additive")
CONDITION = 10.0
MARGIN = 0.1
PENALTY = 1.0
MULTIPLICATIVE_BETA = 0.1
ADDITIVE_SIGMA = 0.01
ALLOWED = (
    "0 (the function itself), 1..999 (seeded shift, rotation and scaling), "
    "1000+k or 2000+k (instance k, 0..999, with multiplicative or additive Gaussian noise)"
)


def instance_seed(name: str, dim: int, instance: int) -> int:
    """A 32-bit seed that depends only on (name, dim, instance): stable across processes."""
    digest = hashlib.sha256(f"optbench:{name.lower()}:{dim}:{instance}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def split(name: str, instance: int) -> tuple[int, str]:
    """`instance` → (the id of its transform, its noise kind), or an error naming the ids."""
    kind, transform_id = divmod(instance, PER_KIND)
    if kind >= len(NOISE_KINDS):
        raise OptbenchError(f"{name}: instance {instance} is not available; allowed: {ALLOWED}")
    return transform_id, NOISE_KINDS[kind]


def rotation(dim: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random rotation matrix (Haar measure on SO(dim))."""
    if dim == 1:
        return np.ones((1, 1))
    return special_ortho_group.rvs(dim, random_state=rng)


def conditioning(dim: int) -> np.ndarray:
    """COCO's Λ: scales from 1 to sqrt(CONDITION), so curvatures differ by CONDITION."""
    return CONDITION ** (0.5 * np.arange(dim) / max(dim - 1, 1))


@dataclass(frozen=True, eq=False)
class Transform:
    """The affine map `z = origin + matrix (x - x_opt)` from instance to original coordinates."""

    origin: np.ndarray
    x_opt: np.ndarray
    matrix: np.ndarray

    def to_instance(self, z: np.ndarray) -> np.ndarray:
        """Original points (rows) → the instance points that map onto them."""
        return self.x_opt + np.linalg.solve(self.matrix, (np.atleast_2d(z) - self.origin).T).T


def make_transform(base: Landscape, seed: int) -> Transform:
    """A seeded rotation and scaling around a shifted optimum that keeps every minimiser inside."""
    rng = np.random.default_rng(seed)
    dim = base.dim
    matrix = conditioning(dim)[:, None] * rotation(dim, rng)
    origin = base.minimizers[0]
    offsets = np.linalg.solve(matrix, (base.minimizers - origin).T).T
    width = base.upper - base.lower
    inner_low, inner_high = base.lower + MARGIN * width, base.upper - MARGIN * width
    spread = offsets.max(axis=0) - offsets.min(axis=0)
    zoom = max(1.0, float(np.max(spread / (inner_high - inner_low))))
    offsets, matrix = offsets / zoom, matrix * zoom
    low, high = inner_low - offsets.min(axis=0), inner_high - offsets.max(axis=0)
    x_opt = low + rng.random(dim) * np.maximum(high - low, 0.0)
    return Transform(origin, x_opt, matrix)


@dataclass(frozen=True, eq=False)
class Transformed:
    """`fn` seen through a Transform; clipped to the original box when `box_bounded`."""

    fn: Callable[[Any], Any]
    transform: Transform
    lower: np.ndarray
    upper: np.ndarray
    box_bounded: bool

    def __call__(self, x: Any) -> Any:
        xp = array_namespace(x)
        t = self.transform
        z = xp.asarray(t.origin) + xp.asarray(t.matrix) @ (x - xp.asarray(t.x_opt))
        if not self.box_bounded:
            return self.fn(z)
        inside = xp.clip(z, xp.asarray(self.lower), xp.asarray(self.upper))
        return self.fn(inside) + PENALTY * xp.sum((z - inside) ** 2)


@dataclass(frozen=True, eq=False)
class MultiplicativeNoise:
    """COCO's Gaussian noise on the gap: `f_min + (f - f_min) · exp(beta · N(0, 1))`."""

    f_min: float
    seed: int
    beta: float = MULTIPLICATIVE_BETA

    def __call__(self, value: Any, x: Any, key: Any) -> Any:
        normal = jax.random.normal(jax.random.fold_in(key, self.seed), jnp.shape(value))
        return self.f_min + (value - self.f_min) * jnp.exp(self.beta * normal)


@dataclass(frozen=True, eq=False)
class AdditiveNoise:
    """Additive Gaussian noise: `f + sigma · N(0, 1)`."""

    seed: int
    sigma: float = ADDITIVE_SIGMA

    def __call__(self, value: Any, x: Any, key: Any) -> Any:
        normal = jax.random.normal(jax.random.fold_in(key, self.seed), jnp.shape(value))
        return value + self.sigma * normal


def instantiate(base: Landscape, instance: int, box_bounded: bool = False) -> Landscape:
    """Instance `instance` of `base` (instance 0 is `base` itself), minimisers carried along."""
    transform_id, noise = split(base.name, instance)
    if instance == 0:
        return base
    landscape = base
    tags = set(base.tags)
    notes = []
    if transform_id:
        transform = make_transform(base, instance_seed(base.name, base.dim, transform_id))
        tags |= {"shifted", "rotated"} if base.dim > 1 else {"shifted"}
        tags -= {"separable"} if base.dim > 1 else set()
        if box_bounded:
            tags.discard("differentiable")
        notes.append(f"instance {transform_id}: shifted, rotated and scaled")
        landscape = replace(
            base,
            fn=Transformed(base.fn, transform, base.lower, base.upper, box_bounded),
            minimizers=transform.to_instance(base.minimizers),
        )
    if noise != "none":
        seed = instance_seed(base.name, base.dim, instance)
        model = (
            MultiplicativeNoise(base.f_min, seed)
            if noise == "multiplicative"
            else AdditiveNoise(seed)
        )
        tags.add("noisy")
        notes.append(f"{noise} Gaussian noise")
        landscape = replace(landscape, noise=model)
    return replace(
        landscape,
        name=f"{base.name}[{instance}]",
        tags=frozenset(tags),
        description=f"{base.description} ({'; '.join(notes)})",
    )
