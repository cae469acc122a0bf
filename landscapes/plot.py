"""Contour plots of a landscape with every global minimiser marked, and optional trajectories."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from optbench.contracts import Landscape
from optbench.errors import OptbenchError

WIDE_RANGE = 1e2
FIGSIZE = (6.4, 4.8)
DPI = 100


def grid_values(
    landscape: Landscape, axes: tuple[int, int], resolution: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The function on a grid over two coordinates; the others sit at the first minimiser."""
    i, j = axes
    xs = np.linspace(landscape.lower[i], landscape.upper[i], resolution)
    ys = np.linspace(landscape.lower[j], landscape.upper[j], resolution)
    gx, gy = np.meshgrid(xs, ys)
    points = np.repeat(landscape.minimizers[:1], gx.size, axis=0)
    points[:, i], points[:, j] = gx.ravel(), gy.ravel()
    values = np.asarray(jax.jit(jax.vmap(landscape.fn))(points)).reshape(gx.shape)
    return gx, gy, values


def is_wide(gaps: np.ndarray) -> bool:
    """Whether the gaps above f_min span more than WIDE_RANGE, so a log scale reads better."""
    finite = gaps[np.isfinite(gaps)]
    floor = np.percentile(finite, 5)
    return bool(finite.max() > WIDE_RANGE * max(floor, 1e-12 * max(finite.max(), 1e-300)))


def plot_landscape(
    landscape: Landscape,
    path: str | Path | None = None,
    *,
    trajectories: Sequence[np.ndarray] = (),
    axes: tuple[int, int] = (0, 1),
    resolution: int = 200,
    ax: Any = None,
) -> Any:
    """Filled contours of `f` (of log10(f - f_min) where the range is wide), minimisers marked.

    Writes a FIGSIZE × DPI PNG (640 × 480 pixels) to `path` when given; returns the Axes.
    Trajectories are arrays of points (steps × dim) drawn as lines over the same two axes.
    """
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure
    from matplotlib.ticker import LogFormatterSciNotation, LogLocator

    if landscape.dim < 2:
        raise OptbenchError(f"{landscape.name}: dim={landscape.dim}; contour plots need dim >= 2")
    fig = None
    if ax is None:
        fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
    i, j = axes
    gx, gy, values = grid_values(landscape, axes, resolution)
    gaps = values - landscape.f_min
    is_log = is_wide(gaps)
    if is_log:
        positive = np.clip(gaps, max(np.percentile(gaps, 1), 1e-12 * np.max(gaps)), None)
        levels = np.geomspace(positive.min(), positive.max(), 30)
        filled = ax.contourf(gx, gy, positive, levels=levels, norm=LogNorm(), cmap="viridis")
        label = "f - f_min (log scale)"
    else:
        filled = ax.contourf(gx, gy, values, levels=30, cmap="viridis")
        label = "f"
    bar = ax.figure.colorbar(filled, ax=ax, label=label)
    if is_log:
        low, high = levels[0], levels[-1]
        subs = (1.0,) if np.log10(high / low) >= 3 else (1.0, 2.0, 5.0)
        bar.locator = LogLocator(base=10, subs=subs)
        bar.formatter = LogFormatterSciNotation(base=10, labelOnlyBase=False)
        bar.minorticks_off()
        bar.update_ticks()
    others = [k for k in range(landscape.dim) if k not in axes]
    on_slice = np.all(
        np.isclose(landscape.minimizers[:, others], landscape.minimizers[0, others]), axis=1
    )
    marked = landscape.minimizers[on_slice]
    ax.plot(marked[:, i], marked[:, j], "r*", markersize=12, markeredgecolor="white",
            linestyle="none", label=f"global minimisers ({len(marked)})")  # fmt: skip
    for trajectory in trajectories:
        points = np.asarray(trajectory)
        ax.plot(points[:, i], points[:, j], "-", linewidth=1, color="white", alpha=0.8)
        ax.plot(points[-1, i], points[-1, j], "wo", markersize=4)
    ax.set_xlim(landscape.lower[i], landscape.upper[i])
    ax.set_ylim(landscape.lower[j], landscape.upper[j])
    ax.set_xlabel(f"x{i + 1}")
    ax.set_ylabel(f"x{j + 1}")
    title = landscape.name if landscape.dim == 2 else f"{landscape.name}, {landscape.dim}-D slice"
    ax.set_title(f"{title}: f_min = {landscape.f_min:.6g}")
    ax.legend(loc="upper right", fontsize="small")
    if fig is not None and path is not None:
        fig.savefig(path, dpi=DPI)
    return ax
