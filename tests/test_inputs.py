"""Bad input is refused before work starts: exit 2, one line naming the field and the type."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from optbench.runners.landscape import memory

from optbench import OptimizerEntry, Study
from optbench.cli import main
from optbench.errors import OptbenchError


def refused(*args: str, out) -> str:
    """The one-line error of an `optbench run` that must not start."""
    result = CliRunner().invoke(main, ["run", "-q", *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not (out / "runs").exists()
    return result.output.strip().splitlines()[-1]


SET_TYPES = [
    ("starts=ten", "--set starts must be a positive integer, got 'ten' (string)"),
    ("starts=2.5", "--set starts must be a positive integer, got 2.5 (float)"),
    ("seed=abc", "--set seed must be a non-negative integer, got 'abc' (string)"),
    ("steps=0", "--set steps must be a positive integer, got 0 (int)"),
    ("target=-1", "--set target must be a positive number, got -1 (int)"),
    ("x0=abc", "x0 must be a list of 2 numbers, e.g. x0=[4,4] or --x0 4,4; got 'abc'"),
    ("restarts=abc", "option restarts must be true or false, got 'abc'"),
]


@pytest.mark.parametrize(("assignment", "message"), SET_TYPES)
def test_set_values_are_typed(assignment, message, tmp_path):
    line = refused("-l", "beale", "-o", "adam", "--set", assignment, out=tmp_path / "o")
    assert line == f"Error: {message}"


STUDY_FIELDS = [
    ('starts = "ten"', "starts must be a positive integer, got 'ten' (string)"),
    ("starts = 2.7", "starts must be a positive integer, got 2.7 (float)"),
    ("starts = true", "starts must be a positive integer, got True (boolean)"),
    ('seeds = ["a"]', "seeds must be a non-negative integer or a non-empty list of them, "
                      "got ['a'] (list)"),
    ("runner = 7", "runner must be a string, got 7 (int)"),
    ("options = 5", "options must be a table (k = v pairs), got 5 (int)"),
    ("landscapes = [3]", "landscapes must be a string or a non-empty list of strings, "
                         "got [3] (list)"),
    ("optimizers = [1, 2]", "optimizers[0] must be a string or a table with a name, got 1 (int)"),
    ('[[optimizers]]\nname = "adam"\ngrid = 5',
     "optimizers[0].grid must be a table (k = v pairs), got 5 (int)"),
    ('[[optimizers]]\nname = "adam"\ngrid = {learning_rate = []}',
     "optimizers[0].grid.learning_rate must be a non-empty list of values, got [] (list)"),
    ('[[optimizers]]\nname = "adam"\nhyperparameters = 3',
     "optimizers[0].hyperparameters must be a table (k = v pairs), got 3 (int)"),
]  # fmt: skip


@pytest.mark.parametrize(("field", "message"), STUDY_FIELDS)
def test_every_study_field_is_checked_by_its_type(field, message, tmp_path):
    lines = ['name = "typed"']
    lines += [] if field.startswith("landscapes") else ['landscapes = ["beale"]']
    lines += [] if "optimizers" in field else ['optimizers = ["adam"]']
    path = tmp_path / "study.toml"
    path.write_text("\n".join([*lines, field]) + "\n")
    line = refused(str(path), out=tmp_path / "o")
    assert line == f"Error: study file {str(path)!r}: {message}"


def test_a_study_file_that_is_not_utf8_is_one_line(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    line = refused(str(path), out=tmp_path / "o")
    assert line == f"Error: study file {str(path)!r} is not UTF-8 text (byte 11); save it as UTF-8"


def test_a_single_optimizer_name_is_one_optimizer():
    study = Study.from_dict({"landscapes": "beale", "optimizers": "adam", "seed": 3})
    assert study.optimizers == (OptimizerEntry("adam"),)
    assert (study.problems, study.seeds) == (("beale",), (3,))


PROBLEM_OPTIONS = [
    ("rosenbrock:dims=10", "unknown option 'dims' in 'rosenbrock:dims=10' for runner "
                           "'landscape' (did you mean 'dim'?); valid: allow_outside, dim, "
                           "instance, restarts, trajectories, x0"),
    ("beale:foo=1", "unknown option 'foo' in 'beale:foo=1' for runner 'landscape'; valid: "
                    "allow_outside, dim, instance, restarts, trajectories, x0"),
    ("rosenbrock:dim=5,dim=6", "'dim' is given twice in 'rosenbrock:dim=5,dim=6'; give each "
                               "name once"),
]  # fmt: skip


@pytest.mark.parametrize(("problem", "message"), PROBLEM_OPTIONS)
def test_problem_options_are_checked(problem, message, tmp_path):
    assert refused("-l", problem, "-o", "adam", out=tmp_path / "o") == f"Error: {message}"


REFUSED_VALUES = [
    (("--x0", "nan,nan"), "x0 must be finite, got [nan, nan]"),
    (("--x0", "inf,1"), "x0 must be finite, got [inf, 1.0]"),
    (("--x0", "9,1"), "x0=[9.0, 1.0] lies outside the domain of beale (coordinate 0 is 9, the "
                      "domain is [-4.5, 4.5]); --set allow_outside=true runs it anyway"),
    (("--set", "epochs=3"), "the landscape runner does not use the budget epochs; its budgets "
                            "are steps, evaluations, seconds"),
    (("--x0", "4,4", "--starts", "3"), "x0 fixes the start point, so starts > 1 would run "
                                       "identical copies; use starts=1 (or a noisy instance, "
                                       "whose runs differ)"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), REFUSED_VALUES)
def test_values_that_cannot_be_meant_are_refused(args, message, tmp_path):
    assert refused("-l", "beale", "-o", "adam", *args, out=tmp_path / "o") == f"Error: {message}"


def test_a_start_outside_the_domain_runs_when_allowed(tmp_path):
    result = CliRunner().invoke(main, ["run", "-q", "-l", "beale", "-o", "bfgs",
                                       "--x0", "9,1", "--set", "allow_outside=true",
                                       "--out", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 0, result.output


def test_mnist_batch_larger_than_the_training_set_is_refused(tmp_path):
    line = refused("-r", "mnist", "-o", "adam", "--set", "batch_size=50001", out=tmp_path / "o")
    assert line == (
        "Error: batch_size=50001 is larger than the training set (50000 images with "
        "validation=split); the largest batch is the whole set"
    )
    line = refused("-r", "mnist", "-o", "adam", "--set", "batch_size=65",
                   "--set", "subset=64", out=tmp_path / "o")  # fmt: skip
    assert "larger than the training set (64 images" in line


def test_a_dense_hessian_method_that_cannot_fit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 16 * memory.GIB)
    line = refused("-l", "rosenbrock:dim=100000", "-o", "bfgs", out=tmp_path / "o")
    assert line == (
        "Error: bfgs keeps its inverse-Hessian approximation as a dense 100000×100000 matrix: "
        "at least 74.5 GiB at dim=100000, more than the 16.0 GiB of memory available; use "
        "l-bfgs-b or cg (or a smaller dim)"
    )
    with pytest.raises(OptbenchError, match="trust-exact keeps the exact Hessian"):
        Study(
            problems=("rosenbrock:dim=50000",), optimizers=(OptimizerEntry("trust-exact"),)
        ).specs()
    Study(problems=("rosenbrock:dim=50000",), optimizers=(OptimizerEntry("l-bfgs-b"),)).specs()
