"""`optbench show`: metadata with every minimiser, and a contour plot of the expected size."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from click.testing import CliRunner
from optbench.landscapes.plot import is_wide, plot_landscape

from optbench import registry
from optbench.cli import main


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def png_size(path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_show_prints_metadata_and_every_minimizer():
    result = invoke("show", "himmelblau")
    assert result.exit_code == 0
    out = result.output
    assert "bounds:      [-5, 5]^2" in out and "f_min:       0.0" in out
    assert "tags:        differentiable, multimodal" in out and "minimisers:  4" in out
    for line in (
        "3.0, 2.0",
        "-2.805118086952745, 3.131312518250573",
        "-3.779310253377747, -3.2831859912861696",
        "3.5844283403304917, -1.8481265269644036",
    ):
        assert f"  {line}\n" in out  # fmt: skip


def test_show_an_instance_of_an_n_dimensional_landscape():
    out = invoke("show", "trid", "--dim", "4", "--instance", "2003").output
    assert "name:        trid[2003]" in out and "dimension:   4 (scalable)" in out
    assert "bounds:      [-16, 16]^4" in out and "f_min:       -16.0" in out
    assert "noise:       AdditiveNoise" in out and "shifted" in out


def test_show_writes_a_png_of_the_expected_size(tmp_path):
    path = tmp_path / "branin.png"
    result = invoke("show", "branin", "--plot", str(path))
    assert result.exit_code == 0 and f"plot:        {path}" in result.output
    assert png_size(path) == (640, 480)
    sliced = tmp_path / "rastrigin.png"
    result = invoke("show", "rastrigin", "--dim", "5", "--instance", "1", "--plot", str(sliced))
    assert result.exit_code == 0
    assert png_size(sliced) == (640, 480)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["beale", "--dim", "3"], "beale is defined in 2-D only; dim=3 is not allowed"),
        (["sphere", "--dim", "0"], "sphere: dim=0 is not allowed; use an integer >= 1"),
        (["beale", "--instance", "-2"], "instance must be a non-negative integer, got -2"),
        (["bael"], "unknown landscape 'bael'. Did you mean: beale"),
    ],
)
def test_show_refuses_bad_input(args, message):
    result = CliRunner().invoke(main, ["show", *args])
    assert result.exit_code == 2 and message in result.output


def test_plot_marks_every_minimizer_and_draws_trajectories():
    landscape = registry.landscape("shubert").make()
    trajectory = np.array([[0.0, 0.0], [-0.5, -1.0], [-0.8, -1.4]])
    ax = plot_landscape(landscape, trajectories=[trajectory], resolution=60)
    marks, path, _end = ax.lines
    assert len(marks.get_xdata()) == 18
    np.testing.assert_array_equal(path.get_xydata(), trajectory)
    assert ax.get_xlim() == (-10.0, 10.0)


def test_a_wide_range_is_plotted_on_a_log_scale():
    assert is_wide(np.array([1e-3, 1.0, 10.0, 1e5] * 10))
    assert not is_wide(np.array([0.5, 1.0, 2.0, 3.0] * 10))
    ax = plot_landscape(registry.landscape("beale").make(), resolution=40)
    assert ax.collections[0].norm.__class__.__name__ == "LogNorm"
