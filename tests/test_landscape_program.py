"""The compiled optax program: several optimizers and landscapes in one program, packed state,
step counts shared by a call's runs, per-run learning rates; all equal to a plain optax loop."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from optbench.runners.landscape import optax_program, packed_state
from optbench.runners.landscape.common import spec_landscape, start_point, uniform_point
from optbench.runners.landscape.plugin import LandscapeRunner, Plan

from optbench import registry
from optbench.spec import RunSpec

STEPS = 200
PLAIN = {
    "adam": lambda lr: optax.adam(lr),
    "rmsprop": lambda lr: optax.rmsprop(lr),
    "sgd": lambda lr: optax.sgd(lr, momentum=0.9),
}


def _specs(problem: str, optimizer: str, learning_rates: list[float], starts: int = 3):
    plugin = registry.optimizer(optimizer)
    base = {k: v for k, v in plugin.defaults.items() if v is not None}
    if optimizer == "sgd":
        base["momentum"] = 0.9
    return [
        RunSpec(
            "landscape",
            problem,
            plugin.name,
            base | {"learning_rate": lr},
            0,
            start,
            {"steps": STEPS},
            1e-300,
        )
        for lr in learning_rates
        for start in range(starts)
    ]


@pytest.fixture(scope="module")
def mixed():
    """Three optimizers (one with a learning-rate grid) on two landscapes: one program."""
    batch = (
        _specs("beale", "adam", [0.01, 0.003])
        + _specs("booth", "adam", [0.01, 0.003])
        + _specs("beale", "rmsprop", [0.001])
        + _specs("booth", "sgd", [0.001])
    )
    before = len(optax_program.PROGRAMS)
    rows = LandscapeRunner().run(batch).rows
    return batch, rows, len(optax_program.PROGRAMS) - before


def _plain_loop(spec: RunSpec) -> np.ndarray:
    landscape = spec_landscape(spec)
    optimizer = PLAIN[spec.optimizer](spec.hp["learning_rate"])
    grad = jax.jit(jax.grad(landscape.fn))
    update = jax.jit(optimizer.update)
    x = jnp.asarray(start_point(landscape, spec))
    state = optimizer.init(x)
    for _ in range(STEPS):
        updates, state = update(grad(x), state, x)
        x = optax.apply_updates(x, updates)
    return np.asarray(x)


def test_one_program_runs_every_optimizer_and_landscape(mixed):
    batch, rows, compiled = mixed
    assert compiled == 1
    assert rows["program"].nunique() == 1
    assert len(rows) == len(batch) and (rows["steps"] == STEPS).all()


@pytest.mark.parametrize("index", [0, 4, 7, 11, 13, 16])
def test_each_run_equals_a_plain_optax_loop(mixed, index):
    batch, rows, _ = mixed
    spec = batch[index]
    row = rows.set_index("run_key").loc[spec.key]
    np.testing.assert_allclose(json.loads(row["x_final"]), _plain_loop(spec), rtol=0, atol=1e-9)


def test_plan_shares_what_does_not_vary(mixed):
    batch, _, _ = mixed
    plan = Plan.of(batch)
    varying = dict(zip([v.optimizer for v in plan.variants], plan.varying, strict=True))
    assert varying["adam"] == {"learning_rate"}
    assert varying["rmsprop"] == frozenset() and varying["sgd"] == frozenset()
    assert plan.capacity == (6, 6), "the most runs any optimizer makes on a landscape"


def test_step_count_is_shared_unless_the_data_drives_it():
    adam = optax_program.Variant.of("adam", {"learning_rate": 0.1, "b1": 0.9})
    axes = optax_program.state_axes(adam, 2, frozenset({"learning_rate"}))
    leaves = jax.tree.leaves(axes, is_leaf=lambda a: a is None)
    assert None in leaves and 0 in leaves
    assert axes.hyperparams == {"b1": None, "b2": None, "eps": None, "eps_root": None,
                                "learning_rate": 0}  # fmt: skip
    assert axes.count is None

    def counted_where_finite(update):
        """A state whose integer leaf counts non-finite gradients: it depends on each run."""
        return optax.apply_if_finite(update, max_consecutive_errors=3)

    plugin = registry.optimizer("adam")
    original = plugin.build
    try:
        object.__setattr__(plugin, "build", lambda **hp: counted_where_finite(original(**hp)))
        guarded = optax_program.Variant.of("adam", {"learning_rate": 0.1})
        optax_program.state_axes.cache_clear()
        axes = optax_program.state_axes(guarded, 2, frozenset())
    finally:
        object.__setattr__(plugin, "build", original)
        optax_program.state_axes.cache_clear()
    assert axes.notfinite_count == 0, "a count that depends on the gradients stays per run"


def test_pack_and_unpack_round_trip_every_leaf():
    state = {
        "count": jnp.asarray(7, jnp.int32),
        "mu": jnp.arange(12.0).reshape(4, 3),
        "flags": jnp.asarray([True, False, True, True]),
    }
    axes = {"count": None, "mu": 0, "flags": 0}
    one_run = jax.tree.map(lambda v, a: v if a is None else v[0], state, axes,
                           is_leaf=lambda a: a is None)  # fmt: skip
    shapes = jax.eval_shape(lambda: one_run)
    layout = packed_state.layout_of(shapes, axes)
    assert (layout.per_run_width, layout.shared_width) == (4, 1)
    buffer, shared = packed_state.pack(layout, state, 4, width=6, shared_width=2)
    assert buffer.shape == (4, 6) and shared.shape == (2,)
    back = packed_state.unpack(layout, buffer, shared)
    for name in state:
        assert back[name].dtype == state[name].dtype
        np.testing.assert_array_equal(back[name], state[name])


def test_more_runs_than_a_slice_holds_take_further_calls_of_the_same_program():
    beale = spec_landscape(_specs("beale", "adam", [0.01], 1)[0])
    variant = optax_program.Variant.of("adam", {"learning_rate": 0.01})
    branch = optax_program.Branch(("beale", None, 0), beale)
    n = 10
    runs = optax_program.Runs(
        landscape=np.zeros(n, dtype=int),
        starts=np.stack([start_point(beale, s) for s in _specs("beale", "adam", [0.01], n)]),
        settings=[{"learning_rate": 0.01}] * n,
        final=np.full(n, 1e-300),
        seeds=np.zeros(n, np.uint32),
    )
    whole = optax_program.run_starts([variant], 0, [branch], [n], runs, 50)
    programs = optax_program.Programs()
    split = optax_program.run_starts([variant], 0, [branch], [4], runs, 50, programs=programs)
    assert len(programs) == 1, "three calls of one program"
    np.testing.assert_allclose(split.x, whole.x, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(split.stop, whole.stop)
    np.testing.assert_allclose(split.curve, whole.curve, rtol=1e-12)


def test_recording_paths_changes_no_output_and_records_each_iterate():
    """One program call with the iterates recorded at every step equals the call without, bit
    for bit; each recorded iterate is a plain optax loop's, and stays put once its run stopped
    (converged at a reachable target, diverged at a too-large learning rate)."""
    beale = spec_landscape(_specs("beale", "sgd", [0.01], 1)[0])
    variant = optax_program.Variant.of("sgd", {"learning_rate": 0.01, "momentum": 0.9})
    branch = optax_program.Branch(("beale", None, 0), beale)
    rates = [1e-4, 1e-3, 1e-2]
    starts = np.stack([uniform_point(beale, 0, 3)] * len(rates))
    runs = optax_program.Runs(
        landscape=np.zeros(len(rates), dtype=int),
        starts=starts,
        settings=[{"learning_rate": lr, "momentum": 0.9} for lr in rates],
        final=np.array([1e-300, 1.0, 1e-300]),
        seeds=np.zeros(len(rates), np.uint32),
    )
    steps, path_steps = 50, np.arange(1, 51)
    plain = optax_program.run_starts([variant], 0, [branch], [len(rates)], runs, steps)
    recorded = optax_program.run_starts(
        [variant], 0, [branch], [len(rates)], runs, steps, path_steps=path_steps
    )
    for name in ("x", "f", "status", "stop", "hits", "curve"):
        np.testing.assert_array_equal(getattr(recorded, name), getattr(plain, name), name)
    assert plain.path is None and recorded.path.shape == (3, 50, 2)
    statuses = [optax_program.STATUS_NAMES[s] for s in recorded.status]
    assert statuses == ["budget", "converged", "diverged"]
    for row, lr in enumerate(rates):
        tx = optax.sgd(lr, momentum=0.9)
        x, iterates = jnp.asarray(starts[row]), []
        state = tx.init(x)
        for _ in range(steps):
            updates, state = tx.update(jax.grad(beale.fn)(x), state, x)
            x = optax.apply_updates(x, updates)
            iterates.append(np.asarray(x))
        stop = int(recorded.stop[row])
        live = path_steps <= stop
        np.testing.assert_allclose(
            recorded.path[row, live], np.array(iterates)[live], rtol=1e-12, atol=1e-12
        )
        frozen = np.broadcast_to(recorded.x[row], recorded.path[row, ~live].shape)
        np.testing.assert_array_equal(recorded.path[row, ~live], frozen)
