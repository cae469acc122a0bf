"""The default study (#14): two instances, 50/10 starts per instance, `full` the previous one;
rollups put the instances side by side with n beside each rate; curves load only when asked."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from optbench import OptimizerEntry, Study, registry, rollup, run_study, suites
from optbench.cli.run_cmd import build_study
from optbench.errors import OptbenchError
from optbench.study import load_study

SCIPY = {"l-bfgs-b", "bfgs", "cg", "newton-cg", "tnc", "slsqp", "nelder-mead", "powell"}


@pytest.fixture(scope="module")
def default_specs():
    return load_study("default").specs()


def _instance(spec) -> int:
    return dict(spec.options).get("instance", 0)


def test_default_runs_every_landscape_in_instances_0_and_1(default_specs):
    landscapes = {p.obj.name for p in registry.plugins("landscape").values()}
    cells = Counter((s.problem, _instance(s)) for s in default_specs)
    assert {p for p, _ in cells} == landscapes
    assert {i for _, i in cells} == {0, 1}
    assert len(cells) == 2 * len(landscapes)


def test_default_starts_are_50_per_instance_for_optax_and_10_for_scipy(default_specs):
    starts: dict[tuple, set[int]] = {}
    for s in default_specs:
        starts.setdefault((s.problem, _instance(s), s.optimizer, s.hyperparameters), set()).add(
            s.start
        )
    for (_, _, optimizer, _), seen in starts.items():
        assert seen == set(range(10 if optimizer in SCIPY else 50)), optimizer


def test_full_is_the_previous_default_and_holds_the_default_instance_0_runs(default_specs):
    full = load_study("full").specs()
    assert {_instance(s) for s in full} == {0}
    assert Counter(s.start for s in full) == Counter({k: len(full) // 100 for k in range(100)})
    assert len({s.key for s in full}) == 182_400
    zero = {s.key for s in default_specs if _instance(s) == 0}
    assert zero <= {s.key for s in full}, "the default's instance-0 runs are reused by `full`"


def test_suite_with_options_gives_each_problem_the_options():
    assert "beale:instance=1" in suites.expand("suite:2d:instance=1")
    assert "rosenbrock:dim=5,instance=1" in suites.expand("suite:nd-5:instance=1")
    assert len(suites.expand("suite:all:instance=2")) == len(suites.expand("suite:all"))


def test_starts_flag_overrides_each_optimizers_own_starts():
    study = build_study(None, None, (), (), (), None, 3, None, None)
    assert {entry.starts for entry in study.optimizers} == {None} and study.starts == 3
    kept = build_study(None, None, (), (), (), None, None, None, None)
    assert {e.starts for e in kept.optimizers if e.name in SCIPY} == {10}


def test_an_optimizers_starts_must_be_a_positive_integer():
    expected = r"optimizer 'bfgs'\.starts must be a positive integer, got 0"
    with pytest.raises(OptbenchError, match=expected):
        OptimizerEntry.parse({"name": "bfgs", "starts": 0})


def _row(problem, instance, optimizer, gap):
    return {
        "run_key": f"{problem}{instance}{optimizer}{gap}",
        "problem": problem,
        "option.instance": np.nan if instance == 0 else float(instance),
        "optimizer": optimizer,
        "target": 1e-2,
        "f_gap": gap,
        "n_fev": 10,
        "status": "budget",
        "wall_s": 0.1,
        "dim": 2,
    }


@pytest.fixture()
def two_instances():
    # On p, A solves instance 0 from 2 of 2 starts and instance 1 from 1 of 4; B never does.
    rows = [_row("p", 0, "A", g) for g in (1e-3, 1e-4)]
    rows += [_row("p", 1, "A", g) for g in (1e-3, 1.0, 2.0, 3.0)]
    rows += [_row("p", i, "B", 5.0) for i in (0, 1) for _ in range(3)]
    return pd.DataFrame(rows).assign(run_key=[f"run{i}" for i in range(len(rows))])


def test_summary_and_ranking_put_instances_side_by_side_with_n(two_instances):
    wide = rollup.summary_by_instance(two_instances).set_index("label")
    assert list(wide["problem"]) == ["p", "p"]
    assert (wide.loc["A", "success.i0"], wide.loc["A", "runs.i0"]) == (1.0, 2)
    assert (wide.loc["A", "success.i1"], wide.loc["A", "runs.i1"]) == (0.25, 4)
    ranking = rollup.ranking(two_instances).set_index("label")
    assert ranking.loc["A", ["success.i0", "n.i0", "success.i1", "n.i1"]].tolist() == [
        1.0, 2, 0.25, 4
    ]  # fmt: skip
    assert ranking.loc["B", "n"] == 3 and ranking.loc["A", "n"] == 2
    table = rollup.landscape_table(two_instances)
    assert table.loc["p", ("A", 0)] == 1.0 and table.loc["p", ("A", 1)] == 0.25
    assert rollup.landscape_counts(two_instances)[("A", 1)] == 4


def test_run_study_loads_curves_only_when_asked(tmp_path):
    study = Study(problems=("beale",), optimizers=(OptimizerEntry("adam"),), starts=2,
                  budget={"steps": 20})  # fmt: skip
    lazy = run_study(study, tmp_path, quiet=True)
    assert len(lazy.results.runs) == 2 and lazy.results.curves.empty
    eager = run_study(study, tmp_path, quiet=True, curves=True)
    assert set(eager.results.curves["run_key"]) == set(lazy.results.runs["run_key"])


def test_cli_landscape_cells_show_both_instances_and_their_n(two_instances):
    from optbench.cli.summary import landscape_text

    text = landscape_text(rollup.summary(two_instances, targets=())).set_index("problem")
    assert (text.loc["p", "A"], text.loc["p", "B"]) == ("1.00/0.25", "0.00/0.00")
    assert (text.loc["n", "A"], text.loc["n", "B"]) == ("2/4", "3/3")
