"""README.md runs as written: its plugin snippet installs and works, and every `optbench` command
in it plans (`--dry-run`) without error; the quick ones run for real."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from optbench import registry
from optbench.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
PLUGIN_SECTION = "## Writing a plugin in your own package"
QUICK = ("--x0",)  # commands that finish in about a second
EXECUTED = {"run", "list", "show", "studies", "data"}
"""Commands run (`run` with --dry-run); the others (search, report, compare, regress) and those
naming a user's own study file only have their options checked against the command's."""


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start : end if end > 0 else None]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def commands(text: str) -> list[list[str]]:
    """Every `optbench ...` command: the lines (and `&&` parts) of bash blocks and the inline code
    spans of the prose, comments removed, placeholders (`NAME`, `[...]`) left out, split as a
    shell would."""
    lines = [
        part.split("  #")[0].strip()
        for block in blocks(text, "bash")
        for line in block.replace("\\\n", " ").splitlines()
        for part in line.split("&&")
    ]
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    lines += re.findall(r"`(optbench [^`]*)`", prose)
    placeholder = re.compile(r"[\[…]|\b[A-Z]{2,}\b")
    found: list[list[str]] = []
    for line in lines:
        if line.startswith("optbench ") and not placeholder.search(line) and "$(" not in line:
            words = shlex.split(line)
            if words not in found:
                found.append(words)
    return found


def readme_commands() -> list[list[str]]:
    plugin = section(PLUGIN_SECTION)
    return commands(README.read_text().replace(plugin, ""))


def test_the_readme_has_the_commands_this_test_relies_on():
    found = [" ".join(c) for c in readme_commands()]
    assert "optbench run" in found and "optbench run -l suite:smooth-2d --starts 10" in found
    assert any(c.startswith("optbench run seed-mnist") for c in found)
    assert "optbench data download mnist" in found


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """No dataset reachable, as on a fresh machine (MNIST commands plan without a time)."""
    monkeypatch.setenv("OPTBENCH_DATA", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("OPTBENCH_QUIET", "1")


@pytest.mark.parametrize("command", readme_commands(), ids=" ".join)
def test_every_readme_command_runs_as_written(command, no_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if command[:3] == ["optbench", "data", "download"]:
        pytest.skip("downloads from the network; tests/test_datasets.py serves it locally")
    args = command[1:]
    if args[0] not in EXECUTED or any(arg.endswith(".toml") for arg in args):
        assert_options_exist(command)
        return
    quick = any(flag in args for flag in QUICK)
    if args[0] == "run" and not quick and "--dry-run" not in args:
        args = [*args, "--dry-run"]
        if [*command, "--dry-run"] in readme_commands():
            pytest.skip("the README also shows this command with --dry-run, planned there")
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    if "--dry-run" in args:
        assert " to run" in result.output and "estimated time: " in result.output
    if quick:
        assert "results: results/" in result.output and (tmp_path / "results").is_dir()


def assert_options_exist(command: list[str]) -> None:
    """The subcommand exists and declares every option the README gives it."""
    assert command[1] in main.commands, f"no command {command[1]!r}: {sorted(main.commands)}"
    declared = {
        flag
        for param in main.commands[command[1]].params
        for flag in (*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ()))
    }
    used = {arg.split("=")[0] for arg in command[2:] if arg.startswith("-")}
    assert used <= declared, f"{' '.join(command)}: unknown {sorted(used - declared)}"


PACKAGE_NAME = "my-package"


@pytest.fixture(scope="module")
def readme_package(tmp_path_factory):
    """The README's plugin snippet written out as a package and pip-installed; removed after."""
    text = section(PLUGIN_SECTION)
    (pyproject,), (module,) = blocks(text, "toml"), blocks(text, "python")
    root = tmp_path_factory.mktemp("readme-plugin")
    (root / "pyproject.toml").write_text(pyproject)
    (root / "my_package").mkdir()
    (root / "my_package" / "__init__.py").write_text(module)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    install = ["install", "--no-deps", "--no-build-isolation", "--no-index", str(root)]
    subprocess.run([*pip, *install], check=True, capture_output=True)
    registry.refresh()
    yield commands(text)
    subprocess.run([*pip, "uninstall", "-y", PACKAGE_NAME], check=False, capture_output=True)
    registry.refresh()


def test_the_readme_plugin_installs_and_its_commands_run(readme_package, tmp_path):
    ran = 0
    for command in readme_package:
        done = subprocess.run(
            [sys.executable, "-m", "optbench", *command[1:]],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert done.returncode == 0, (command, done.stderr[-2000:])
        assert "warning" not in done.stderr, done.stderr
        ran += 1
    assert ran == 4
    listed = subprocess.run([sys.executable, "-m", "optbench", "list"], capture_output=True,
                            text=True, cwd=tmp_path)  # fmt: skip
    for name in ("my-bowl", "my-signsgd", "my-runner"):
        line = next(row for row in listed.stdout.splitlines() if row.startswith(name))
        assert PACKAGE_NAME in line
    stored = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert stored == [
        "my-bowl-dim=3_my-signsgd_bfgs_starts=2",
        "my-runner_my-bowl_nelder-mead_starts=3",
    ]
