"""The `optbench` command line: listing, running, the seed's Beale result, and usage errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from optbench import load_results
from optbench.cli import main


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_list_shows_kind_distribution_and_description(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    result = invoke("list", "optimizers")
    assert result.exit_code == 0
    line = next(row for row in result.output.splitlines() if row.strip().startswith("l-bfgs-b"))
    assert "scipy" in line and "optbench" in line and "Limited-memory BFGS" in line
    assert "landscape" in invoke("list", "runners").output
    assert max(len(row) for row in result.output.splitlines()) <= 100


def test_seed_beale_reproduction_with_finite_differences(tmp_path):
    result = invoke(
        "run",
        "-q",
        "-l",
        "beale",
        "-o",
        "l-bfgs-b",
        "--x0",
        "4,4",
        "--set",
        "jac=none",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "beale" in result.output and "l-bfgs-b" in result.output
    row = load_results(tmp_path).runs.iloc[0]
    x = np.array(json.loads(row["x_final"]))
    assert np.allclose(x, [3.00000257, 0.50000085], atol=5e-9)
    assert (row["nit"], row["nfev"]) == (14, 60)
    assert row["f_final"] == pytest.approx(2.068e-12, rel=1e-3)
    assert row["status"] == "converged" and row["hp.jac"] == "none"
    assert json.loads(row["option.x0"]) == [4.0, 4.0]


def test_seed_beale_with_exact_gradients_needs_fewer_evaluations(tmp_path):
    result = invoke(
        "run", "-q", "-l", "beale", "-o", "l-bfgs-b", "--x0", "4,4", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    row = load_results(tmp_path).runs.iloc[0]
    assert row["hp.jac"] == "exact"
    assert np.allclose(json.loads(row["x_final"]), [3.0, 0.5], atol=1e-5)
    assert row["n_fev"] < 60 and row["n_gev"] == row["n_fev"]
    assert row["f_final"] < 1e-10


def test_rerun_reports_skipped_runs(tmp_path):
    args = (
        "run",
        "-q",
        "-l",
        "beale",
        "-o",
        "nelder-mead",
        "--starts",
        "3",
        "--out",
        str(tmp_path),
    )
    assert "ran 3 run(s), skipped 0" in invoke(*args).output
    assert "ran 0 run(s), skipped 3 already stored" in invoke(*args).output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-l", "bael"], "unknown landscape 'bael'. Did you mean: beale"),
        (["-o", "adamm"], "unknown optimizer 'adamm'. Did you mean: adam"),
        (["-r", "nope"], "unknown runner 'nope'"),
        (
            ["-o", "l-bfgs-b", "--set", "learning_rat=0.1"],
            "unknown hyperparameter 'learning_rat' for optimizer 'l-bfgs-b'; valid: ",
        ),
        (["--set", "lr"], "malformed assignment 'lr': expected name=value"),
        (["--set", "=3"], "malformed assignment '=3'"),
        (["--x0", "4,a"], "malformed point '4,a': expected comma-separated numbers"),
        (
            ["-l", "beale", "-o", "bfgs", "--x0", "1,2,3"],
            "beale: point of shape (3,) given; expected shape (2,)",
        ),
        (["-l", "beale:dim=3", "-o", "bfgs"], "beale is defined in 2-D only; dim=3 is not allowed"),
        (
            ["-o", "bfgs:jac=4-point", "-l", "beale"],
            "jac='4-point' is not allowed; choose one of exact",
        ),
        (["does-not-exist.toml"], "study file 'does-not-exist.toml' does not exist"),
        (["no-such-study"], "unknown study 'no-such-study'"),
    ],
)
def test_usage_errors_exit_2_with_a_message(tmp_path, args, message):
    result = CliRunner().invoke(main, ["run", "-q", "--out", str(tmp_path), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()


def test_study_file(tmp_path):
    study = tmp_path / "mine.toml"
    study.write_text(
        'landscapes = ["beale"]\nstarts = 4\nseeds = [0, 1]\n'
        '[[optimizers]]\nname = "sgd"\ngrid = { learning_rate = [0.001, 0.002] }\n'
    )
    result = invoke("run", "-q", str(study), "--steps", "50", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    runs = load_results(tmp_path / "out").runs
    assert len(runs) == 2 * 2 * 4
    assert sorted(runs["hp.learning_rate"].unique()) == [0.001, 0.002]
    assert set(runs["budget.steps"]) == {50}


def test_bad_study_file_key(tmp_path):
    study = tmp_path / "bad.toml"
    study.write_text('landscapes = ["beale"]\noptimizers = ["bfgs"]\nstepz = 3\n')
    result = CliRunner().invoke(main, ["run", str(study)])
    assert result.exit_code == 2
    assert "unknown study key(s) ['stepz']; allowed:" in result.output


def test_single_scipy_run_prints_x_and_scipys_counts_and_names_its_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(
        "run", "-q", "-l", "beale", "-o", "l-bfgs-b", "--x0", "4,4", "--set", "jac=none"
    )
    assert result.exit_code == 0, result.output
    assert "  x     (3.00000257, 0.50000085)\n" in result.output
    assert "  scipy nit 14, nfev 60, njev 20" in result.output
    folder = "results/beale_l-bfgs-b_x0=4,4_jac=none"
    assert f"results: {folder} " in result.output
    assert len(load_results(tmp_path / folder).runs) == 1


def test_ranking_says_how_many_settings_are_hidden(tmp_path):
    args = ["run", "-q", "-l", "booth", "-l", "matyas", "-o", "bfgs", "-o", "cg", "-o", "powell"]
    args += ["--starts", "2", "--out", str(tmp_path)]
    top = invoke(*args, "--top", "2").output
    assert "… 1 more setting(s) of 3: --top N or --all to show them" in top
    assert "median_ert" in top and "success at 1e-08" in top
    every = invoke(*args, "--all").output
    assert "more setting(s)" not in every
    assert all(
        name in every.split("ranking across problems")[1] for name in ("bfgs", "cg", "powell")
    )


def test_dry_run_prints_the_plan_and_stores_nothing(tmp_path):
    out = tmp_path / "plan"
    result = invoke("run", "-l", "beale", "-l", "booth", "-o", "adam", "-o", "bfgs",
                    "--starts", "3", "--out", str(out), "--dry-run")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "12 runs, 0 already stored" in result.output
    assert "programs to compile: 1" in result.output and "estimated time: " in result.output
    lines = result.output.splitlines()
    optax = next(line for line in lines if line.startswith("optax"))
    assert optax.split()[2:5] == ["6", "1", "2"]  # runs, settings, problems
    assert not out.exists()


def test_number_formats_are_consistent():
    from optbench.cli.common import number_text

    assert [number_text(v) for v in (1001.0, 24.5, 5.26e-12, 1e-8, 0.0865, float("inf"))] == [
        "1001", "24.5", "5.26e-12", "1e-08", "0.0865", "inf"]  # fmt: skip


def test_a_closed_pipe_exits_quietly():
    import subprocess
    import sys

    command = f"{sys.executable} -m optbench list optimizers | true"  # true reads nothing
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr
