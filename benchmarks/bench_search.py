"""Members trained together (one vmapped program) against the same members trained one after
another with the same JAX code, for 6 and 24 members at batch 128 on a 40,000-image fold, with
each member's own minibatch order (`vmapped`) and with one order per fold (`shared-order`, a
search's `shuffle = "fold"`: a fold's members share the gathered batch and its first-layer GEMM).

Run: `OPTBENCH_DATA=DIR pytest benchmarks/bench_search.py --benchmark-only -p no:cacheprovider`.
Compilation is excluded (each measured epoch follows a warm-up of the same program). The
sequential/vmapped ratio, wall and process-CPU seconds per member-epoch are in `extra_info`:
on a shared machine the CPU seconds are the fairer figure.
"""

from __future__ import annotations

import time

import pytest
from optbench.runners.mnist.members import Member, MemberGroup
from optbench.runners.mnist.model import ModelConfig
from optbench.runners.search import mnist_fits
from sklearn.model_selection import KFold

from optbench import registry

BATCH = 128
SECONDS: dict[tuple[str, int], tuple[float, float]] = {}
INITS = ("glorot_uniform", "lecun_uniform", "he_normal", "random_uniform")


@pytest.fixture(scope="module")
def folds():
    x, y, _, _ = mnist_fits.arrays("mnist", None, None)
    return x, y, list(KFold(3).split(x))


def members(folds, n: int, shared_order: bool = False) -> list[Member]:
    _, _, splits = folds
    plugin = registry.optimizer("rmsprop")
    tx = plugin.build(steps_per_epoch=-(-len(splits[0][0]) // BATCH))
    return [
        Member(ModelConfig(initializer=INITS[i % 4]), tx, 100 + i, *splits[i % 3],
               order_seed=i % 3 if shared_order else None)
        for i in range(n)
    ]  # fmt: skip


def _epoch(groups: list[MemberGroup]) -> tuple[float, float]:
    groups[0].train_to(1)  # warm-up: compiles the program every group here shares
    wall, cpu = time.perf_counter(), time.process_time()
    for group in groups:
        group.train_to(group.epoch + 1)
    return time.perf_counter() - wall, time.process_time() - cpu


@pytest.mark.parametrize("n_members", [6, 24])
@pytest.mark.parametrize("mode", ["sequential", "vmapped", "shared-order"])
def test_member_epoch(benchmark, folds, mode, n_members):
    """One epoch of every member: one program over all, or one program per member in turn."""
    x, y, _ = folds
    team = members(folds, n_members, shared_order=mode == "shared-order")
    if mode != "sequential":
        groups = [MemberGroup(x, y, team, BATCH)]
    else:
        groups = [MemberGroup(x, y, [m], BATCH, program_id="one") for m in team]
    wall, cpu = benchmark.pedantic(_epoch, args=(groups,), rounds=1, iterations=1)
    SECONDS[(mode, n_members)] = (wall, cpu)
    benchmark.extra_info |= {
        "mode": mode,
        "members": n_members,
        "wall_s_per_member_epoch": wall / n_members,
        "cpu_s_per_member_epoch": cpu / n_members,
    }
    if mode != "sequential" and ("sequential", n_members) in SECONDS:
        seq_wall, seq_cpu = SECONDS[("sequential", n_members)]
        benchmark.extra_info |= {"speedup_wall": seq_wall / wall, "speedup_cpu": seq_cpu / cpu}
