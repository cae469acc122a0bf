"""The classic scalable (n-dimensional) test functions, factories over the dimension.

Definitions, domains and minima follow Surjanovic & Bingham, Virtual Library of Simulation
Experiments (sfu.ca/~ssurjano, "sfu"), cross-checked with Jamil & Yang (2013). The default
dimension is 10 (a common size in the literature and in COCO's ladder 2, 3, 5, 10, 20, 40)
except Rosenbrock (2, its original form) and Trid (6, sfu's worked example).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from optbench.landscapes.base import ScalableLandscape, array_namespace, safe_sqrt

PI = math.pi
DEFAULT_DIM = 10
ST_X = -2.903534027771177
ST_F = -39.16616570377141
SCHWEFEL_X = 420.968746359982
SCHWEFEL_C = 418.9829
SCHWEFEL_F = SCHWEFEL_C - 418.98288727243374


def _index(x):
    return array_namespace(x).arange(1, x.shape[0] + 1)


def _constant_point(value: float, dim: int) -> np.ndarray:
    return np.full((1, dim), value)


def _fixed_box(low: float, high: float, dim: int) -> tuple[float, float]:
    return low, high


def _per_dim(value: float, dim: int) -> float:
    return value * dim


def _at(value: float) -> partial:
    """The single minimiser (value, ..., value) in any dimension, as a picklable partial."""
    return partial(_constant_point, value)


def _box(low: float, high: float) -> partial:
    return partial(_fixed_box, low, high)


_zero = partial(_per_dim, 0.0)


def sphere_fn(x):
    """Sphere (De Jong F1): Σ x_i². sfu."""
    xp = array_namespace(x)
    return xp.sum(x**2)


sphere = ScalableLandscape(
    name="sphere",
    fn=sphere_fn,
    bounds=_box(-5.12, 5.12),
    minimizers=_at(0.0),
    f_min=_zero,
    default_dim=DEFAULT_DIM,
    tags=frozenset({"unimodal", "separable", "differentiable"}),
    description="Sphere: Σ x_i², minimum 0 at the origin. Source: De Jong (1975); sfu.",
)


def sum_squares_fn(x):
    """Sum of squares (axis-parallel hyper-ellipsoid): Σ i x_i². sfu."""
    xp = array_namespace(x)
    return xp.sum(_index(x) * x**2)


sum_squares = ScalableLandscape(
    name="sum-squares",
    fn=sum_squares_fn,
    bounds=_box(-10.0, 10.0),
    minimizers=_at(0.0),
    f_min=_zero,
    default_dim=DEFAULT_DIM,
    tags=frozenset({"unimodal", "separable", "differentiable"}),
    description="Sum of squares: Σ i x_i², an axis-aligned ellipsoid, minimum 0 at the origin. "
    "Source: sfu; Jamil & Yang (2013).",
)


def rosenbrock_fn(x):
    """Rosenbrock (1960): Σ 100 (x_{i+1} - x_i²)² + (x_i - 1)²; a curved flat valley. sfu."""
    xp = array_namespace(x)
    return xp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (x[:-1] - 1) ** 2)


def _rosenbrock_tags(dim: int) -> frozenset[str]:
    modality = "multimodal" if dim >= 4 else "unimodal"
    return frozenset({modality, "differentiable", "flat", "ill-conditioned"})


rosenbrock = ScalableLandscape(
    name="rosenbrock",
    fn=rosenbrock_fn,
    bounds=_box(-5.0, 10.0),
    minimizers=_at(1.0),
    f_min=_zero,
    default_dim=2,
    min_dim=2,
    tags=_rosenbrock_tags(2),
    tags_in=_rosenbrock_tags,
    description="Rosenbrock: a curved, flat, ill-conditioned valley, minimum 0 at (1, ..., 1); "
    "a local minimum near (-1, 1, ..., 1) for 4 <= d <= 7. Source: Rosenbrock (1960); sfu.",
)


def rastrigin_fn(x):
    """Rastrigin: 10 d + Σ (x_i² - 10 cos 2πx_i); a grid of local minima. sfu."""
    xp = array_namespace(x)
    return 10 * x.shape[0] + xp.sum(x**2 - 10 * xp.cos(2 * PI * x))


rastrigin = ScalableLandscape(
    name="rastrigin",
    fn=rastrigin_fn,
    bounds=_box(-5.12, 5.12),
    minimizers=_at(0.0),
    f_min=_zero,
    default_dim=DEFAULT_DIM,
    tags=frozenset({"multimodal", "separable", "differentiable"}),
    description="Rastrigin: a regular grid of local minima, minimum 0 at the origin. "
    "Source: Rastrigin (1974); sfu.",
)


def ackley_fn(x):
    """Ackley (a=20, b=0.2, c=2π): -a exp(-b √mean(x²)) - exp(mean cos cx) + a + e. sfu."""
    xp = array_namespace(x)
    rms = safe_sqrt(xp.mean(x**2))
    return -20 * xp.exp(-0.2 * rms) - xp.exp(xp.mean(xp.cos(2 * PI * x))) + 20 + math.e


ackley = ScalableLandscape(
    name="ackley",
    fn=ackley_fn,
    bounds=_box(-32.768, 32.768),
    minimizers=_at(0.0),
    f_min=_zero,
    default_dim=DEFAULT_DIM,
    tags=frozenset({"multimodal"}),
    description="Ackley: a nearly flat outer region and a cone-shaped hole (a kink at the "
    "minimum 0 at the origin). Source: Ackley (1987); sfu.",
)


def griewank_fn(x):
    """Griewank (1981): Σ x_i²/4000 - Π cos(x_i/√i) + 1. sfu."""
    xp = array_namespace(x)
    return xp.sum(x**2) / 4000 - xp.prod(xp.cos(x / xp.sqrt(_index(x)))) + 1


griewank = ScalableLandscape(
    name="griewank",
    fn=griewank_fn,
    bounds=_box(-600.0, 600.0),
    minimizers=_at(0.0),
    f_min=_zero,
    default_dim=DEFAULT_DIM,
    tags=frozenset({"multimodal", "differentiable"}),
    description="Griewank: many regularly spaced local minima, minimum 0 at the origin. "
    "Source: Griewank (1981); sfu.",
)


def styblinski_tang_fn(x):
    """Styblinski-Tang: ½ Σ (x_i⁴ - 16 x_i² + 5 x_i). sfu."""
    xp = array_namespace(x)
    return 0.5 * xp.sum(x**4 - 16 * x**2 + 5 * x)


styblinski_tang = ScalableLandscape(
    name="styblinski-tang",
    fn=styblinski_tang_fn,
    bounds=_box(-5.0, 5.0),
    minimizers=_at(ST_X),
    f_min=partial(_per_dim, ST_F),
    default_dim=DEFAULT_DIM,
    tags=frozenset({"multimodal", "separable", "differentiable"}),
    description="Styblinski-Tang: 2^d local minima, minimum -39.16617 d at x_i = -2.903534. "
    "Source: Styblinski & Tang (1990); sfu.",
)


def zakharov_fn(x):
    """Zakharov: Σ x_i² + (Σ ½ i x_i)² + (Σ ½ i x_i)⁴. sfu."""
    xp = array_namespace(x)
    weighted = xp.sum(0.5 * _index(x) * x)
    return xp.sum(x**2) + weighted**2 + weighted**4


zakharov = ScalableLandscape(
    name="zakharov",
    fn=zakharov_fn,
    bounds=_box(-5.0, 10.0),
    minimizers=_at(0.0),
    f_min=_zero,
    default_dim=DEFAULT_DIM,
    tags=frozenset({"unimodal", "differentiable", "ill-conditioned"}),
    description="Zakharov: a plate with a steep quartic ridge, minimum 0 at the origin. "
    "Source: sfu; Jamil & Yang (2013).",
)


def dixon_price_fn(x):
    """Dixon-Price: (x_1 - 1)² + Σ_{i>=2} i (2 x_i² - x_{i-1})². sfu."""
    xp = array_namespace(x)
    i = _index(x)[1:]
    return (x[0] - 1) ** 2 + xp.sum(i * (2 * x[1:] ** 2 - x[:-1]) ** 2)


def _dixon_price_minimizers(dim: int) -> np.ndarray:
    """x_i = 2^(-(2^i - 2) / 2^i); the last coordinate's sign is free (two minimisers)."""
    i = np.arange(1, dim + 1)
    point = 2.0 ** (-(2.0**i - 2) / 2.0**i)
    if dim == 1:
        return point[None, :]
    mirrored = point.copy()
    mirrored[-1] = -mirrored[-1]
    return np.stack([point, mirrored])


dixon_price = ScalableLandscape(
    name="dixon-price",
    fn=dixon_price_fn,
    bounds=_box(-10.0, 10.0),
    minimizers=_dixon_price_minimizers,
    f_min=_zero,
    default_dim=DEFAULT_DIM,
    tags=frozenset({"multimodal", "differentiable", "ill-conditioned"}),
    description="Dixon-Price: a curved valley, minimum 0 at x_i = 2^(-(2^i-2)/2^i) with the "
    "last coordinate of either sign. Source: Dixon & Price (1989); sfu.",
)


def trid_fn(x):
    """Trid: Σ (x_i - 1)² - Σ_{i>=2} x_i x_{i-1}; a convex bowl. sfu."""
    xp = array_namespace(x)
    return xp.sum((x - 1) ** 2) - xp.sum(x[1:] * x[:-1])


def _trid_minimizer(dim: int) -> np.ndarray:
    i = np.arange(1, dim + 1, dtype=np.float64)
    return (i * (dim + 1 - i))[None, :]


def _trid_f_min(dim: int) -> float:
    return -dim * (dim + 4) * (dim - 1) / 6


def _trid_bounds(dim: int) -> tuple[float, float]:
    return -(float(dim) ** 2), float(dim) ** 2


trid = ScalableLandscape(
    name="trid",
    fn=trid_fn,
    bounds=_trid_bounds,
    minimizers=_trid_minimizer,
    f_min=_trid_f_min,
    default_dim=6,
    min_dim=2,
    tags=frozenset({"unimodal", "differentiable", "ill-conditioned"}),
    description="Trid: a convex quadratic, minimum -d(d+4)(d-1)/6 at x_i = i(d+1-i) in "
    "[-d², d²]^d. Source: sfu.",
)


def schwefel_fn(x):
    """Schwefel 2.26: 418.9829 d - Σ x_i sin √|x_i|. sfu (Schwefel function)."""
    xp = array_namespace(x)
    return SCHWEFEL_C * x.shape[0] - xp.sum(x * xp.sin(safe_sqrt(xp.abs(x))))


schwefel = ScalableLandscape(
    name="schwefel",
    fn=schwefel_fn,
    bounds=_box(-500.0, 500.0),
    minimizers=_at(SCHWEFEL_X),
    f_min=partial(_per_dim, SCHWEFEL_F),
    default_dim=DEFAULT_DIM,
    tags=frozenset({"multimodal", "separable", "differentiable"}),
    description="Schwefel 2.26: deceptive, the best minimum far from the next best, at "
    "x_i = 420.9687 (value 1.2728e-5 d with sfu's constant). Source: Schwefel (1981); sfu.",
    box_bounded=True,
)


def levy_fn(x):
    """Levy: w = 1 + (x - 1)/4; sin²(πw_1) + Σ (w_i-1)²(1 + 10 sin²(πw_i + 1)) + last term. sfu."""
    xp = array_namespace(x)
    w = 1 + (x - 1) / 4
    body = (w[:-1] - 1) ** 2 * (1 + 10 * xp.sin(PI * w[:-1] + 1) ** 2)
    last = (w[-1] - 1) ** 2 * (1 + xp.sin(2 * PI * w[-1]) ** 2)
    return xp.sin(PI * w[0]) ** 2 + xp.sum(body) + last


levy = ScalableLandscape(
    name="levy",
    fn=levy_fn,
    bounds=_box(-10.0, 10.0),
    minimizers=_at(1.0),
    f_min=_zero,
    default_dim=DEFAULT_DIM,
    tags=frozenset({"multimodal", "differentiable"}),
    description="Levy: many local minima on rippled valleys, minimum 0 at (1, ..., 1). "
    "Source: sfu.",
)
