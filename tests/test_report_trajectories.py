"""Trajectories of 2-D runs: the recorded path equals a plain optax loop's iterates."""

from __future__ import annotations

import json

import jax
import numpy as np
import optax
import pytest
from optbench.runners.landscape.common import landscape_for, uniform_point

import optbench
from optbench import OptimizerEntry, Study, registry, run_study

STEPS = 60


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    out = tmp_path_factory.mktemp("traj")
    study = Study(
        problems=("beale", "sphere:dim=3"),
        optimizers=(OptimizerEntry("adam", {"learning_rate": 0.05}), OptimizerEntry("l-bfgs-b")),
        starts=4,
        budget={"steps": STEPS},
    )
    run_study(study, out, quiet=True)
    return optbench.load_results(out)


def paths(results, problem: str, optimizer: str) -> dict[int, np.ndarray]:
    runs = results.runs[
        results.runs["problem"].eq(problem) & results.runs["optimizer"].eq(optimizer)
    ]
    curves = results.curves[results.curves["name"].str.startswith("x.")]
    out = {}
    for key, start in zip(runs["run_key"], runs["start"], strict=True):
        rows = curves[curves["run_key"].eq(key)]
        if len(rows):
            table = rows.pivot(index="step", columns="name", values="value")
            out[int(start)] = table
    return out


def plain_optax_loop(x0: np.ndarray, steps: int) -> np.ndarray:
    """adam on Beale the textbook way: value_and_grad, update, apply_updates, one step at a time."""
    fn = landscape_for("beale", None, 0).fn
    tx = registry.optimizer("adam").build(learning_rate=0.05)
    x, state, iterates = jax.numpy.asarray(x0), None, [np.asarray(x0)]
    state = tx.init(x)
    for _ in range(steps):
        value, gradient = jax.value_and_grad(fn)(x)
        updates, state = tx.update(gradient, state, x, value=value)
        x = optax.apply_updates(x, updates)
        iterates.append(np.asarray(x))
    return np.array(iterates)


def test_optax_path_equals_plain_loop(recorded):
    found = paths(recorded, "beale", "adam")
    assert sorted(found) == [0, 1, 2]  # the first three starts, on by default in 2-D
    landscape = landscape_for("beale", None, 0)
    for start, table in found.items():
        expected = plain_optax_loop(uniform_point(landscape, 0, start), STEPS)
        steps = table.index.to_numpy()
        assert steps[0] == 0 and steps[-1] == STEPS and len(steps) == STEPS + 1
        np.testing.assert_allclose(
            table[["x.0", "x.1"]].to_numpy(), expected[steps], rtol=1e-9, atol=1e-12
        )


def test_path_ends_at_the_rows_final_point(recorded):
    runs = recorded.runs.set_index("run_key")
    for optimizer in ("adam", "l-bfgs-b"):
        for start, table in paths(recorded, "beale", optimizer).items():
            key = runs.index[
                (runs["problem"] == "beale")
                & (runs["optimizer"] == optimizer)
                & (runs["start"] == start)
            ][0]
            final = np.array(json.loads(runs.loc[key, "x_final"]))
            np.testing.assert_allclose(table.iloc[-1].to_numpy(), final, rtol=1e-6, atol=1e-6)


def test_scipy_path_improves_and_nd_runs_record_nothing(recorded):
    fn = landscape_for("beale", None, 0).fn
    for table in paths(recorded, "beale", "l-bfgs-b").values():
        values = [float(fn(np.asarray(p))) for p in table.to_numpy()]
        assert np.all(np.diff(values) < 0)
    assert paths(recorded, "sphere", "adam") == {}
    assert paths(recorded, "sphere", "l-bfgs-b") == {}


def test_report_draws_landscape_views(recorded, tmp_path):
    optbench.report(recorded, tmp_path)
    assert (tmp_path / "landscape-beale.png").exists()
    assert not (tmp_path / "landscape-sphere-dim-3.png").exists()
    assert "## Landscape views" in (tmp_path / "report.md").read_text()
