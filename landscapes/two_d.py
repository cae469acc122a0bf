"""The classic two-dimensional test functions."""

from __future__ import annotations

from optbench.landscapes.base import FixedLandscape


def beale_fn(x):
    """Beale (1958): three squared residuals; a flat valley ending at (3, 0.5)."""
    x1, x2 = x[0], x[1]
    return (
        (1.5 - x1 + x1 * x2) ** 2
        + (2.25 - x1 + x1 * x2**2) ** 2
        + (2.625 - x1 + x1 * x2**3) ** 2
    )


beale = FixedLandscape(
    name="beale",
    fn=beale_fn,
    lower=(-4.5, -4.5),
    upper=(4.5, 4.5),
    minimizers=((3.0, 0.5),),
    f_min=0.0,
    tags=frozenset({"unimodal", "differentiable", "flat"}),
    description="Beale: a flat valley with sharp walls, minimum 0 at (3, 0.5). "
    "Source: Beale (1958); Jamil & Yang (2013) no. 10.",
)
