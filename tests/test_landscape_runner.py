"""The landscape runner: vectorized optax runs, scipy runs, divergence, metrics, the seed."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
import pytest
from optbench.runners.landscape import optax_program
from optbench.runners.landscape.common import (
    SAMPLER_CHUNK,
    spec_landscape,
    start_point,
    unit_points,
)
from optbench.runners.landscape.plugin import LandscapeRunner

from optbench import registry, rollup
from optbench.errors import OptbenchError
from optbench.spec import RunSpec
from optbench.study import OptimizerEntry, Study


def specs(problem, optimizer, starts, steps, target=None, seed=0, options=None, **hp):
    plugin = registry.optimizer(optimizer)
    setting = {k: v for k, v in plugin.defaults.items() if v is not None} | hp
    return [
        RunSpec(
            "landscape",
            problem,
            plugin.name,
            setting,
            seed,
            start,
            {"steps": steps},
            target,
            options or {},
        )
        for start in range(starts)
    ]


@pytest.fixture(scope="module")
def runner():
    return LandscapeRunner()


@pytest.fixture(scope="module")
def two_d(runner):
    """One batch over two 2-D landscapes and two optimizers: a single compiled program."""
    batch = (
        specs("sphere", "adam", 100, 1000, target=1e-6, options={"dim": 2}, learning_rate=0.1)
        + specs(
            "sphere",
            "adam",
            100,
            1000,
            1e-6,
            options={"dim": 2, "instance": 1001},
            learning_rate=0.1,
        )
        + specs("eggholder", "lamb", 100, 1000, target=1e-6, learning_rate=0.1)
        + specs("rosenbrock", "sgd", 50, 1000, target=1e-7, learning_rate=1e-6)
        + specs("rosenbrock", "sgd", 50, 1000, target=1e-7, learning_rate=0.5)
    )
    before = len(optax_program.PROGRAMS)
    result = runner.run(batch)
    return batch, result, len(optax_program.PROGRAMS) - before


def test_adam_solves_sphere_from_every_start(two_d):
    _, result, _ = two_d
    rows = result.rows[(result.rows["problem"] == "sphere") & result.rows["option.instance"].isna()]
    assert len(rows) == 100
    assert rollup.success_rate(rows, 1e-6) == 1.0
    assert (rows["status"] == "converged").all()
    assert (rows["f_gap"] <= 1e-6).all()
    assert (rows["x_dist"] < 1e-2).all()
    assert (rows["steps"] < 1000).all(), "converged runs stop at the final target"
    assert (rows["n_fev"] == rows["steps"] + 1).all()


def test_noisy_instance_sees_noise_and_is_scored_on_the_exact_value(two_d):
    _, result, _ = two_d
    sphere = result.rows[result.rows["problem"] == "sphere"]
    noisy = sphere[sphere["option.instance"] == 1001]
    exact = sphere[sphere["option.instance"].isna()]
    assert len(noisy) == 100
    assert rollup.success_rate(noisy, 1e-6) >= 0.9
    assert (noisy["f_gap"].to_numpy() != exact["f_gap"].to_numpy()).any()
    landscape = spec_landscape(two_d[0][100])
    assert landscape.noise is not None
    for text, gap in zip(noisy["x_final"].head(5), noisy["f_gap"].head(5), strict=True):
        assert landscape(json.loads(text)) - landscape.f_min == pytest.approx(gap, abs=1e-15)


def test_leaving_the_domain_is_not_success(two_d):
    _, result, _ = two_d
    rows = result.rows[result.rows["problem"] == "eggholder"]
    outside = rows[~rows["in_bounds"]]
    assert len(outside) > 0, "LAMB leaves Eggholder's domain from some starts"
    assert (outside["status"] != "converged").all()
    assert rows.loc[rows["status"] == "converged", "in_bounds"].all()
    assert rollup.summary(rows)["gap_q1"].iloc[0] >= 0


def test_one_program_for_landscapes_and_optimizers_of_a_dimension(two_d):
    _, result, compiled = two_d
    assert compiled == 1
    assert result.rows["program"].nunique() == 1


def test_too_large_a_step_diverges_and_the_summary_stays_finite(two_d):
    _, result, _ = two_d
    rows = result.rows[result.rows["problem"] == "rosenbrock"]
    wild = rows[rows["hp.learning_rate"] == 0.5]
    tame = rows[rows["hp.learning_rate"] == 1e-6]
    assert (wild["status"] == "diverged").all()
    assert (wild["diverged_step"] < 1000).all()
    assert (wild["f_gap"] == np.inf).all() and wild["x_final"].isna().all()
    assert (tame["status"] != "diverged").all(), "other runs of the batch go on"
    assert np.isfinite(tame["f_gap"]).all()
    table = rollup.summary(rows)
    assert not table.isna().any().any()
    bad = table[table["label"].str.contains("0.5")].iloc[0]
    assert bad["diverged"] == 1.0 and bad["success"] == 0.0 and bad["ert"] == np.inf
    good = table[table["label"].str.contains("1e-06")].iloc[0]
    assert np.isfinite(good["median_gap"]) and good["diverged"] == 0.0


def test_targets_ladder_and_fixed_budget_columns(two_d):
    _, result, _ = two_d
    rows = result.rows[result.rows["problem"] == "sphere"].iloc[:100]
    ladder = rows[[f"steps_to.{t}" for t in ("1e1", "1e0", "1e-1", "1e-3", "1e-6")]].to_numpy()
    assert np.all(np.diff(ladder, axis=1) >= 0), "a finer target is never reached earlier"
    assert (rows["steps_to.1e-6"] == rows["steps_to_target"]).all()
    assert (rows["fev_to.1e-6"] == rows["steps_to.1e-6"] + 1).all()
    finer = rows["steps_to.1e-8"]
    assert (finer.isna() | (finer == rows["steps"])).all(), "runs stop at the final target"
    assert (rows["gap_at.10"] >= rows["gap_at.100"]).mean() > 0.9
    curves = result.curves[result.curves["run_key"] == rows["run_key"].iloc[0]]
    curves = curves[curves["name"] == "f_gap"]  # 2-D runs also record their path (x.0, x.1)
    assert curves["step"].iloc[0] == 0 and curves["step"].is_monotonic_increasing
    assert {10, 100, 1000} <= set(curves["step"])
    start = start_point(spec_landscape(two_d[0][0]), two_d[0][0])
    assert curves["value"].iloc[0] == pytest.approx(float(np.sum(start**2)))


def test_seeded_runs_are_bit_identical(runner, two_d):
    batch, first, _ = two_d
    fresh = optax_program.Programs()
    original, optax_program.PROGRAMS = optax_program.PROGRAMS, fresh
    try:
        again = LandscapeRunner().run(batch)
    finally:
        optax_program.PROGRAMS = original
    assert len(fresh) == 1, "compiled anew"
    columns = ["run_key", "f_final", "x_final", "steps", "steps_to.1e-3", "status"]
    pd.testing.assert_frame_equal(first.rows[columns], again.rows[columns])
    pd.testing.assert_frame_equal(first.curves, again.curves)


def test_starts_are_paired_across_optimizers():
    one = specs("beale", "adam", 3, 10)
    other = specs("beale", "l-bfgs-b", 3, 10)
    landscape = spec_landscape(one[0])
    for a, b in zip(one, other, strict=True):
        np.testing.assert_array_equal(start_point(landscape, a), start_point(landscape, b))
    assert not np.array_equal(start_point(landscape, one[0]), start_point(landscape, one[1]))


def test_start_points_do_not_depend_on_the_batch_they_are_drawn_in():
    starts = np.arange(3, 3 + 2 * SAMPLER_CHUNK + 5)
    together = unit_points(7, starts, 3)
    assert together.shape == (len(starts), 3)
    assert ((together >= 0) & (together < 1)).all()
    for start in (3, 3 + SAMPLER_CHUNK, int(starts[-1])):
        key = jax.random.fold_in(jax.random.fold_in(jax.random.key(7), start), 0)
        alone = jax.random.uniform(key, (3,), jnp.float64)
        np.testing.assert_array_equal(together[start - 3], alone)
    np.testing.assert_array_equal(unit_points(7, starts[::-1], 3), together[::-1])
    assert unit_points(7, [], 3).shape == (0, 3)


def test_vectorized_path_matches_a_plain_loop(runner):
    batch = specs("beale", "adam", 4, 300, target=1e-300, learning_rate=0.01)
    rows = runner.run(batch).rows
    landscape = spec_landscape(batch[0])
    grad = jax.jit(jax.grad(landscape.fn))
    optimizer = optax.adam(0.01)
    update = jax.jit(optimizer.update)
    for spec, text in zip(batch, rows["x_final"], strict=True):
        x = jnp.asarray(start_point(landscape, spec))
        state = optimizer.init(x)
        for _ in range(300):
            updates, state = update(grad(x), state, x)
            x = optax.apply_updates(x, updates)
        np.testing.assert_allclose(json.loads(text), np.asarray(x), atol=1e-6)
    assert (rows["status"] == "budget").all() and (rows["steps"] == 300).all()


def test_lbfgsb_reproduces_the_seed(runner):
    """The seed: `minimize(beale, [4, 4], method="L-BFGS-B")`, finite differences by default."""
    spec = RunSpec("landscape", "beale", "l-bfgs-b", {"jac": "none"},
                   options={"x0": [4.0, 4.0]})  # fmt: skip
    row = runner.run([spec]).rows.iloc[0]
    assert (row["nit"], row["nfev"]) == (14, 60)
    assert row["n_fev"] == 60 and row["n_gev"] == 0, "finite differences are counted as values"
    np.testing.assert_allclose(json.loads(row["x_final"]), [3.00000257, 0.50000085], atol=5e-9)
    assert row["f_final"] == pytest.approx(2.068e-12, rel=1e-3)
    assert row["status"] == "converged" and bool(row["success"])
    assert "PROJECTED GRADIENT" in row["message"]
    relative = RunSpec("landscape", "beale", "l-bfgs-b", {"jac": "2-point"},
                       options={"x0": [4.0, 4.0]})  # fmt: skip
    row = runner.run([relative]).rows.iloc[0]
    assert (row["nit"], row["nfev"]) == (14, 60)
    assert row["f_final"] == pytest.approx(1.8426e-12, rel=1e-3), "a relative step differs"


def test_scipy_counts_evaluations_and_keeps_optimize_result_fields(runner):
    batch = specs("himmelblau", "bfgs", 3, 1000)
    rows = runner.run(batch).rows
    assert (rows["n_fev"] == rows["nfev"]).all() and (rows["n_gev"] == rows["njev"]).all()
    assert (rows["status"] == "converged").all()
    assert set(rows["found"]) <= {0, 1, 2, 3}
    assert (rows["fev_to.1e-8"] <= rows["n_fev"]).all()


def test_scipy_restarts_spend_the_evaluation_budget(runner):
    spec = RunSpec("landscape", "rastrigin", "nelder-mead", {}, 0, 0,
                   {"evaluations": 3000}, 1e-8, {"dim": 2, "restarts": True})  # fmt: skip
    row = runner.run([spec]).rows.iloc[0]
    assert row["restarts"] >= 1
    assert row["n_fev"] <= 3000
    assert row["status"] in {"converged", "budget"}


def test_check_rejects_what_cannot_run(runner):
    with pytest.raises(OptbenchError, match="seconds budget"):
        runner.check(RunSpec("landscape", "beale", "adam", budget={"seconds": 1}))
    with pytest.raises(OptbenchError, match="restarts"):
        runner.check(RunSpec("landscape", "beale", "adam", options={"restarts": True}))
    with pytest.raises(OptbenchError, match="positive integer"):
        runner.check(RunSpec("landscape", "beale", "adam", budget={"steps": 0}))
    with pytest.raises(OptbenchError, match="shape"):
        runner.check(RunSpec("landscape", "beale", "adam", options={"x0": [1.0, 2.0, 3.0]}))


def test_batches_group_one_program_per_dimension(runner):
    study = Study(
        problems=("beale", "booth", "sphere"),
        optimizers=(
            OptimizerEntry("adam", grid={"learning_rate": [0.01, 0.1]}),
            OptimizerEntry("sgd"),
            OptimizerEntry("l-bfgs-b"),
        ),
        starts=3,
    )
    batches = list(runner.batches(study.specs()))
    families = [registry.optimizer(b[0].optimizer).family for b in batches]
    assert sum(len(b) for b in batches) == 3 * (2 + 1 + 1) * 3
    optax_batches = [b for b, f in zip(batches, families, strict=True) if f == "optax"]
    two_d = [b for b in optax_batches if spec_landscape(b[0]).dim == 2]
    assert {s.problem for b in two_d for s in b} == {"beale", "booth"}
    assert {len({s.hyperparameters for s in b}) for b in two_d} == {2, 1}, "a grid is one batch"


def test_compilation_cache_folder_follows_the_environment(tmp_path):
    from optbench.jax_cache import cache_dir

    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "optbench" / "jax"
    assert cache_dir({"OPTBENCH_JAX_CACHE": "0", "XDG_CACHE_HOME": str(tmp_path)}) is None
    assert cache_dir({"OPTBENCH_JAX_CACHE": "off"}) is None
    assert cache_dir({"OPTBENCH_JAX_CACHE": str(tmp_path / "c")}) == tmp_path / "c"
    if cache_dir() is not None:
        assert jax.config.jax_compilation_cache_dir == str(cache_dir())
        assert jax.config.jax_persistent_cache_min_compile_time_secs == 0.0
