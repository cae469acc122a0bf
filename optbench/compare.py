"""Compare two result sets cell by cell (problem × optimizer setting) with honest statistics.

Runs are ordered by COCO's rule: one that reached the study target beats one that did not; two
that did are ordered by evaluations to target, two that did not by final gap. Each cell is tested
with Mann–Whitney U (Wilcoxon signed-rank when both sides ran the same seeds and starts),
success counts with Fisher's exact test, and every p-value is corrected over all tests (Holm by
default). The Vargha–Delaney A12 (the probability that a new run beats a base run) stands beside
every p-value; a cell too small to ever reach significance after correction is "underpowered".
"""

from __future__ import annotations

import math
import os
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from math import comb

import numpy as np
import pandas as pd
from scipy import stats

from optbench import rollup
from optbench.errors import OptbenchError
from optbench.report.frames import label_runs, read
from optbench.report.intervals import percentile_intervals
from optbench.report.signed_rank import wilcoxon_many

CORRECTIONS = ("holm", "bh", "none")
DEFAULT_FAIL_ON = "success_rate:-0.05,ert:+10%,test_acc:-0.002"
ALPHA = 0.05
BOOTSTRAP_RESAMPLES = 999
CELL = ["runner", "problem_label", "setting"]
VERDICT_ORDER = {"regression": 0, "worse": 1, "better": 2, "underpowered": 3, "no change": 4}


@dataclass(frozen=True)
class Threshold:
    """How far a metric may move in its bad direction: absolute, or relative when `percent`."""

    metric: str
    limit: float
    percent: bool

    def exceeded(self, base: float, new: float) -> bool:
        """Whether the change from `base` to `new` goes past the limit in the limit's direction."""
        if not (np.isfinite(base) or np.isfinite(new)):
            return False
        if self.percent:
            if base == 0 or not np.isfinite(base):
                change = np.inf * np.sign(new - base) if new != base else 0.0
            else:
                change = 100.0 * (new - base) / abs(base)
        else:
            change = new - base
        return bool(change > self.limit if self.limit > 0 else change < self.limit)


METRICS = ("success_rate", "ert", "median_gap", "test_acc", "wall_s")


def parse_fail_on(text: str | None) -> dict[str, Threshold]:
    """`success_rate:-0.05,ert:+10%` → thresholds; the sign says which way is a regression."""
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        match = re.fullmatch(r"\s*([a-z_]+)\s*:\s*([+-])\s*([0-9.]+(?:e-?\d+)?)\s*(%?)\s*", item)
        if not match or match.group(1) not in METRICS:
            raise OptbenchError(
                f"--fail-on item {item.strip()!r}: expected METRIC:+N or METRIC:-N (add % for "
                f"relative), METRIC one of {', '.join(METRICS)}"
            )
        metric, sign, value, percent = match.groups()
        limit = float(value) * (1 if sign == "+" else -1)
        if limit == 0:
            raise OptbenchError(f"--fail-on {metric}: the threshold must not be 0")
        out[metric] = Threshold(metric, limit, bool(percent))
    return out


def coco_scores(base: pd.DataFrame, new: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One joint rank per run (lower = better) by COCO's rule: runs that reached the target
    first, by evaluations to it; then the others, by final gap."""
    fev = np.concatenate([base["_fev"].to_numpy(), new["_fev"].to_numpy()])
    gap = np.concatenate([base["_gap"].to_numpy(), new["_gap"].to_numpy()])
    failed = np.isnan(fev)
    ranks = np.empty(fev.size)
    ranks[~failed] = stats.rankdata(fev[~failed])
    ranks[failed] = stats.rankdata(gap[failed]) + int((~failed).sum())
    return ranks[: len(base)], ranks[len(base) :]


def a12(base: np.ndarray, new: np.ndarray, lower_is_better: bool) -> float:
    """Vargha–Delaney A12 from the U statistic: P(a new run beats a base run) + ½ P(tie)."""
    return float(a12_many([(base, new, lower_is_better)])[0])


def a12_many(cells: Sequence[tuple[np.ndarray, np.ndarray, bool]]) -> np.ndarray:
    """`a12` of many (base, new, lower_is_better) cells: the U statistics of cells with equal
    sizes come from one vectorized scipy.stats.mannwhitneyu call (NaN where a side is empty)."""
    out = np.full(len(cells), np.nan)
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (base, new, _) in enumerate(cells):
        if len(base) and len(new):
            groups[len(base), len(new)].append(i)
    for (nb, nn), members in groups.items():
        base = np.stack([cells[i][0] for i in members])
        new = np.stack([cells[i][1] for i in members])
        u_base = stats.mannwhitneyu(base, new, alternative="two-sided", axis=-1).statistic
        share = np.asarray(u_base, dtype=float) / (nb * nn)
        lower = np.array([cells[i][2] for i in members])
        out[members] = np.where(lower, share, 1.0 - share)
    return out


def fill_a12(rows: list[dict]) -> None:
    """Set `a12` of every row that asks for one (`_a12`: base, new, lower_is_better)."""
    wanted = [row for row in rows if "_a12" in row]
    for row, value in zip(wanted, a12_many([row.pop("_a12") for row in wanted]), strict=True):
        row["a12"] = float(value)


def paired_order(base: pd.DataFrame, new: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Row orders that pair the sides by (seed, start), when both ran exactly the same ones."""
    if not all(c in base and c in new for c in ("seed", "start")) or len(base) != len(new):
        return None
    b = list(zip(base["seed"].tolist(), base["start"].tolist(), strict=True))
    n = list(zip(new["seed"].tolist(), new["start"].tolist(), strict=True))
    if len(set(b)) != len(b) or set(b) != set(n):
        return None
    position = {key: i for i, key in enumerate(n)}
    return np.arange(len(b)), np.array([position[key] for key in b])


def location_test(
    base: np.ndarray, new: np.ndarray, pairing
) -> tuple[float, str, float, np.ndarray | None]:
    """p of a two-sided location test: Wilcoxon when paired, else Mann–Whitney; the smallest p
    the test could give at these sizes (for the underpowered check); and, for a paired cell
    with some difference, the differences, its p left NaN for `fill_wilcoxon` to compute
    with every other cell's in one go."""
    nb, nn = len(base), len(new)
    if nb == 0 or nn == 0:
        return math.nan, "-", 1.0, None
    if pairing is not None:
        differences = new[pairing[1]] - base[pairing[0]]
        if not np.any(differences):
            return 1.0, "wilcoxon", 2.0 / 2**nb, None
        return math.nan, "wilcoxon", 2.0 / 2**nb, differences
    if np.all(base == base[0]) and np.all(new == base[0]):
        return 1.0, "mann-whitney", 2.0 / comb(nb + nn, nb), None
    p = float(stats.mannwhitneyu(base, new, alternative="two-sided").pvalue)
    return p, "mann-whitney", 2.0 / comb(nb + nn, nb), None


def fill_wilcoxon(rows: list[dict]) -> None:
    """Set `p` of every row that holds paired differences (`_wilcoxon`), all cells at once."""
    wanted = [row for row in rows if row.get("_wilcoxon") is not None]
    for row, p in zip(wanted, wilcoxon_many([row["_wilcoxon"] for row in wanted]), strict=True):
        row["p"] = float(p)
    for row in rows:
        row.pop("_wilcoxon", None)


@cache
def fisher(k_base: int, n_base: int, k_new: int, n_new: int) -> tuple[float, float]:
    """Fisher's exact p for the success counts, and the smallest p these sizes allow (cached:
    many cells share their counts)."""
    p = stats.fisher_exact([[k_new, n_new - k_new], [k_base, n_base - k_base]]).pvalue
    return float(p), _fisher_floor(n_base, n_new)


@cache
def _fisher_floor(n_base: int, n_new: int) -> float:
    return float(stats.fisher_exact([[n_new, 0], [0, n_base]]).pvalue)


def _ert(signed: np.ndarray, axis: int = -1) -> np.ndarray:
    """ERT of runs encoded as +evaluations (success) or −evaluations (failure)."""
    successes = (signed > 0).sum(axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(successes > 0, np.abs(signed).sum(axis=axis) / successes, np.inf)


def ert_ratio(base: np.ndarray, new: np.ndarray, axis: int = -1) -> np.ndarray:
    """ERT(new) / ERT(base) of signed evaluations (see `_ert`)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _ert(new, axis=axis) / _ert(base, axis=axis)


def median_ratio(base: np.ndarray, new: np.ndarray, axis: int = -1) -> np.ndarray:
    """median(new) / median(base)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return sorted_median(new, axis) / sorted_median(base, axis)


def sorted_median(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """`np.median` by a full sort: numpy's SIMD sort of short rows is ~10× faster than the
    partition np.median uses, which matters for 2 × 999 resamples of every cell (same values,
    NaN where a row holds one)."""
    ordered = np.sort(values, axis=axis)
    n = ordered.shape[axis]
    low = np.take(ordered, (n - 1) // 2, axis=axis)
    high = np.take(ordered, n // 2, axis=axis)
    middle = (low + high) / 2
    return np.where(np.isnan(np.take(ordered, -1, axis=axis)), np.nan, middle)


RATIOS = {"ert": ert_ratio, "median": median_ratio}


def ratio_intervals(rows: list[dict], seed: int) -> None:
    """Fill `ratio_low` / `ratio_high` of every row that asks for one (`_ratio`: the statistic,
    `_samples`: base and new) with a percentile bootstrap interval (scipy.stats.bootstrap,
    vectorized over the cells of equal sizes); NaN where a side has fewer than two runs."""
    for name, statistic in RATIOS.items():
        wanted = [row for row in rows if row.get("_ratio") == name]
        if not wanted:
            continue
        bounds = percentile_intervals(
            [row["_samples"] for row in wanted],
            statistic,
            paired=False,
            resamples=BOOTSTRAP_RESAMPLES,
            seed=seed,
        )
        for row, (low, high) in zip(wanted, bounds, strict=True):
            row["ratio_low"], row["ratio_high"] = float(low), float(high)
    for row in rows:
        row.pop("_ratio", None)
        row.pop("_samples", None)


def with_costs(runs: pd.DataFrame, target: float) -> pd.DataFrame:
    """Runs with `_fev` (evaluations to target, NaN if never), `_gap` and `_signed` (+evaluations
    to target on success, −evaluations spent on failure)."""
    fev = rollup.evaluations_to(runs, target).astype(float)
    spent = runs["n_fev"].astype(float) if "n_fev" in runs else pd.Series(np.nan, runs.index)
    gap = runs["f_gap"].astype(float) if "f_gap" in runs else pd.Series(np.nan, runs.index)
    return runs.assign(_fev=fev, _gap=gap.fillna(np.inf), _signed=fev.where(fev.notna(), -spent))


def _landscape_cell(base: pd.DataFrame, new: pd.DataFrame) -> list[dict]:
    pairing = paired_order(base, new)
    score_b, score_n = coco_scores(base, new)
    p_rank, test, floor, d_rank = location_test(score_b, score_n, pairing)
    hit_b, hit_n = base["_fev"].notna().to_numpy(), new["_fev"].notna().to_numpy()
    p_fisher, fisher_floor = fisher(int(hit_b.sum()), len(base), int(hit_n.sum()), len(new))
    signed_b, signed_n = base["_signed"].to_numpy(), new["_signed"].to_numpy()
    wall_b, wall_n = base["wall_s"].astype(float).to_numpy(), new["wall_s"].astype(float).to_numpy()
    p_wall, wall_test, wall_floor, d_wall = location_test(wall_b, wall_n, pairing)
    gap_b, gap_n = float(np.median(base["_gap"])), float(np.median(new["_gap"]))
    return [
        {
            "metric": "success_rate",
            "base": hit_b.mean(),
            "new": hit_n.mean(),
            "p": p_fisher,
            "test": "fisher",
            "_a12": (hit_b.astype(float), hit_n.astype(float), False),
            "p_floor": fisher_floor,
        },
        {
            "metric": "ert",
            "base": float(_ert(signed_b)),
            "new": float(_ert(signed_n)),
            "p": p_rank,
            "test": test,
            "_a12": (score_b, score_n, True),
            "_wilcoxon": d_rank,
            "p_floor": floor,
            "_ratio": "ert",
            "_samples": (signed_b, signed_n),
        },
        {
            "metric": "median_gap",
            "base": gap_b,
            "new": gap_n,
            "p": math.nan,
            "test": "-",
            "a12": math.nan,
            "p_floor": math.nan,
        },
        {
            "metric": "wall_s",
            "base": float(np.median(wall_b)),
            "new": float(np.median(wall_n)),
            "p": p_wall,
            "test": wall_test,
            "_a12": (wall_b, wall_n, True),
            "_wilcoxon": d_wall,
            "p_floor": wall_floor,
            "_ratio": "median",
            "_samples": (wall_b, wall_n),
        },
    ]


def _network_cell(base: pd.DataFrame, new: pd.DataFrame) -> list[dict]:
    pairing = paired_order(base, new)
    rows = []
    for metric, lower_is_better in (("test_acc", False), ("wall_s", True)):
        if metric not in base or metric not in new:
            continue
        b = base[metric].astype(float).to_numpy()
        n = new[metric].astype(float).to_numpy()
        p, test, floor, differences = location_test(b, n, pairing)
        rows.append(
            {
                "metric": metric,
                "base": float(np.median(b)),
                "new": float(np.median(n)),
                "p": p,
                "test": test,
                "_a12": (b, n, lower_is_better),
                "_wilcoxon": differences,
                "p_floor": floor,
                "_ratio": "median",
                "_samples": (b, n),
            }
        )
    return rows


def correct(p: np.ndarray, method: str) -> np.ndarray:
    """Adjusted p-values over one family: Holm (step-down), Benjamini–Hochberg, or none."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    tested = np.isfinite(p)
    values = p[tested]
    if method == "none" or values.size == 0:
        out[tested] = values
    elif method == "bh":
        out[tested] = stats.false_discovery_control(values, method="bh")
    else:
        order = np.argsort(values)
        m = values.size
        stepped = np.maximum.accumulate((m - np.arange(m)) * values[order])
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(stepped, 1.0)
        out[tested] = adjusted
    return out


BETTER_IS_LOWER = {
    "success_rate": False,
    "ert": True,
    "median_gap": True,
    "test_acc": False,
    "wall_s": True,
}


@dataclass(frozen=True)
class Comparison:
    """The cell-by-cell table (regressions first) and what the exit status depends on."""

    table: pd.DataFrame
    correction: str
    alpha: float
    thresholds: Mapping[str, Threshold]
    only_base: int
    only_new: int

    @property
    def regressions(self) -> pd.DataFrame:
        return self.table[self.table["verdict"].eq("regression")]

    @property
    def exit_code(self) -> int:
        return 1 if len(self.regressions) else 0


def compare(
    base,
    new,
    *,
    correction: str = "holm",
    fail_on: str | None = DEFAULT_FAIL_ON,
    alpha: float = ALPHA,
    seed: int = 0,
) -> Comparison:
    """Test every (problem, setting) cell both result sets hold; see the module docstring."""
    if correction not in CORRECTIONS:
        raise OptbenchError(f"correction {correction!r} is not one of {', '.join(CORRECTIONS)}")
    if not 0 < alpha < 1:
        raise OptbenchError(f"alpha must lie in (0, 1), got {alpha}")
    thresholds = parse_fail_on(fail_on)
    base_runs, new_runs = _sides(base, new)
    target = _target(base_runs)
    base_runs, new_runs = with_costs(base_runs, target), with_costs(new_runs, target)
    cells_b = dict(tuple(base_runs.groupby(CELL, sort=True)))
    cells_n = dict(tuple(new_runs.groupby(CELL, sort=True)))
    common = sorted(set(cells_b) & set(cells_n))
    if not common:
        raise OptbenchError(
            "the two result sets share no (problem, optimizer setting): they are different studies"
        )
    rows = []
    for cell in common:
        b, n = cells_b[cell], cells_n[cell]
        found = _landscape_cell(b, n) if cell[0] == "landscape" else _network_cell(b, n)
        key = dict(zip(["runner", "problem", "setting"], cell, strict=True))
        rows.extend(key | {"n_base": len(b), "n_new": len(n)} | r for r in found)
    ratio_intervals(rows, seed)
    fill_a12(rows)
    fill_wilcoxon(rows)
    table = _judge(pd.DataFrame(rows), correction, alpha, thresholds)
    return Comparison(
        table,
        correction,
        alpha,
        thresholds,
        len(set(cells_b) - set(cells_n)),
        len(set(cells_n) - set(cells_b)),
    )


def _sides(base, new) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both sides labelled together, so one setting has one label on either side."""
    runs_b, runs_n = read(base, curves=False)[0], read(new, curves=False)[0]
    if set(runs_b["runner"]) != set(runs_n["runner"]):
        raise OptbenchError(
            f"base ran {sorted(set(runs_b['runner']))} but new ran {sorted(set(runs_n['runner']))}"
            ": different studies"
        )
    joined = pd.concat([runs_b.assign(_side=0), runs_n.assign(_side=1)], ignore_index=True)
    labelled = label_runs(joined, groups=False)  # cells need no landscape group
    return (
        labelled[labelled["_side"].eq(0)].reset_index(drop=True),
        labelled[labelled["_side"].eq(1)].reset_index(drop=True),
    )


def _target(runs: pd.DataFrame) -> float:
    targets = runs["target"].dropna().unique() if "target" in runs else []
    return float(targets[0]) if len(targets) == 1 else rollup.DEFAULT_TARGET


def _judge(table: pd.DataFrame, correction: str, alpha: float, thresholds) -> pd.DataFrame:
    """Adjusted p, the change, and a verdict per row; regressions first."""
    for column in ("ratio_low", "ratio_high"):
        if column not in table:
            table[column] = math.nan
    tested = table["p"].notna()
    m = int(tested.sum())
    table["p_adj"] = correct(table["p"].to_numpy(), correction)
    scale = 1 if correction == "none" else max(m, 1)
    table["underpowered"] = tested & (table["p_floor"] * scale > alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["change"] = table["new"] - table["base"]
        table["ratio"] = table["new"] / table["base"]
    verdicts = []
    for row in table.itertuples(index=False):
        verdicts.append(_verdict(row, alpha, thresholds))
    table["verdict"] = verdicts
    table["order"] = table["verdict"].map(VERDICT_ORDER)
    table = table.sort_values(["order", "p_adj", "problem", "setting", "metric"], kind="stable")
    return table.drop(columns=["order"]).reset_index(drop=True)


def _verdict(row, alpha: float, thresholds: Mapping[str, Threshold]) -> str:
    if not np.isfinite(row.p):
        return (
            "no change"
            if row.base == row.new or (pd.isna(row.base) and pd.isna(row.new))
            else "untested"
        )
    if row.p_adj > alpha:
        identical = row.base == row.new and row.a12 == 0.5
        return "underpowered" if row.underpowered and not identical else "no change"
    lower = BETTER_IS_LOWER[row.metric]
    if row.metric in ("success_rate", "test_acc"):
        worse = row.new < row.base
    else:  # the rank-based tests: A12 below ½ means new runs lose more often than they win
        worse = row.a12 < 0.5 if np.isfinite(row.a12) else (row.new > row.base) == lower
    if not worse:
        return "better"
    threshold = thresholds.get(row.metric)
    if threshold is not None and threshold.exceeded(row.base, row.new):
        return "regression"
    return "worse"


def write(comparison: Comparison, out: str | os.PathLike[str]) -> os.PathLike[str]:
    """compare.md, compare.html and the ERT scatter into `out`; returns compare.html."""
    from pathlib import Path

    from optbench.report.compare_page import sections
    from optbench.report.render import write_pages

    folder = Path(out)
    _, html = write_pages(
        folder, "optbench compare", _headline(comparison), sections(comparison), stem="compare"
    )
    return html


def _headline(comparison: Comparison) -> str:
    counts = comparison.table["verdict"].value_counts()
    parts = [f"{counts.get(v, 0)} {v}" for v in VERDICT_ORDER if counts.get(v, 0)]
    cells = comparison.table[["problem", "setting"]].drop_duplicates().shape[0]
    return (
        f"{cells} cells in common ({comparison.only_base} only in base, {comparison.only_new} "
        f"only in new); {', '.join(parts)}; {comparison.correction} correction over "
        f"{int(comparison.table['p'].notna().sum())} tests at alpha {comparison.alpha:g}."
    )
