"""The classic two-dimensional test functions.

Definitions follow Surjanovic & Bingham, Virtual Library of Simulation Experiments
(sfu.ca/~ssurjano, "sfu") and Jamil & Yang, "A literature survey of benchmark functions for
global optimisation problems" (2013, "J&Y"). Minimisers and minima were recomputed to full
float64 precision (Newton's method on the published formula) and checked against those sources.
"""

from __future__ import annotations

import math

from optbench.landscapes.base import FixedLandscape, array_namespace, safe_sqrt

PI = math.pi
SMOOTH_UNIMODAL = frozenset({"unimodal", "differentiable"})
SMOOTH_MULTIMODAL = frozenset({"multimodal", "differentiable"})


def beale_fn(x):
    """Beale (1958): three squared residuals; a flat valley ending at (3, 0.5). sfu; J&Y."""
    x1, x2 = x[0], x[1]
    return (
        (1.5 - x1 + x1 * x2) ** 2 + (2.25 - x1 + x1 * x2**2) ** 2 + (2.625 - x1 + x1 * x2**3) ** 2
    )


beale = FixedLandscape(
    name="beale",
    fn=beale_fn,
    lower=(-4.5, -4.5),
    upper=(4.5, 4.5),
    minimizers=((3.0, 0.5),),
    f_min=0.0,
    tags=SMOOTH_UNIMODAL | {"flat"},
    description="Beale: a flat valley with sharp walls, minimum 0 at (3, 0.5). "
    "Source: Beale (1958); Jamil & Yang (2013).",
)


def booth_fn(x):
    """Booth: a quadratic bowl, (x1 + 2 x2 - 7)² + (2 x1 + x2 - 5)². sfu; J&Y."""
    return (x[0] + 2 * x[1] - 7) ** 2 + (2 * x[0] + x[1] - 5) ** 2


booth = FixedLandscape(
    name="booth",
    fn=booth_fn,
    lower=(-10.0, -10.0),
    upper=(10.0, 10.0),
    minimizers=((1.0, 3.0),),
    f_min=0.0,
    tags=SMOOTH_UNIMODAL,
    description="Booth: a quadratic bowl, minimum 0 at (1, 3). Source: sfu; Jamil & Yang.",
)


def matyas_fn(x):
    """Matyas: a plate-shaped quadratic, 0.26 (x1² + x2²) - 0.48 x1 x2. sfu; J&Y."""
    return 0.26 * (x[0] ** 2 + x[1] ** 2) - 0.48 * x[0] * x[1]


matyas = FixedLandscape(
    name="matyas",
    fn=matyas_fn,
    lower=(-10.0, -10.0),
    upper=(10.0, 10.0),
    minimizers=((0.0, 0.0),),
    f_min=0.0,
    tags=SMOOTH_UNIMODAL | {"flat", "ill-conditioned"},
    description="Matyas: a flat, ill-conditioned (25:1) quadratic plate, minimum 0 at the origin. "
    "Source: sfu; Jamil & Yang.",
)


def himmelblau_fn(x):
    """Himmelblau (1972): (x1² + x2 - 11)² + (x1 + x2² - 7)²; four global minima. J&Y."""
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


himmelblau = FixedLandscape(
    name="himmelblau",
    fn=himmelblau_fn,
    lower=(-5.0, -5.0),
    upper=(5.0, 5.0),
    minimizers=(
        (3.0, 2.0),
        (-2.805118086952745, 3.131312518250573),
        (-3.779310253377747, -3.2831859912861696),
        (3.5844283403304917, -1.8481265269644036),
    ),
    f_min=0.0,
    tags=SMOOTH_MULTIMODAL,
    description="Himmelblau: four global minima of value 0. "
    "Source: Himmelblau (1972), Applied Nonlinear Programming; Jamil & Yang.",
)


def goldstein_price_fn(x):
    """Goldstein & Price (1971): a product of two polynomial factors, minimum 3. sfu; J&Y."""
    x1, x2 = x[0], x[1]
    a = 1 + (x1 + x2 + 1) ** 2 * (19 - 14 * x1 + 3 * x1**2 - 14 * x2 + 6 * x1 * x2 + 3 * x2**2)
    b = 30 + (2 * x1 - 3 * x2) ** 2 * (
        18 - 32 * x1 + 12 * x1**2 + 48 * x2 - 36 * x1 * x2 + 27 * x2**2
    )
    return a * b


goldstein_price = FixedLandscape(
    name="goldstein-price",
    fn=goldstein_price_fn,
    lower=(-2.0, -2.0),
    upper=(2.0, 2.0),
    minimizers=((0.0, -1.0),),
    f_min=3.0,
    tags=SMOOTH_MULTIMODAL,
    description="Goldstein-Price: values over five decades, minimum 3 at (0, -1). "
    "Source: Goldstein & Price (1971); sfu; Jamil & Yang.",
)


def six_hump_camel_fn(x):
    """Six-hump camel: (4 - 2.1 x1² + x1⁴/3) x1² + x1 x2 + (4 x2² - 4) x2². sfu; J&Y."""
    x1, x2 = x[0], x[1]
    return (4 - 2.1 * x1**2 + x1**4 / 3) * x1**2 + x1 * x2 + (-4 + 4 * x2**2) * x2**2


six_hump_camel = FixedLandscape(
    name="six-hump-camel",
    fn=six_hump_camel_fn,
    lower=(-3.0, -2.0),
    upper=(3.0, 2.0),
    minimizers=(
        (0.08984201310031806, -0.7126564030207396),
        (-0.08984201310031806, 0.7126564030207396),
    ),
    f_min=-1.0316284534898774,
    tags=SMOOTH_MULTIMODAL,
    description="Six-hump camel: six local minima, two global (-1.0316) at ±(0.0898, -0.7127). "
    "Source: Dixon & Szegő (1978); sfu; Jamil & Yang.",
)


def three_hump_camel_fn(x):
    """Three-hump camel: 2 x1² - 1.05 x1⁴ + x1⁶/6 + x1 x2 + x2². sfu; J&Y."""
    x1, x2 = x[0], x[1]
    return 2 * x1**2 - 1.05 * x1**4 + x1**6 / 6 + x1 * x2 + x2**2


three_hump_camel = FixedLandscape(
    name="three-hump-camel",
    fn=three_hump_camel_fn,
    lower=(-5.0, -5.0),
    upper=(5.0, 5.0),
    minimizers=((0.0, 0.0),),
    f_min=0.0,
    tags=SMOOTH_MULTIMODAL,
    description="Three-hump camel: three local minima, the global 0 at the origin. "
    "Source: sfu; Jamil & Yang.",
)


def easom_fn(x):
    """Easom (1990): -cos x1 cos x2 exp(-((x1-π)² + (x2-π)²)); a needle in a plateau. sfu."""
    xp = array_namespace(x)
    x1, x2 = x[0], x[1]
    return -xp.cos(x1) * xp.cos(x2) * xp.exp(-((x1 - PI) ** 2) - (x2 - PI) ** 2)


easom = FixedLandscape(
    name="easom",
    fn=easom_fn,
    lower=(-100.0, -100.0),
    upper=(100.0, 100.0),
    minimizers=((PI, PI),),
    f_min=-1.0,
    tags=SMOOTH_MULTIMODAL | {"flat"},
    description="Easom: a flat plateau at 0 with one narrow well, minimum -1 at (π, π). "
    "Source: Easom (1990); sfu; Jamil & Yang.",
)


def cross_in_tray_fn(x):
    """Cross-in-tray: -1e-4 (|sin x1 sin x2 exp(|100 - ‖x‖/π|)| + 1)^0.1. sfu; J&Y."""
    xp = array_namespace(x)
    x1, x2 = x[0], x[1]
    radius = safe_sqrt(x1**2 + x2**2)
    inner = xp.abs(xp.sin(x1) * xp.sin(x2) * xp.exp(xp.abs(100 - radius / PI)))
    return -1e-4 * (inner + 1) ** 0.1


_CIT = 1.3494066171539107
cross_in_tray = FixedLandscape(
    name="cross-in-tray",
    fn=cross_in_tray_fn,
    lower=(-10.0, -10.0),
    upper=(10.0, 10.0),
    minimizers=((_CIT, _CIT), (_CIT, -_CIT), (-_CIT, _CIT), (-_CIT, -_CIT)),
    f_min=-2.062611870822738,
    tags=frozenset({"multimodal"}),
    description="Cross-in-tray: many minima, kinks along the axes; four global (-2.06261) "
    "at (±1.34941, ±1.34941). Source: sfu; Jamil & Yang.",
    box_bounded=True,
)


def eggholder_fn(x):
    """Eggholder: -(x2+47) sin√|x2 + x1/2 + 47| - x1 sin√|x1 - (x2+47)|. sfu; J&Y."""
    xp = array_namespace(x)
    x1, x2 = x[0], x[1]
    return -(x2 + 47) * xp.sin(safe_sqrt(xp.abs(x2 + x1 / 2 + 47))) - x1 * xp.sin(
        safe_sqrt(xp.abs(x1 - (x2 + 47)))
    )


eggholder = FixedLandscape(
    name="eggholder",
    fn=eggholder_fn,
    lower=(-512.0, -512.0),
    upper=(512.0, 512.0),
    minimizers=((512.0, 404.23180511375784),),
    f_min=-959.640662720851,
    tags=frozenset({"multimodal"}),
    description="Eggholder: deep irregular wells; minimum -959.6407 on the boundary at "
    "(512, 404.2318). Source: sfu; Jamil & Yang.",
    box_bounded=True,
)


def holder_table_fn(x):
    """Hölder table: -|sin x1 cos x2 exp(|1 - ‖x‖/π|)|. sfu; J&Y."""
    xp = array_namespace(x)
    x1, x2 = x[0], x[1]
    radius = safe_sqrt(x1**2 + x2**2)
    return -xp.abs(xp.sin(x1) * xp.cos(x2) * xp.exp(xp.abs(1 - radius / PI)))


_HT1, _HT2 = 8.055023475736563, 9.664590019241272
holder_table = FixedLandscape(
    name="holder-table",
    fn=holder_table_fn,
    lower=(-10.0, -10.0),
    upper=(10.0, 10.0),
    minimizers=((_HT1, _HT2), (_HT1, -_HT2), (-_HT1, _HT2), (-_HT1, -_HT2)),
    f_min=-19.208502567886732,
    tags=frozenset({"multimodal"}),
    description="Hölder table: many minima with kinks; four global (-19.2085) at "
    "(±8.05502, ±9.66459). Source: sfu; Jamil & Yang.",
    box_bounded=True,
)


def mccormick_fn(x):
    """McCormick: sin(x1 + x2) + (x1 - x2)² - 1.5 x1 + 2.5 x2 + 1. sfu; J&Y."""
    xp = array_namespace(x)
    x1, x2 = x[0], x[1]
    return xp.sin(x1 + x2) + (x1 - x2) ** 2 - 1.5 * x1 + 2.5 * x2 + 1


mccormick = FixedLandscape(
    name="mccormick",
    fn=mccormick_fn,
    lower=(-1.5, -3.0),
    upper=(4.0, 4.0),
    minimizers=((0.5 - PI / 3, -0.5 - PI / 3),),
    f_min=-math.sqrt(3) / 2 - PI / 3,
    tags=SMOOTH_MULTIMODAL,
    description="McCormick: minimum -√3/2 - π/3 = -1.91322 at (1/2 - π/3, -1/2 - π/3); "
    "unbounded below outside its box. Source: sfu; Jamil & Yang.",
    box_bounded=True,
)


def schaffer2_fn(x):
    """Schaffer N.2: 0.5 + (sin²(x1² - x2²) - 0.5) / (1 + 0.001 ‖x‖²)². sfu; J&Y."""
    xp = array_namespace(x)
    x1, x2 = x[0], x[1]
    return 0.5 + (xp.sin(x1**2 - x2**2) ** 2 - 0.5) / (1 + 0.001 * (x1**2 + x2**2)) ** 2


schaffer2 = FixedLandscape(
    name="schaffer2",
    fn=schaffer2_fn,
    lower=(-100.0, -100.0),
    upper=(100.0, 100.0),
    minimizers=((0.0, 0.0),),
    f_min=0.0,
    tags=SMOOTH_MULTIMODAL,
    description="Schaffer N.2: concentric-hyperbola ripples, minimum 0 at the origin. "
    "Source: sfu; Jamil & Yang.",
)


def schaffer4_fn(x):
    """Schaffer N.4: 0.5 + (cos²(sin|x1² - x2²|) - 0.5) / (1 + 0.001 ‖x‖²)². sfu; J&Y."""
    xp = array_namespace(x)
    x1, x2 = x[0], x[1]
    ripple = xp.cos(xp.sin(xp.abs(x1**2 - x2**2))) ** 2
    return 0.5 + (ripple - 0.5) / (1 + 0.001 * (x1**2 + x2**2)) ** 2


_S4 = 1.2531318314637332
schaffer4 = FixedLandscape(
    name="schaffer4",
    fn=schaffer4_fn,
    lower=(-100.0, -100.0),
    upper=(100.0, 100.0),
    minimizers=((0.0, _S4), (0.0, -_S4), (_S4, 0.0), (-_S4, 0.0)),
    f_min=0.29257863203598056,
    tags=SMOOTH_MULTIMODAL,
    description="Schaffer N.4: four global minima 0.292579 at (0, ±1.25313) and (±1.25313, 0). "
    "Source: sfu; Jamil & Yang.",
)


def bukin6_fn(x):
    """Bukin N.6: 100 √|x2 - 0.01 x1²| + 0.01 |x1 + 10|; a kinked ridge. sfu; J&Y."""
    xp = array_namespace(x)
    x1, x2 = x[0], x[1]
    # 100 √|x2 - x1²/100| written as 10 √|100 x2 - x1²|: exact at the kink under XLA's FMA.
    return 10 * safe_sqrt(xp.abs(100 * x2 - x1**2)) + 0.01 * xp.abs(x1 + 10)


bukin6 = FixedLandscape(
    name="bukin6",
    fn=bukin6_fn,
    lower=(-15.0, -3.0),
    upper=(-5.0, 3.0),
    minimizers=((-10.0, 1.0),),
    f_min=0.0,
    tags=frozenset({"multimodal", "ill-conditioned"}),
    description="Bukin N.6: a non-smooth parabolic ridge, minimum 0 at (-10, 1). "
    "Source: sfu; Jamil & Yang.",
)


def levi13_fn(x):
    """Lévi N.13: sin²(3πx1) + (x1-1)²(1 + sin²(3πx2)) + (x2-1)²(1 + sin²(2πx2)). sfu."""
    xp = array_namespace(x)
    x1, x2 = x[0], x[1]
    return (
        xp.sin(3 * PI * x1) ** 2
        + (x1 - 1) ** 2 * (1 + xp.sin(3 * PI * x2) ** 2)
        + (x2 - 1) ** 2 * (1 + xp.sin(2 * PI * x2) ** 2)
    )


levi13 = FixedLandscape(
    name="levi13",
    fn=levi13_fn,
    lower=(-10.0, -10.0),
    upper=(10.0, 10.0),
    minimizers=((1.0, 1.0),),
    f_min=0.0,
    tags=SMOOTH_MULTIMODAL,
    description="Lévi N.13: oscillating valleys, minimum 0 at (1, 1). "
    "Source: sfu (Levy function N. 13).",
)

_BRANIN_B, _BRANIN_C, _BRANIN_T = 5.1 / (4 * PI**2), 5 / PI, 1 / (8 * PI)


def branin_fn(x):
    """Branin-Hoo: (x2 - b x1² + c x1 - 6)² + 10 (1 - t) cos x1 + 10. sfu; J&Y."""
    xp = array_namespace(x)
    x1, x2 = x[0], x[1]
    return (
        (x2 - _BRANIN_B * x1**2 + _BRANIN_C * x1 - 6) ** 2 + 10 * (1 - _BRANIN_T) * xp.cos(x1) + 10
    )


branin = FixedLandscape(
    name="branin",
    fn=branin_fn,
    lower=(-5.0, 0.0),
    upper=(10.0, 15.0),
    minimizers=((-PI, 12.275), (PI, 2.275), (3 * PI, 2.475)),
    f_min=5 / (4 * PI),
    tags=SMOOTH_MULTIMODAL,
    description="Branin: three global minima 5/(4π) = 0.397887 at (-π, 12.275), (π, 2.275), "
    "(3π, 2.475). Source: Dixon & Szegő (1978); sfu; Jamil & Yang.",
    box_bounded=True,
)


def bohachevsky1_fn(x):
    """Bohachevsky N.1: x1² + 2 x2² - 0.3 cos 3πx1 - 0.4 cos 4πx2 + 0.7. sfu; J&Y."""
    xp = array_namespace(x)
    x1, x2 = x[0], x[1]
    return x1**2 + 2 * x2**2 - 0.3 * xp.cos(3 * PI * x1) - 0.4 * xp.cos(4 * PI * x2) + 0.7


bohachevsky1 = FixedLandscape(
    name="bohachevsky1",
    fn=bohachevsky1_fn,
    lower=(-100.0, -100.0),
    upper=(100.0, 100.0),
    minimizers=((0.0, 0.0),),
    f_min=0.0,
    tags=SMOOTH_MULTIMODAL | {"separable"},
    description="Bohachevsky N.1: a bowl with cosine ripples, minimum 0 at the origin. "
    "Source: Bohachevsky et al. (1986); sfu; Jamil & Yang.",
)


def _shubert_factor(t):
    xp = array_namespace(t)
    i = xp.arange(1, 6)
    return xp.sum(i * xp.cos((i + 1) * t + i))


def shubert_fn(x):
    """Shubert: Π over both coordinates of Σ_{i=1..5} i cos((i+1) t + i). sfu; J&Y."""
    return _shubert_factor(x[0]) * _shubert_factor(x[1])


# The 1-D factor has period 2π; in [-10, 10] it reaches its maximum 14.50801 three times and
# its minimum -12.87089 three times, so the product's minimum is reached at 3 × 3 × 2 points.
_SHUBERT_MAX = [-0.8003211004719731 + 2 * PI * k for k in (-1, 0, 1)]
_SHUBERT_MIN = [-1.425128428319761 + 2 * PI * k for k in (-1, 0, 1)]
shubert = FixedLandscape(
    name="shubert",
    fn=shubert_fn,
    lower=(-10.0, -10.0),
    upper=(10.0, 10.0),
    minimizers=tuple((a, b) for a in _SHUBERT_MAX for b in _SHUBERT_MIN)
    + tuple((b, a) for a in _SHUBERT_MAX for b in _SHUBERT_MIN),
    f_min=-186.73090883102384,
    tags=SMOOTH_MULTIMODAL,
    description="Shubert: 760 local minima, 18 global (-186.7309) in [-10, 10]². "
    "Source: sfu; Jamil & Yang.",
    box_bounded=True,
)


def michalewicz_fn(x):
    """Michalewicz (m = 10): -Σ sin(x_i) sin^20(i x_i² / π); steep narrow valleys. sfu."""
    xp = array_namespace(x)
    i = xp.arange(1, x.shape[0] + 1)
    return -xp.sum(xp.sin(x) * xp.sin(i * x**2 / PI) ** 20)


michalewicz = FixedLandscape(
    name="michalewicz",
    fn=michalewicz_fn,
    lower=(0.0, 0.0),
    upper=(PI, PI),
    minimizers=((2.2029055201726093, PI / 2),),
    f_min=-1.8013034100985528,
    tags=SMOOTH_MULTIMODAL | {"separable", "flat"},
    description="Michalewicz (2-D, m = 10): flat plateaus cut by narrow valleys, minimum "
    "-1.80130 at (2.20291, π/2). Source: Michalewicz (1992); sfu.",
    box_bounded=True,
)
