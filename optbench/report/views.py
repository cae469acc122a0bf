"""Landscape views: a 2-D landscape shaded by decades of f − f_min, one panel per setting with
its recorded paths. The panels are tiles of one Axes (each clipped to its square), which draws
many times faster than one Axes per panel."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from optbench import registry
from optbench.landscapes.plot import grid_values
from optbench.report.figures import DPI, short

Place = Callable[[np.ndarray], np.ndarray]
SHADE_RESOLUTION = 200  # about one grid point per pixel of a panel
PANEL = 2.0  # inches per panel side
GAP_X, GAP_Y = 0.04, 0.12  # between panels, in panel sides (the row gap holds the titles)
MARGIN, TITLE = 0.08, 0.3  # inches around the tiles, and above them for the title


def landscape_view(
    problem: str,
    options: Mapping[str, int | None],
    paths: Mapping[str, list[np.ndarray]],
    colours: Mapping[str, tuple],
    columns: int = 6,
) -> Figure:
    """One panel per setting: the landscape (log10 of f − f_min, one colour per decade), its
    global minimisers (red stars) and the setting's paths from the same starts (× start, • end)."""
    landscape = registry.landscape(problem).make(
        dim=options.get("dim"), instance=int(options.get("instance") or 0)
    )
    _, _, values = grid_values(landscape, (0, 1), SHADE_RESOLUTION)
    shade = np.log10(np.clip(values - landscape.f_min, 1e-12, None))
    decades = decade_bounds(shade)
    cmap = colormaps["viridis"].resampled(len(decades) - 1)
    norm = BoundaryNorm(decades, cmap.N)
    columns = min(columns, max(len(paths), 1))
    rows = -(-len(paths) // columns)
    wide, tall = columns * (1 + GAP_X) - GAP_X, rows * (1 + GAP_Y)
    width, height = wide * PANEL + 2 * MARGIN, tall * PANEL + MARGIN + TITLE
    fig = Figure(figsize=(width, height), dpi=DPI)
    ax = fig.add_axes(
        (MARGIN / width, MARGIN / height, wide * PANEL / width, tall * PANEL / height)
    )
    ax.set_axis_off()
    lower, span = landscape.lower[:2], landscape.upper[:2] - landscape.lower[:2]
    for k, (setting, lines) in enumerate(paths.items()):
        row, column = divmod(k, columns)
        corner = np.array([column * (1 + GAP_X), (rows - 1 - row) * (1 + GAP_Y)])
        square = Rectangle(corner, 1, 1, transform=ax.transData)
        ax.imshow(
            shade,
            origin="lower",
            extent=(corner[0], corner[0] + 1, corner[1], corner[1] + 1),
            aspect="auto",
            cmap=cmap,
            norm=norm,
            interpolation="nearest",
        )
        place = _placer(lower, span, corner)
        _panel(ax, place, landscape.minimizers, lines, colours[setting.split(" ")[0]], square)
        ax.add_patch(
            Rectangle(corner, 1, 1, fill=False, edgecolor="black", linewidth=0.8, clip_on=False)
        )
        ax.text(
            corner[0] + 0.5,
            corner[1] + 1.02,
            short(setting),
            ha="center",
            va="bottom",
            fontsize="x-small",
        )
    ax.set_xlim(0, wide)
    ax.set_ylim(0, tall)
    fig.suptitle(
        f"{landscape.name}: log10(f − f_min), one colour per decade from {decades[0]:.0f} "
        f"(dark) to {decades[-1]:.0f} (light), f_min = {landscape.f_min:.6g}",
        fontsize="medium",
        y=1 - 0.1 / height,
        va="top",
    )
    return fig


def _placer(lower: np.ndarray, span: np.ndarray, corner: np.ndarray) -> Place:
    """Landscape coordinates → the unit square at `corner` of the tiled Axes."""
    return lambda points: (points[:, :2] - lower) / span + corner


def _panel(
    ax: Axes,
    place: Place,
    minimizers: np.ndarray,
    lines: Sequence[np.ndarray],
    colour: tuple,
    square: Rectangle,
) -> None:
    """A panel's minimisers and paths (each setting's paths as one NaN-separated line), clipped
    to its square (set after plotting: the Axes gives a new line its own clip otherwise)."""
    stars = place(minimizers)
    joined = np.concatenate([np.vstack([place(p), np.full((1, 2), np.nan)]) for p in lines])
    starts = place(np.array([p[0] for p in lines]))
    ends = place(np.array([p[-1] for p in lines]))
    drawn = [
        *ax.plot(*stars.T, "*", color="red", markersize=7, markeredgecolor="white",
                 markeredgewidth=0.5),
        *ax.plot(*joined.T, "-", color="white", linewidth=2.2, alpha=0.7),
        *ax.plot(*joined.T, "-", color=colour, linewidth=1.2),
        *ax.plot(*starts.T, "x", color="white", markersize=6),
        *ax.plot(*ends.T, "o", color=colour, markersize=4, markeredgecolor="black",
                 markeredgewidth=0.5),
    ]  # fmt: skip
    for artist in drawn:
        artist.set_clip_path(square)


def decade_bounds(shade: np.ndarray) -> np.ndarray:
    """Integer decade boundaries covering the finite shade values (at least one decade)."""
    finite = shade[np.isfinite(shade)]
    low = np.floor(finite.min()) if finite.size else 0.0
    high = np.ceil(finite.max()) if finite.size else 1.0
    return np.arange(low, max(high, low + 1) + 1)
