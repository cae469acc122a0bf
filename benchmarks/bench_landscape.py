"""Landscape runner speed: vectorized optax throughput, framework overhead, the default study.

    .venv/bin/pytest benchmarks/bench_landscape.py --benchmark-only
    OPTBENCH_BENCH_DEFAULT=1 .venv/bin/pytest benchmarks/bench_landscape.py -k default_study

Figures that are not times (ratios, counts) go in `extra_info`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import optax
import pytest
from optbench.runners.landscape import fast_trig, optax_program
from optbench.runners.landscape.common import landscape_for, uniform_point, uniform_points

from optbench import load_results, registry, suites
from optbench.execute import run_study
from optbench.study import OptimizerEntry, Study

STARTS, STEPS = 256, 2000
RASTRIGIN_RUNS, RASTRIGIN_STEPS = 4096, 200


@pytest.fixture(scope="module")
def beale():
    return landscape_for("beale", None, 0)


def _runs(landscape, count: int, learning_rate: float) -> optax_program.Runs:
    """`count` seeded uniform starts on one landscape, one learning rate, no target."""
    return optax_program.Runs(
        landscape=np.zeros(count, dtype=int),
        starts=np.stack([uniform_point(landscape, 0, i) for i in range(count)]),
        settings=[{"learning_rate": learning_rate}] * count,
        final=np.full(count, -1.0),
        seeds=np.zeros(count, np.uint32),
    )


def _adam_call(beale):
    variant = optax_program.Variant.of("adam", {"learning_rate": 0.01})
    branch = optax_program.Branch(("beale", None, 0), beale)
    runs = _runs(beale, STARTS, 0.01)
    return lambda: optax_program.run_starts([variant], 0, [branch], [STARTS], runs, STEPS)


def test_adam_vectorized_throughput(benchmark, beale):
    """256 starts × 2000 steps of Adam on Beale in one compiled program (compile excluded)."""
    call = _adam_call(beale)
    out = call()
    assert (out.stop == STEPS).all()
    benchmark.pedantic(call, rounds=5, warmup_rounds=1)
    steps_per_s = STARTS * STEPS / benchmark.stats.stats.median
    benchmark.extra_info.update(steps_per_s=steps_per_s, compile_s=out.compile_s)


def _naive_adam_loop(beale):
    """The naive way: a Python loop calling the jitted update once per step, for one start."""
    value_and_grad = jax.jit(jax.value_and_grad(beale.fn))
    optimizer = optax.adam(0.01)

    @jax.jit
    def step(x, state):
        _, g = value_and_grad(x)
        updates, state = optimizer.update(g, state, x)
        return optax.apply_updates(x, updates), state

    x0 = jax.numpy.asarray(uniform_point(beale, 0, 0))

    def loop():
        x, state = x0, optimizer.init(x0)
        for _ in range(STEPS):
            x, state = step(x, state)
        return jax.block_until_ready(x)

    loop()
    return loop


def test_adam_naive_loop(benchmark, beale):
    """Steps per second of the naive loop for one start."""
    benchmark.pedantic(_naive_adam_loop(beale), rounds=3, warmup_rounds=0)
    benchmark.extra_info.update(steps_per_s=STEPS / benchmark.stats.stats.median)


def test_vectorized_over_naive_ratio(benchmark, beale):
    """Steps per second, vectorized over naive, measured back to back (at most the bare scan's
    own speed-up over the naive loop, `bare_scan_over_naive` below: 946-1256× on 2 cores)."""
    call = _adam_call(beale)
    call()
    loop = _naive_adam_loop(beale)

    def seconds(function) -> float:
        t0 = time.perf_counter()
        function()
        return time.perf_counter() - t0

    def ratio() -> float:
        vectorized = STARTS * STEPS / np.median([seconds(call) for _ in range(5)])
        naive = STEPS / np.median([seconds(loop) for _ in range(3)])
        return float(vectorized / naive)

    value = benchmark.pedantic(ratio, rounds=3)
    benchmark.extra_info.update(ratio=value)


def _bare_scan(beale):
    """The simplest vectorized program a JAX user would write: vmap over starts, lax.scan over
    steps, no bookkeeping (no targets, divergence, curves): the floor of the optax program."""
    optimizer = optax.adam(0.01)
    grad = jax.vmap(jax.grad(beale.fn))

    @jax.jit
    def run(x0):
        def step(carry, _):
            x, state = carry
            updates, state = optimizer.update(grad(x), state, x)
            return (optax.apply_updates(x, updates), state), None

        (x, _), _ = jax.lax.scan(step, (x0, optimizer.init(x0)), None, length=STEPS)
        return x

    x0 = jax.numpy.asarray(np.stack([uniform_point(beale, 0, i) for i in range(STARTS)]))
    run(x0).block_until_ready()
    return lambda: run(x0).block_until_ready()


@pytest.mark.quick
def test_program_over_bare_scan_ratio(benchmark, beale):
    """The optax program's time over a bare vmapped `lax.scan` of the same Adam on Beale,
    256 runs × 2000 steps, back to back; also over the naive loop, and the bare scan's own
    speed-up over the naive loop, the ceiling of that ratio. At 256 runs a step is dispatch:
    about 29 XLA kernels against the bare scan's 10 (per-step targets, divergence, the box,
    stopped runs held); the same program with none of that bookkeeping is 1.12× the bare scan."""
    call, bare, loop = _adam_call(beale), _bare_scan(beale), _naive_adam_loop(beale)
    call()

    def seconds(function, rounds: int) -> float:
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            function()
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    def ratios() -> tuple[float, float, float, float, float]:
        program, scan, naive = seconds(call, 5), seconds(bare, 5), seconds(loop, 2)
        return program / scan, STARTS * naive / program, STARTS * naive / scan, program, scan

    over_scan, over_naive, scan_over_naive, program, scan = benchmark.pedantic(ratios, rounds=3)
    benchmark.extra_info.update(
        program_over_scan=over_scan,
        program_over_naive=over_naive,
        bare_scan_over_naive=scan_over_naive,
        program_us_per_step=program / STEPS * 1e6,
        scan_us_per_step=scan / STEPS * 1e6,
    )


STUDY_ROWS, STUDY_STEPS = 5120, 200


@pytest.mark.quick
def test_study_sized_program(benchmark, rounds):
    """One call of the default study's 10-D program shape: Adam on every scalable landscape at
    dim 10, instance 1 (shifted and rotated), `STUDY_ROWS` shared evenly in one slice per
    landscape, 200 steps. Its step time is element work, not dispatch: code that XLA CPU
    compiles badly only at this size (a YNNPACK reduce took 13% of it before programs were
    compiled without YNNPACK) shows here, not at 256 rows."""
    names = [text.split(":")[0] for text in suites.expand("suite:nd-10")]
    landscapes = [landscape_for(name, 10, 1) for name in names]
    per = STUDY_ROWS // len(landscapes)
    rows = per * len(landscapes)
    branches = [
        optax_program.Branch((name, 10, 1), landscape)
        for name, landscape in zip(names, landscapes, strict=True)
    ]
    runs = optax_program.Runs(
        landscape=np.repeat(np.arange(len(landscapes)), per),
        starts=np.concatenate([uniform_points(ls, 0, range(per)) for ls in landscapes]),
        settings=[{"learning_rate": 0.01}] * rows,
        final=np.full(rows, -1.0),
        seeds=np.zeros(rows, np.uint32),
    )
    variant = optax_program.Variant.of("adam", {"learning_rate": 0.01})
    shape = ([variant], 0, branches, [per] * len(landscapes), runs, STUDY_STEPS)
    optax_program.run_starts(*shape)
    out = benchmark.pedantic(lambda: optax_program.run_starts(*shape), rounds=rounds(5))
    assert out.stop.min() >= 1
    seconds_a_step = benchmark.stats.stats.median / STUDY_STEPS
    benchmark.extra_info.update(
        rows=rows,
        landscapes=len(landscapes),
        program_us_per_step=seconds_a_step * 1e6,
        ns_per_run_step=seconds_a_step / rows * 1e9,
    )


def _adam_rastrigin_call(trig: str, monkeypatch):
    """Adam on 10-D Rastrigin, 4096 runs × 200 steps (the default study's 10-D call holds 5120
    rows), in a program built with `trig`."""
    rastrigin = landscape_for("rastrigin", 10, 0)
    variant = optax_program.Variant.of("adam", {"learning_rate": 0.001})
    branch = optax_program.Branch(("rastrigin", 10, 0), rastrigin)
    runs = _runs(rastrigin, RASTRIGIN_RUNS, 0.001)
    programs = optax_program.Programs()
    shape = ([variant], 0, [branch], [RASTRIGIN_RUNS], runs, RASTRIGIN_STEPS)

    def call():
        monkeypatch.setenv(fast_trig.MODE_ENV, trig)
        return optax_program.run_starts(*shape, programs=programs)

    call()
    return call


@pytest.mark.quick
def test_vectorised_trig_ratio(benchmark, monkeypatch):
    """The C library's float64 cos over the vectorised one: alone on 2**20 elements, and as
    the optax program's time on 10-D Rastrigin (Adam, 4096 runs × 200 steps), interleaved."""
    library = _adam_rastrigin_call("library", monkeypatch)
    vectorised = _adam_rastrigin_call("vectorised", monkeypatch)
    np.testing.assert_allclose(library().f, vectorised().f, rtol=1e-9)
    x = jax.numpy.asarray(np.random.default_rng(0).uniform(-10, 10, 2**20))
    lax_cos, fast_cos = jax.jit(jax.lax.cos), jax.jit(fast_trig.cos)

    def seconds(function, rounds: int = 5) -> float:
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            jax.block_until_ready(function())
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    def ratios() -> tuple[float, float, float]:
        element = seconds(lambda: lax_cos(x), 9) / seconds(lambda: fast_cos(x), 9)
        program_library, program_vectorised = seconds(library), seconds(vectorised)
        return element, program_library / program_vectorised, program_vectorised

    element, program, vectorised_s = benchmark.pedantic(ratios, rounds=3)
    benchmark.extra_info.update(
        cos_library_over_vectorised=element,
        rastrigin_program_library_over_vectorised=program,
        rastrigin_program_us_per_step=vectorised_s / RASTRIGIN_STEPS * 1e6,
    )


def test_framework_overhead_per_run(benchmark, tmp_path):
    """Expanding specs, building rows, writing Parquet: study wall time minus compile and run."""
    study = Study(
        problems=("beale", "booth"),
        optimizers=(OptimizerEntry("adam", grid={"learning_rate": [0.001, 0.01, 0.1, 1.0, 0.5]}),),
        starts=1000,
        budget={"steps": 10},
    )
    run_study(study, tmp_path / "warm", quiet=True)
    runs: list[int] = []
    overheads: list[float] = []

    def once() -> None:
        outcome = run_study(study, tmp_path / f"run-{len(runs)}", quiet=True)
        rows = outcome.results.runs
        runs.append(len(rows))
        spent = rows["wall_s"].sum() + rows["compile_s"].sum()
        overheads.append((outcome.wall_s - spent) / len(rows))

    benchmark.pedantic(once, rounds=3)
    assert runs[0] == 10_000
    benchmark.extra_info.update(overhead_ms_per_run=float(np.median(overheads)) * 1e3, runs=runs[0])


def _optbench(out: Path, cache: Path) -> float:
    t0 = time.perf_counter()
    env = os.environ | {"OPTBENCH_JAX_CACHE": str(cache)}
    subprocess.run([sys.executable, "-m", "optbench", "run", "--out", str(out), "-q"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    return time.perf_counter() - t0


@pytest.mark.skipif(not os.environ.get("OPTBENCH_BENCH_DEFAULT"), reason="OPTBENCH_BENCH_DEFAULT=1")
def test_default_study(benchmark, tmp_path):
    """`optbench run` end to end in fresh processes: a cold, then a warm compilation cache."""
    cache = tmp_path / "jax-cache"
    cold = _optbench(tmp_path / "cold", cache)
    warm = benchmark.pedantic(lambda: _optbench(tmp_path / "warm", cache), rounds=1)
    rows = load_results(tmp_path / "cold").runs
    optax_rows = rows[rows["family"] == "optax"]
    scipy_rows = rows[rows["family"] == "scipy"]
    benchmark.extra_info.update(
        cold_s=cold,
        warm_s=warm,
        runs=len(rows),
        programs=int(optax_rows["program"].nunique()),
        optax_compile_s=float(optax_rows["compile_s"].sum()),
        optax_run_s=float(optax_rows["wall_s"].sum()),
        scipy_worker_s=float(scipy_rows["wall_s"].sum()),
        device=str(rows["env.device"].iloc[0]),
        landscapes=len(registry.names("landscape")),
    )
