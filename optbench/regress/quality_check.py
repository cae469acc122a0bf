"""Quality verdicts: exact on one machine with fixed seeds, paired statistical tests otherwise."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from optbench.regress.settings import Settings
from optbench.regress.verdict import (
    CHANGED,
    IMPROVED,
    MISSING,
    NEW,
    OK,
    REGRESSION,
    SAME,
    Finding,
)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _vector(figure: dict[str, Any]) -> np.ndarray | None:
    values = figure.get("per_start")
    return None if values is None else np.array([_float(v) for v in values], dtype=float)


def _text(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}" if value != int(value) or abs(value) >= 1e6 else f"{int(value)}"


def _close(a: np.ndarray, b: np.ndarray, rel: float) -> np.ndarray:
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(invalid="ignore"):
        near = (a == b) | (np.abs(a - b) <= rel * np.maximum(np.abs(a), np.abs(b)))
    return both_nan | near


def _worse(base: np.ndarray, head: np.ndarray, higher_is_better: bool) -> np.ndarray:
    return head < base if higher_is_better else head > base


def judge_figures(
    benchmark: str,
    base: dict[str, dict[str, Any]],
    head: dict[str, dict[str, Any]],
    settings: Settings,
    *,
    exact: bool,
    quick: bool,
) -> list[Finding]:
    """A finding for each quality figure of one benchmark in base or head."""
    findings = []
    for name in sorted(set(base) | set(head)):
        if name not in head:
            findings.append(_listed(benchmark, name, base[name], None, MISSING))
        elif name not in base:
            findings.append(_listed(benchmark, name, None, head[name], NEW))
        else:
            findings.append(
                judge_figure(benchmark, name, base[name], head[name], settings, exact, quick)
            )
    return findings


def _listed(benchmark: str, name: str, base: Any, head: Any, verdict: str) -> Finding:
    b = _text(_float(base["value"])) if base else "-"
    h = _text(_float(head["value"])) if head else "-"
    return Finding(
        benchmark, name, b, h, "-", None, verdict, f"figure only in {'base' if base else 'head'}"
    )


def judge_figure(
    benchmark: str,
    name: str,
    base: dict[str, Any],
    head: dict[str, Any],
    settings: Settings,
    exact: bool,
    quick: bool,
) -> Finding:
    """One figure: NaN in head is a regression; exact comparison when deterministic on one
    machine; the tolerant test of its kind otherwise. Improvements never fail."""
    b, h = _float(base["value"]), _float(head["value"])
    if math.isnan(h) and not math.isnan(b):
        return Finding(benchmark, name, _text(b), "nan", "-", None, REGRESSION, "became NaN")
    deterministic = base.get("deterministic", True) and head.get("deterministic", True)
    if exact and deterministic:
        verdict, why, p = _exact(base, head, settings)
    else:
        verdict, why, p = TOLERANT.get(head["kind"], _value)(base, head, settings, quick)
    ratio = "-" if b == 0 or math.isnan(b) or math.isnan(h) else f"{h / b:.3g}"
    return Finding(benchmark, name, _text(b), _text(h), ratio, p, verdict, why)


Outcome = tuple[str, str, float | None]


def _exact(base: dict[str, Any], head: dict[str, Any], settings: Settings) -> Outcome:
    """Same machine, fixed seeds: any change is real. A worse total fails; starts that got worse
    while the total did not are a warning; anything else better is an improvement."""
    better_high = bool(head["higher_is_better"])
    b, h = np.array([_float(base["value"])]), np.array([_float(head["value"])])
    vb, vh = _vector(base), _vector(head)
    same_value = bool(_close(b, h, settings.rel_tol)[0])
    paired = vb is not None and vh is not None and len(vb) == len(vh)
    same_starts = not paired or bool(_close(vb, vh, settings.rel_tol).all())
    if same_value and same_starts and (paired or (vb is None) == (vh is None)):
        return SAME, "identical (exact)", None
    lost = gained = 0
    if paired:
        changed = ~_close(vb, vh, settings.rel_tol)
        lost = int((changed & _worse(vb, vh, better_high)).sum())
        gained = int((changed & _worse(vh, vb, better_high)).sum())
    starts = f"; {lost} starts worse, {gained} better" if paired else ""
    if not same_value and bool(_worse(b, h, better_high)[0]):
        return REGRESSION, f"exact: value {_text(b[0])} -> {_text(h[0])}{starts}", None
    if lost:
        return CHANGED, f"exact: {lost} starts worse, {gained} better", None
    return IMPROVED, f"exact: better{starts}", None


def _success(
    base: dict[str, Any], head: dict[str, Any], settings: Settings, quick: bool
) -> Outcome:
    """Successes paired by start: lost - gained past max(1, ceil(5% N)) and a one-sided exact
    sign test."""
    vb, vh = _vector(base), _vector(head)
    if vb is None or vh is None or len(vb) != len(vh):
        return _unpaired_count(base, head, settings)
    won_b, won_h = np.nan_to_num(vb) > 0, np.nan_to_num(vh) > 0
    lost, gained = int((won_b & ~won_h).sum()), int((~won_b & won_h).sum())
    limit = max(1, math.ceil(settings.success_fraction * len(vb)))
    p = (
        float(stats.binomtest(lost, lost + gained, 0.5, alternative="greater").pvalue)
        if lost + gained
        else 1.0
    )
    why = f"{lost} lost, {gained} gained of {len(vb)} (limit {limit}), sign test p={p:.2g}"
    if lost - gained >= limit and p < settings.sign_alpha:
        return REGRESSION, why, p
    if gained - lost >= limit:
        return IMPROVED, why, p
    return OK, why, p


def _unpaired_count(base: dict[str, Any], head: dict[str, Any], settings: Settings) -> Outcome:
    b, h = _float(base["value"]), _float(head["value"])
    n = int(head.get("n") or base.get("n") or 0)
    if head["kind"] == "proportion" and n:
        b, h = b * n, h * n
    drop = (b - h) if head["higher_is_better"] else (h - b)
    limit = max(1, math.ceil(settings.success_fraction * n)) if n else 1
    why = f"unpaired: {drop:+g} (limit {limit})"
    if drop >= limit:
        return REGRESSION, why, None
    return (IMPROVED if -drop >= limit else OK), why, None


def _evaluations(
    base: dict[str, Any], head: dict[str, Any], settings: Settings, quick: bool
) -> Outcome:
    """Evaluations to target over starts that reached it on both sides: median ratio past
    1.10 and a one-sided Wilcoxon signed-rank test."""
    vb, vh = _vector(base), _vector(head)
    if vb is None or vh is None or len(vb) != len(vh):
        b, h = _float(base["value"]), _float(head["value"])
        ratio = h / b if b else math.inf
        worse = ratio > settings.evaluations_ratio
        return (REGRESSION if worse else OK), f"unpaired median ratio {ratio:.3g}", None
    both = np.isfinite(vb) & np.isfinite(vh) & (vb > 0)
    if not both.any():
        return OK, "no start reached the target on both sides", None
    ratio = float(np.median(vh[both] / vb[both]))
    differences = vh[both] - vb[both]
    if not np.any(differences):
        return OK, f"identical over {int(both.sum())} starts", None
    p = float(stats.wilcoxon(vh[both], vb[both], alternative="greater").pvalue)
    why = f"median ratio {ratio:.3g} over {int(both.sum())} starts, Wilcoxon p={p:.2g}"
    if ratio > settings.evaluations_ratio and p < settings.wilcoxon_alpha:
        return REGRESSION, why, p
    return (IMPROVED if ratio < 1 / settings.evaluations_ratio else OK), why, p


def _gap(base: dict[str, Any], head: dict[str, Any], settings: Settings, quick: bool) -> Outcome:
    """Final gap in decades: the median of log10(gap) may rise by at most 0.5."""

    def decades(figure: dict[str, Any]) -> float:
        values = _vector(figure)
        values = np.array([_float(figure["value"])]) if values is None else values
        values = values[~np.isnan(values)]
        if not values.size:
            return math.nan
        return float(np.median(np.log10(np.maximum(values, settings.gap_floor))))

    b, h = decades(base), decades(head)
    rise = h - b if head["higher_is_better"] is False else b - h
    why = f"median log10 gap {b:.2f} -> {h:.2f} ({rise:+.2f} decades)"
    if math.isnan(h) and not math.isnan(b):
        return REGRESSION, why, None
    if rise > settings.gap_decades:
        return REGRESSION, why, None
    return (IMPROVED if rise < -settings.gap_decades else OK), why, None


def _accuracy(
    base: dict[str, Any], head: dict[str, Any], settings: Settings, quick: bool
) -> Outcome:
    """A drop in points beyond max(tolerance, 3 standard errors of the difference)."""
    b, h = _float(base["value"]), _float(head["value"])
    vb, vh = _vector(base), _vector(head)
    if vb is not None and vh is not None and min(len(vb), len(vh)) >= 2:
        se = math.sqrt(np.var(vb, ddof=1) / len(vb) + np.var(vh, ddof=1) / len(vh))
    else:
        n_b, n_h = int(base.get("n") or 0), int(head.get("n") or 0)
        se = math.sqrt(b * (1 - b) / n_b + h * (1 - h) / n_h) if n_b and n_h else 0.0
    tolerance = settings.accuracy_tolerance_quick if quick else settings.accuracy_tolerance_full
    limit = max(tolerance, settings.accuracy_se * se * 100)
    drop = (b - h) * 100 if head["higher_is_better"] else (h - b) * 100
    why = f"{-drop:+.2f} points (limit {limit:.2f} = max({tolerance:g}, 3 SE))"
    if drop > limit:
        return REGRESSION, why, None
    return (IMPROVED if -drop > limit else OK), why, None


def _value(base: dict[str, Any], head: dict[str, Any], settings: Settings, quick: bool) -> Outcome:
    b, h = _float(base["value"]), _float(head["value"])
    return OK, f"{_text(b)} -> {_text(h)} (a plain value: judged only on one machine)", None


TOLERANT: dict[str, Callable[[dict, dict, Settings, bool], Outcome]] = {
    "count": _success,
    "proportion": _success,
    "evaluations": _evaluations,
    "gap": _gap,
    "accuracy": _accuracy,
    "value": _value,
}
