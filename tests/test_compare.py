"""optbench compare: the worsened cell flagged (exit 1), identical sets pass, tiny sets weak."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from optbench.cli import main
from optbench.compare import a12, a12_many, compare, correct, parse_fail_on
from optbench.contracts import RunResult
from optbench.errors import OptbenchError
from optbench.store import ResultsStore

LADDER = [
    f"fev_to.{t}"
    for t in ("1e1", "1e0", "1e-1", "1e-2", "1e-3", "1e-4", "1e-5", "1e-6", "1e-7", "1e-8")
]


def synthetic_runs(starts: int, worse: tuple[str, str] | None = None, seed: int = 0):
    """Landscape rows of 2 problems × 2 optimizers; `worse` takes 3× the evaluations there."""
    rng = np.random.default_rng(seed)
    rows = []
    for problem in ("beale", "booth"):
        for optimizer in ("adam", "l-bfgs-b"):
            for start in range(starts):
                fev = float(np.round(rng.lognormal(4, 0.3)))
                if (problem, optimizer) == worse:
                    fev *= 3
                key = f"{problem}-{optimizer}-{start}-{seed}"
                row = {
                    "run_key": key,
                    "runner": "landscape",
                    "problem": problem,
                    "optimizer": optimizer,
                    "seed": 0,
                    "start": start,
                    "target": 1e-8,
                    "dim": 2,
                    "status": "converged",
                    "f_gap": 1e-9,
                    "n_fev": fev,
                    "wall_s": 0.01,
                    "env.device": "cpu",
                    "env.optbench": "0.1.0",
                }
                row |= dict.fromkeys(LADDER, fev)
                rows.append(row)
    return pd.DataFrame(rows)


def write(tmp_path, name: str, runs: pd.DataFrame):
    folder = tmp_path / name
    ResultsStore(folder).write(
        RunResult(runs, pd.DataFrame(columns=["run_key", "step", "name", "value"]))
    )
    return folder


def test_worsened_cell_is_the_only_regression_and_exits_1(tmp_path):
    base = write(tmp_path, "base", synthetic_runs(30))
    new = write(tmp_path, "new", synthetic_runs(30, worse=("booth", "adam")))
    result = compare(base, new)
    flagged = result.regressions
    assert set(zip(flagged["problem"], flagged["setting"], strict=True)) == {("booth", "adam")}
    assert flagged["metric"].tolist() == ["ert"]
    row = flagged.iloc[0]
    assert row["test"] == "wilcoxon"  # same seeds and starts: paired
    assert row["a12"] < 0.05  # new runs almost never beat base runs (3x the evaluations)
    assert row["ratio"] == pytest.approx(3.0)
    assert row["ratio_low"] <= 3.0 <= row["ratio_high"]
    assert result.exit_code == 1
    out = CliRunner().invoke(main, ["compare", str(base), str(new), "-o", str(tmp_path / "c")])
    assert out.exit_code == 1, out.output
    assert "regression" in out.output and "booth" in out.output
    page = (tmp_path / "c" / "compare.html").read_text()
    assert "data:image/png;base64," in page and (tmp_path / "c" / "compare-ert.png").exists()


def test_identical_sets_exit_0(tmp_path):
    base = write(tmp_path, "base", synthetic_runs(30))
    again = write(tmp_path, "again", synthetic_runs(30))
    result = compare(base, again)
    assert set(result.table["verdict"]) == {"no change"}
    out = CliRunner().invoke(main, ["compare", str(base), str(again)])
    assert out.exit_code == 0, out.output
    assert "no significant change" in out.output


def test_tiny_sets_are_underpowered(tmp_path):
    base = write(tmp_path, "base", synthetic_runs(2, seed=1))
    new = write(tmp_path, "new", synthetic_runs(2, worse=("booth", "adam"), seed=2))
    result = compare(base, new)
    ert = result.table[result.table["metric"].eq("ert")]
    assert set(ert["verdict"]) == {"underpowered"}
    assert result.exit_code == 0


def test_usage_errors_exit_2(tmp_path):
    base = write(tmp_path, "base", synthetic_runs(3))
    other = synthetic_runs(3).assign(problem="matyas")
    other["run_key"] = other["run_key"] + "-m"
    mismatched = write(tmp_path, "other", other)
    runner = CliRunner()
    missing = runner.invoke(main, ["compare", str(base), str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    different = runner.invoke(main, ["compare", str(base), str(mismatched)])
    assert different.exit_code == 2 and "different studies" in different.output
    bad = runner.invoke(main, ["compare", str(base), str(base), "--fail-on", "ert:10"])
    assert bad.exit_code == 2 and "METRIC:+N" in bad.output


def test_fail_on_thresholds():
    thresholds = parse_fail_on("success_rate:-0.05,ert:+10%,wall_s:+25%")
    assert thresholds["success_rate"].exceeded(0.9, 0.8)
    assert not thresholds["success_rate"].exceeded(0.9, 0.87)
    assert thresholds["ert"].exceeded(100, 111) and not thresholds["ert"].exceeded(100, 109)
    with pytest.raises(OptbenchError, match="METRIC one of"):
        parse_fail_on("speed:+1")


def test_holm_and_bh_match_their_definitions():
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    holm = correct(p, "holm")
    assert holm[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert np.isnan(holm[4])
    assert correct(p, "bh")[:4] == pytest.approx(stats.false_discovery_control(p[:4]))
    assert correct(p, "none")[:4] == pytest.approx(p[:4])


def test_a12_from_mann_whitney():
    assert a12(np.array([1.0, 2.0]), np.array([3.0, 4.0]), lower_is_better=True) == 0.0
    assert a12(np.array([1.0, 2.0]), np.array([3.0, 4.0]), lower_is_better=False) == 1.0
    assert a12(np.array([1.0, 3.0]), np.array([1.0, 3.0]), lower_is_better=True) == 0.5


def test_a12_many_equals_one_cell_at_a_time():
    rng = np.random.default_rng(1)
    cells = [
        (rng.normal(size=nb).round(1), rng.normal(0.3, size=nn).round(1), lower)
        for nb, nn, lower in ((5, 5, True), (5, 5, False), (7, 4, True), (5, 5, True), (0, 3, True))
    ]
    many = a12_many(cells)
    for value, (base, new, lower) in zip(many[:4], cells[:4], strict=True):
        u = stats.mannwhitneyu(base, new).statistic / (len(base) * len(new))
        assert value == pytest.approx(u if lower else 1 - u, abs=1e-12)
    assert np.isnan(many[4]) and np.isnan(a12(np.array([]), np.array([1.0]), True))


def test_wilcoxon_many_equals_scipy_cell_by_cell():
    from optbench.report.signed_rank import method_of, wilcoxon_many

    rng = np.random.default_rng(2)
    cells = []
    for n in (6, 10, 13, 30, 60):
        cells.append(rng.normal(size=n))  # no ties: scipy's exact null distribution
        cells.append(np.round(rng.normal(size=n)))  # ties and zeros: permutation or normal
        tied = rng.normal(size=n)
        tied[:2] = 0.0
        cells.append(tied)
    methods = {method_of(d) for d in cells}
    assert methods == {"exact", "permutation", "asymptotic"}
    expected = [stats.wilcoxon(d).pvalue for d in cells]
    assert wilcoxon_many(cells).tolist() == pytest.approx(expected, rel=1e-12, abs=0)


def test_sorted_median_equals_numpy_median():
    from optbench.compare import sorted_median

    rng = np.random.default_rng(4)
    for shape in ((7,), (3, 10), (2, 5, 9)):
        values = rng.lognormal(size=shape)
        assert np.array_equal(sorted_median(values), np.median(values, axis=-1))
    with_nan = np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 4.0]])
    assert np.array_equal(sorted_median(with_nan), np.median(with_nan, axis=-1), equal_nan=True)
