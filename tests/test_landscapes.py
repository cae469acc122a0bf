"""The landscapes against the literature: minima, minimisers, probe values, tags, bad input.

Every number written here was computed independently of optbench, from the published
formula in plain Python `math` (a separate script), or copied from the source named.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize
from click.testing import CliRunner
from threadpoolctl import threadpool_limits

from optbench import registry, suites
from optbench.cli import main
from optbench.errors import OptbenchError

PI = math.pi
TWO_D = [
    "beale", "booth", "matyas", "himmelblau", "goldstein-price", "six-hump-camel",
    "three-hump-camel", "easom", "cross-in-tray", "eggholder", "holder-table", "mccormick",
    "schaffer2", "schaffer4", "bukin6", "levi13", "branin", "bohachevsky1", "shubert",
    "michalewicz",
]  # fmt: skip
N_D = [
    "sphere", "sum-squares", "rosenbrock", "rastrigin", "ackley", "griewank", "styblinski-tang",
    "zakharov", "dixon-price", "trid", "schwefel", "levy",
]  # fmt: skip
NOT_DIFFERENTIABLE = {"cross-in-tray", "eggholder", "holder-table", "bukin6", "ackley"}

# (point, value): the published formula evaluated in plain Python, by a separate script.
PROBES = {
    "beale": [((1, 1), 14.203125), ((2, -1), 13.203125), ((-3.5, 4.0), 50075.578125)],
    "booth": [((0, 0), 74.0), ((2, -1), 53.0), ((-7.5, 3.25), 344.5625)],
    "matyas": [((1, 1), 0.040000000000000036), ((2, -1), 2.26), ((-7.5, 3.25), 29.07125)],
    "himmelblau": [((0, 0), 170.0), ((1, -1), 146.0), ((-4.5, 2.5), 165.625)],
    "goldstein-price": [((0, 0), 600.0), ((1, 1), 1876.0), ((-1.5, 0.5), 3082.6875)],
    "six-hump-camel": [
        ((0.5, -0.5), -0.1260416666666666), ((1, 1), 3.2333333333333334),
        ((-2.5, 1.5), 31.848958333333336),
    ],
    "three-hump-camel": [
        ((1, 1), 3.1166666666666667), ((-2, 1), 0.8666666666666654),
        ((3.5, -4.0), 175.31197916666667),
    ],
    "easom": [
        ((3, 3), -0.9415641575364946), ((2, 4), -0.03536590473969731),
        ((0, 0), -2.675287991074243e-09),
    ],
    "cross-in-tray": [
        ((1, 1), -2.03424158303853), ((2, 0.5), -1.8984037313385747),
        ((-4.5, 7.0), -1.616868458011908),
    ],
    "eggholder": [
        ((0, 0), -25.460337185286313), ((100, -200), -81.68626748365273),
        ((-400.5, 300.25), 469.4251815520146),
    ],
    "holder-table": [
        ((1, 1), -0.7878966325201032), ((2, 0.5), -1.1253792413298007),
        ((-4.5, 7.0), -3.832998649777762),
    ],
    "mccormick": [((0, 0), 1.0), ((1, -1), 1.0), ((3.5, 2.0), 2.294459674429608)],
    "schaffer2": [
        ((1, 1), 0.0019940159600957408), ((1, 2), 0.02467994027357423),
        ((-30.5, 12.25), 0.5627588703175954),
    ],
    "schaffer4": [
        ((1, 1), 0.9980059840399043), ((1, 2), 0.9754506010204307),
        ((-30.5, 12.25), 0.4786318627151769),
    ],
    "bukin6": [
        ((-10, 0), 100.0), ((-8, 0.5), 37.43657386773942), ((-14.5, 2.5), 63.09260106459245),
    ],
    "levi13": [((0, 0), 2.0), ((1, 2), 1.0), ((-3.25, 4.5), 48.875)],
    "branin": [
        ((0, 0), 55.602112642270264), ((5, 5), 26.622742555461393),
        ((-2.5, 11.0), 2.3530063844350444),
    ],
    "bohachevsky1": [((1, 1), 3.6), ((0.5, -0.25), 1.475), ((-30.5, 12.25), 1231.475)],
    "shubert": [
        ((0, 0), 19.875836249802127), ((1, 2), 1.4675729549059044),
        ((-7.5, 3.25), -22.023688488456177),
    ],
    "michalewicz": [
        ((1, 1), -2.5573872831813936e-05), ((2, 1.5), -1.1932462893425098),
        ((0.5, 3.0), -3.6755801116192943e-07),
    ],
    "sphere": [((0.5, -1.25, 2.0), 5.8125), ((1.0, 2.0, 3.0), 14.0), ((-3.5, 0.25, 4.75), 34.875)],
    "sum-squares": [
        ((0.5, -1.25, 2.0), 15.375), ((1.0, 2.0, 3.0), 36.0), ((-3.5, 0.25, 4.75), 80.0625),
    ],
    "rosenbrock": [
        ((0.5, -1.25, 2.0), 249.453125), ((1.0, 2.0, 3.0), 201.0),
        ((-3.5, 0.25, 4.75), 16618.078125),
    ],
    "rastrigin": [
        ((0.5, -1.25, 2.0), 35.8125), ((1.0, 2.0, 3.0), 14.0), ((-3.5, 0.25, 4.75), 74.875),
    ],
    "ackley": [
        ((0.5, -1.25, 2.0), 6.5782241842650535), ((1.0, 2.0, 3.0), 7.0164536082694),
        ((-3.5, 0.25, 4.75), 11.888735714620106),
    ],
    "griewank": [
        ((0.5, -1.25, 2.0), 0.7765112122955335), ((1.0, 2.0, 3.0), 1.0170279701835734),
        ((-3.5, 0.25, 4.75), 0.15933256262467876),
    ],
    "styblinski-tang": [
        ((0.5, -1.25, 2.0), -34.123046875), ((1.0, 2.0, 3.0), -48.0),
        ((-3.5, 0.25, 4.75), 54.31640625),
    ],
    "zakharov": [
        ((0.5, -1.25, 2.0), 25.8125), ((1.0, 2.0, 3.0), 2464.0),
        ((-3.5, 0.25, 4.75), 1067.644775390625),
    ],
    "dixon-price": [
        ((0.5, -1.25, 2.0), 270.71875), ((1.0, 2.0, 3.0), 866.0),
        ((-3.5, 0.25, 4.75), 6087.828125),
    ],
    "trid": [((0.5, -1.25, 2.0), 9.4375), ((1.0, 2.0, 3.0), -3.0), ((-3.5, 0.25, 4.75), 34.5625)],
    "schwefel": [
        ((0.5, -1.25, 2.0), 1255.7724023217293), ((1.0, 2.0, 3.0), 1251.1706171882354),
        ((-3.5, 0.25, 4.75), 1256.2754983409952),
    ],
    "levy": [
        ((0.5, -1.25, 2.0), 2.178652551829744), ((1.0, 2.0, 3.0), 0.9091554458830255),
        ((-3.5, 0.25, 4.75), 6.632394995938286),
    ],
}  # fmt: skip
POINT_10D = (-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
PROBES_10D = {
    "sphere": 1.05, "sum-squares": 8.25, "rosenbrock": 63.06, "rastrigin": 101.05,
    "ackley": 2.9733227603330694, "griewank": 0.1046690995602918, "styblinski-tang": -4.53135,
    "zakharov": 4701.61640625, "dixon-price": 2.7484, "trid": 7.27,
    "schwefel": 4188.848073961295, "levy": 1.5404418519134861,
}  # fmt: skip

# The minima and minimisers as the sources print them, to the precision they print: sfu.ca/~ssurjano
# (Surjanovic & Bingham), Wikipedia "Test functions for optimization" (Himmelblau, Schaffer N.4),
# argmin-testfunctions and benchmarkfcns.info (Cross-in-tray, Hölder table, Eggholder).
PUBLISHED_2D = {
    "beale": (0.0, [(3, 0.5)], 1e-12),
    "booth": (0.0, [(1, 3)], 1e-12),
    "matyas": (0.0, [(0, 0)], 1e-12),
    "himmelblau": (
        0.0,
        [(3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)],
        1e-6,
    ),
    "goldstein-price": (3.0, [(0, -1)], 1e-12),
    "six-hump-camel": (-1.0316, [(0.0898, -0.7126), (-0.0898, 0.7126)], 1e-4),
    "three-hump-camel": (0.0, [(0, 0)], 1e-12),
    "easom": (-1.0, [(PI, PI)], 1e-12),
    "cross-in-tray": (
        -2.06261,
        [(1.34941, -1.34941), (1.34941, 1.34941), (-1.34941, 1.34941), (-1.34941, -1.34941)],
        1e-5,
    ),
    "eggholder": (-959.6407, [(512, 404.2319)], 1e-4),
    "holder-table": (
        -19.2085,
        [(8.05502, 9.66459), (8.05502, -9.66459), (-8.05502, 9.66459), (-8.05502, -9.66459)],
        1e-4,
    ),
    "mccormick": (-1.9133, [(-0.54719, -1.54719)], 1e-4),
    "schaffer2": (0.0, [(0, 0)], 1e-12),
    "schaffer4": (0.292579, [(0, 1.25313), (0, -1.25313), (1.25313, 0), (-1.25313, 0)], 1e-5),
    "bukin6": (0.0, [(-10, 1)], 1e-12),
    "levi13": (0.0, [(1, 1)], 1e-12),
    "branin": (0.397887, [(-PI, 12.275), (PI, 2.275), (9.42478, 2.475)], 1e-5),
    "bohachevsky1": (0.0, [(0, 0)], 1e-12),
    "michalewicz": (-1.8013, [(2.20, 1.57)], 1e-2),
}


@functools.cache
def _make(name: str, dim: int | None = None):
    """One landscape object per (name, dim), so each compiles once for the whole module."""
    return registry.landscape(name).make(dim=dim)


def _all_landscapes():
    """Every landscape at its default dimension, plus the n-D ones in 1 (or 2), 3 and 10-D."""
    cases = [(name, None) for name in TWO_D]
    for name in N_D:
        low = registry.landscape(name).min_dim
        cases += [(name, dim) for dim in sorted({low, 3, 10, registry.landscape(name).default_dim})]
    return cases


def test_every_landscape_is_registered_with_metadata():
    names = registry.names("landscape")
    assert set(TWO_D + N_D) <= set(names) and len(set(TWO_D + N_D)) == 32
    for name in TWO_D + N_D:
        plugin = registry.landscape(name)
        assert plugin.scalable == (name in N_D)
        assert plugin.description and "Source" in plugin.description
        assert plugin.fn.__doc__ and ("sfu" in plugin.fn.__doc__ or "J&Y" in plugin.fn.__doc__)
        assert ("unimodal" in plugin.tags) != ("multimodal" in plugin.tags)
        assert ("differentiable" in plugin.tags) == (name not in NOT_DIFFERENTIABLE)


@pytest.mark.parametrize(("name", "dim"), _all_landscapes())
def test_every_minimizer_attains_f_min(name, dim):
    landscape = _make(name, dim)
    assert landscape.minimizers.shape[1] == landscape.dim
    assert np.all(landscape.minimizers >= landscape.lower)
    assert np.all(landscape.minimizers <= landscape.upper)
    tolerance = max(1e-8, 1e-8 * abs(landscape.f_min))
    for point in landscape.minimizers:
        assert abs(landscape(point) - landscape.f_min) <= tolerance
    assert len({tuple(np.round(m, 9)) for m in landscape.minimizers}) == len(landscape.minimizers)


@pytest.mark.parametrize(
    ("name", "dim"), [case for case in _all_landscapes() if case[0] not in NOT_DIFFERENTIABLE]
)
def test_gradient_vanishes_at_every_minimizer_of_a_differentiable_landscape(name, dim):
    landscape = _make(name, dim)
    assert "differentiable" in landscape.tags
    gradients = np.asarray(jax.jit(jax.vmap(jax.grad(landscape.fn)))(landscape.minimizers))
    assert np.max(np.abs(gradients)) < 1e-6


@pytest.mark.parametrize("name", list(PROBES))
def test_probe_values_match_the_published_formula(name):
    for point, expected in PROBES[name]:
        landscape = _make(name, len(point) if name in N_D else None)
        assert landscape(np.array(point, dtype=float)) == pytest.approx(
            expected, rel=1e-12, abs=1e-14
        )


@pytest.mark.parametrize("name", N_D)
def test_ten_dimensional_probe(name):
    landscape = _make(name, 10)
    assert landscape(np.array(POINT_10D)) == pytest.approx(PROBES_10D[name], rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name", list(PUBLISHED_2D))
def test_minima_agree_with_the_published_values(name):
    f_min, points, tol = PUBLISHED_2D[name]
    landscape = _make(name)
    assert landscape.f_min == pytest.approx(f_min, abs=tol)
    assert len(landscape.minimizers) == len(points)
    for point in points:
        assert np.min(np.max(np.abs(landscape.minimizers - point), axis=1)) < tol


def test_shubert_has_eighteen_global_minimizers_at_the_published_value():
    landscape = _make("shubert")
    assert len(landscape.minimizers) == 18 and landscape.f_min == pytest.approx(-186.7309, abs=1e-4)


@pytest.mark.parametrize("dim", [2, 5, 10])
def test_n_dimensional_minima_agree_with_the_published_formulas(dim):
    """sfu: the minimiser and minimum of each n-D function as a function of d."""
    ones, zeros = np.ones(dim), np.zeros(dim)
    dixon = 2.0 ** (-(2.0 ** np.arange(1, dim + 1) - 2) / 2.0 ** np.arange(1, dim + 1))
    trid = np.arange(1, dim + 1) * (dim + 1 - np.arange(1, dim + 1))
    expected = {
        "sphere": (0.0, zeros), "sum-squares": (0.0, zeros), "rosenbrock": (0.0, ones),
        "rastrigin": (0.0, zeros), "ackley": (0.0, zeros), "griewank": (0.0, zeros),
        "styblinski-tang": (-39.16616570377142 * dim, np.full(dim, -2.903534)),
        "zakharov": (0.0, zeros), "dixon-price": (0.0, dixon),
        "trid": (-dim * (dim + 4) * (dim - 1) / 6, trid),
        "schwefel": (1.2727566e-5 * dim, np.full(dim, 420.9687)), "levy": (0.0, ones),
    }  # fmt: skip
    for name, (f_min, point) in expected.items():
        landscape = _make(name, dim)
        assert landscape.f_min == pytest.approx(f_min, rel=1e-7, abs=1e-12), name
        assert np.max(np.abs(landscape.minimizers[0] - point)) < 1e-4, name
    assert _make("trid", 6).f_min == -50.0 and _make("trid", 10).f_min == -210.0


def test_dixon_price_lists_both_signs_of_its_last_coordinate():
    minimizers = _make("dixon-price", 3).minimizers
    assert minimizers.shape == (2, 3)
    np.testing.assert_allclose(
        sorted(minimizers[:, 2]), [-0.5946035575013605, 0.5946035575013605], rtol=1e-15
    )
    assert _make("dixon-price", 1).minimizers.tolist() == [[1.0]]


def test_rosenbrock_is_multimodal_from_four_dimensions():
    assert "unimodal" in _make("rosenbrock", 3).tags
    assert "multimodal" in _make("rosenbrock", 4).tags


def test_evaluating_outside_the_bounds_returns_the_true_value():
    assert _make("beale")(np.array([5.0, 5.0])) == 403069.203125
    assert _make("sphere", 2)(np.array([10.0, -10.0])) == 200.0


def test_hessian_jit_and_vmap_work_on_the_jax_functions():
    rosenbrock = _make("rosenbrock", 2)
    np.testing.assert_allclose(
        jax.hessian(rosenbrock.fn)(jnp.array([1.0, 1.0])), [[802.0, -400.0], [-400.0, 200.0]]
    )
    np.testing.assert_allclose(jax.hessian(_make("sphere", 3).fn)(jnp.ones(3)), 2 * np.eye(3))
    points = jnp.array([[1.0, 1.0], [2.0, -1.0]])
    np.testing.assert_allclose(jax.jit(jax.vmap(_make("beale").fn))(points), [14.203125, 13.203125])


def test_kinks_have_finite_gradients():
    for name, point in [("bukin6", (-10.0, 1.0)), ("ackley", (0.0, 0.0)), ("schwefel", (0.0, 0.0))]:
        landscape = _make(name, 2 if name in N_D else None)
        assert np.all(np.isfinite(jax.grad(landscape.fn)(jnp.asarray(point))))


def _batched_lbfgsb(landscape, starts: np.ndarray) -> np.ndarray:
    """L-BFGS-B from every start at once (a block-separable problem), one compiled call a step."""
    n, dim = starts.shape

    def total(flat):
        values = jax.vmap(landscape.fn)(flat.reshape(n, dim))
        return jnp.sum(values), values

    value_and_grad = jax.jit(jax.value_and_grad(total, has_aux=True))

    def fun(flat):
        (value, _), grad = value_and_grad(flat)
        return float(value), np.asarray(grad)

    bounds = list(zip(np.tile(landscape.lower, n), np.tile(landscape.upper, n), strict=True))
    result = scipy.optimize.minimize(
        fun, starts.ravel(), jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000}
    )
    return np.asarray(value_and_grad(result.x)[0][1])


@pytest.mark.parametrize("name", TWO_D + N_D)
def test_multistart_finds_nothing_below_f_min(name):
    landscape = _make(name)
    rng = np.random.default_rng(20240)
    starts = landscape.lower + rng.random((50, landscape.dim)) * (landscape.upper - landscape.lower)
    with threadpool_limits(1):
        finals = _batched_lbfgsb(landscape, starts)
    assert np.min(finals) >= landscape.f_min - 1e-9


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("beale", {"dim": 3}, "beale is defined in 2-D only; dim=3 is not allowed"),
        ("himmelblau", {"dim": 10}, "himmelblau is defined in 2-D only; dim=10 is not allowed"),
        ("rastrigin", {"dim": 0}, "rastrigin: dim=0 is not allowed; use an integer >= 1 (default"),
        ("rosenbrock", {"dim": 1}, "dim=1 is not allowed; use an integer >= 2 (default 2)"),
        ("sphere", {"dim": 2.5}, "sphere: dim=2.5 is not allowed; use an integer >= 1"),
        ("sphere", {"dim": True}, "sphere: dim=True is not allowed"),
        ("trid", {"dim": "6"}, "trid: dim='6' is not allowed; use an integer >= 2 (default 6)"),
    ],
)  # fmt: skip
def test_unsupported_dimensions_are_refused(name, kwargs, message):
    with pytest.raises(OptbenchError) as caught:
        registry.landscape(name).make(**kwargs)
    assert message in str(caught.value)


def test_a_point_of_the_wrong_shape_is_refused():
    with pytest.raises(
        OptbenchError, match=r"sphere: point of shape \(2,\) given; expected shape \(3,\)"
    ):
        _make("sphere", 3)(np.zeros(2))


def test_suites_select_by_tag_and_dimension():
    smooth = suites.expand("suite:smooth-2d")
    assert "beale" in smooth and "branin" in smooth
    assert not {"bukin6", "eggholder", "cross-in-tray", "holder-table", "rosenbrock"} & set(smooth)
    multimodal = suites.expand("suite:multimodal-2d")
    assert "himmelblau" in multimodal and "booth" not in multimodal and "bukin6" in multimodal
    assert sorted(suites.expand("suite:nd-10")) == sorted(f"{n}:dim=10" for n in N_D)
    assert "trid:dim=1" not in suites.expand("suite:nd-1")
    assert set(suites.expand("suite:all")) >= set(TWO_D + N_D)
    with pytest.raises(OptbenchError, match="unknown suite 'smooth'; suites: 2d, all"):
        suites.expand("suite:smooth")


def test_list_shows_dimension_and_tags():
    output = CliRunner().invoke(main, ["list", "landscapes"]).output
    lines = {line.split()[0]: line for line in output.splitlines()[2:] if line.strip()}
    assert "n>=2 (default 2)" in lines["rosenbrock"]
    assert "n>=1 (default 10)" in lines["rastrigin"]
    assert " 2 " in lines["bukin6"] and "ill-conditioned,multimodal " in lines["bukin6"]
