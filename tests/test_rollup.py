"""Rollups on hand-made rows: success rate, ERT, quartiles, ranks, profiles and ECDFs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optbench import rollup


def row(problem, optimizer, gap, n_fev, fev_to_1e_2=np.nan, status=None, lr=0.1):
    return {
        "run_key": f"{problem}-{optimizer}-{lr}-{gap}-{n_fev}",
        "problem": problem,
        "optimizer": optimizer,
        "hp.learning_rate": lr,
        "target": 1e-2,
        "f_gap": gap,
        "f_final": gap,
        "n_fev": n_fev,
        "fev_to.1e-2": fev_to_1e_2,
        "status": status or ("converged" if gap <= 1e-2 else "budget"),
        "wall_s": 0.1,
        "dim": 2,
    }


@pytest.fixture()
def runs():
    return pd.DataFrame(
        [
            # A on p: 2 of 4 succeed, at 30 and 50 evaluations; the failures spend 100 and 200.
            row("p", "A", 1e-3, 40, 30),
            row("p", "A", 1e-4, 60, 50),
            row("p", "A", 1.0, 100),
            row("p", "A", np.inf, 200, status="diverged"),
            # B on p: 1 of 2, at 10; the failure spends 90.
            row("p", "B", 1e-5, 10, 10),
            row("p", "B", 5.0, 90),
            # q: A never succeeds, B always does.
            row("q", "A", 3.0, 100),
            row("q", "A", 4.0, 100),
            row("q", "B", 1e-3, 20, 20),
            row("q", "B", 1e-3, 40, 40),
        ]
    )


def test_ert_and_success_rate_by_hand(runs):
    a_on_p = runs[(runs.problem == "p") & (runs.optimizer == "A")]
    assert rollup.success_rate(a_on_p, 1e-2) == 0.5
    assert rollup.ert(a_on_p, 1e-2) == (30 + 50 + 100 + 200) / 2
    b_on_p = runs[(runs.problem == "p") & (runs.optimizer == "B")]
    assert rollup.ert(b_on_p, 1e-2) == (10 + 90) / 1
    a_on_q = runs[(runs.problem == "q") & (runs.optimizer == "A")]
    assert rollup.ert(a_on_q, 1e-2) == np.inf and rollup.success_rate(a_on_q, 1e-2) == 0.0


def test_success_without_a_ladder_column_uses_the_final_gap(runs):
    plain = runs.drop(columns="fev_to.1e-2")
    assert rollup.success_rate(plain[plain.problem == "q"], 1e-2) == 0.5
    b_on_q = plain[(plain.problem == "q") & (plain.optimizer == "B")]
    assert rollup.ert(b_on_q, 1e-2) == (20 + 40) / 2


def test_summary_has_quartiles_and_no_nan(runs):
    table = rollup.summary(runs, targets=(1e-2,)).set_index(["problem", "label"])
    a = table.loc[("p", "A")]
    assert a["runs"] == 4 and a["success"] == 0.5 and a["ert"] == 190.0
    assert a["diverged"] == 0.25
    assert (a["gap_q1"], a["median_gap"], a["gap_q3"]) == (1e-4, 1e-3, 1.0)
    assert a["success.1e-2"] == 0.5 and a["ert.1e-2"] == 190.0
    assert (
        not table.drop(columns=[c for c in table if c.startswith(("ert", "gap_q3"))])
        .isna()
        .any()
        .any()
    )
    assert not table.isna().any().any()


def test_ranks_average_over_problems(runs):
    ranking = rollup.ranking(runs).set_index("label")
    # p: B has success 0.5 like A but the lower ERT (100 < 190): B 1, A 2. q: B 1, A 2.
    assert ranking.loc["B", "mean_rank"] == 1.0 and ranking.loc["A", "mean_rank"] == 2.0
    assert ranking.loc["B", "wins"] == 2
    assert list(ranking.index) == ["B", "A"]


def test_swept_hyperparameters_label_settings(runs):
    more = pd.concat([runs, pd.DataFrame([row("p", "A", 1e-3, 10, 10, lr=0.5)])])
    names = set(rollup.summary(more, targets=())["label"])
    assert {"A learning_rate=0.1", "A learning_rate=0.5", "B"} <= names


def test_labels_name_a_missing_value_and_keep_each_rows_setting(runs):
    more = pd.concat([runs, pd.DataFrame([row("p", "A", 1e-3, 10, 10, lr=np.nan)])])
    more = more.assign(**{"option.dim": [2] * (len(more) - 1) + [None]})
    labels = rollup.labels(more.iloc[::-1]).iloc[::-1]
    assert labels.tolist() == ["A learning_rate=0.1"] * 4 + ["B"] * 2 + [
        "A learning_rate=0.1"
    ] * 2 + ["B"] * 2 + ["A learning_rate=none"]
    assert rollup.problem_labels(more).tolist() == ["p:dim=2"] * 6 + ["q:dim=2"] * 4 + ["p"]


def test_landscape_table_shows_each_optimizers_best_success(runs):
    table = rollup.landscape_table(runs)
    assert table.loc["p", "A"] == 0.5 and table.loc["q", "B"] == 1.0 and table.loc["q", "A"] == 0.0


def test_performance_profile(runs):
    profile = rollup.performance_profile(runs, taus=[1.0, 2.0, 1e9])
    b = profile[profile.label == "B"].set_index("tau")["fraction"]
    a = profile[profile.label == "A"].set_index("tau")["fraction"]
    assert b.loc[1.0] == 1.0  # B is the best on both problems
    assert a.loc[1.0] == 0.0 and a.loc[2.0] == 0.5 and a.loc[1e9] == 0.5  # 190/100 on p, inf on q


def test_runtime_ecdf(runs):
    ecdf = rollup.runtime_ecdf(runs, targets=(1e-2,), budgets=[10.0, 25.0, 1000.0])
    b = ecdf[ecdf.label == "B"].set_index("evaluations_per_dim")["fraction"]
    # B solved p at 10 and q at 20 and 40 evaluations (dimension 2): 5, 10, 20 per dimension.
    assert b.loc[10.0] == pytest.approx(2 / 4) and b.loc[25.0] == pytest.approx(3 / 4)
    assert b.loc[1000.0] == pytest.approx(3 / 4)
