"""The seed's published GridSearchCV results, and our cv_results beside them."""

from __future__ import annotations

import pandas as pd

# mean_test_score the seed printed, by study and (initializer[, batch_size, epochs]).
SEED_SCORES: dict[str, dict[tuple, float]] = {
    "seed-grid1": {("lecun_uniform",): 0.9689, ("zero",): 0.1124, ("uniform",): 0.9647},
    "seed-grid2": {("glorot_uniform", 128, 20): 0.9712, ("uniform", 512, 10): 0.9516},
}
SEED_WALL_S = {"seed-grid1": 80.0, "seed-grid2": 223.0}
KEYS = {"seed-grid1": ("initializer",), "seed-grid2": ("initializer", "batch_size", "epochs")}


def beside_seed(name: str, table: pd.DataFrame) -> pd.DataFrame | None:
    """Ours, the seed's and the difference (points of accuracy) per configuration; None for
    a study that is not one of the seed's grids."""
    if name not in SEED_SCORES:
        return None
    keys = KEYS[name]
    seed = SEED_SCORES[name]
    rows = []
    for _, row in table.sort_values("rank_test_score", kind="stable").iterrows():
        point = tuple(row["params"].get(k) for k in keys)
        theirs = seed.get(point, float("nan"))
        ours = float(row["mean_test_score"])
        rows.append(
            dict(zip(keys, point, strict=True))
            | {
                "rank": int(row["rank_test_score"]),
                "ours": ours,
                "seed": theirs,
                "diff_points": 100 * (ours - theirs),
            }
        )
    return pd.DataFrame(rows)
