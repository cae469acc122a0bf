"""The regression check as a text table (100 columns) and a short summary."""

from __future__ import annotations

from optbench.regress.compare import Report
from optbench.regress.runs import BenchRun
from optbench.regress.verdict import MISSING, NEW

NAME_WIDTH = 36


def _short(name: str, width: int) -> str:
    name = name.split("::", 1)[-1] if "::" in name else name
    return name if len(name) <= width else "..." + name[-(width - 3) :]


def _row(label: str, base: str, head: str, ratio: str, p: str, verdict: str) -> str:
    return f"{label:<{NAME_WIDTH}} {base:>9} {head:>9} {ratio:<19} {p:>7}  {verdict}"


def render(report: Report, base: BenchRun, head: BenchRun, title: str = "") -> str:
    """The table benchmark | base | head | ratio [interval] | p | verdict, one line per
    benchmark's time and one indented line per quality figure, then why each non-ok verdict."""
    time_mode = "advisory (calibration-normalised)" if report.advisory else "strict"
    quality = "exact (same fingerprint)" if report.same_machine else "tolerant (machines differ)"
    lines = [title] if title else []
    lines += [
        f"base: {base.source} (commit {(base.commit or '?')[:10]})",
        f"head: {head.source} (commit {(head.commit or '?')[:10]})",
        f"time: {time_mode}; quality: {quality}"
        + (f"; head/base kernel time {report.speed:.3f}" if report.advisory else ""),
    ]
    if report.cpu_models:
        lines.append(
            "CPU models differ (base {!r}, head {!r}): only cross_model_hard_ratio fails on "
            "time".format(*report.cpu_models)
        )
    lines += [f"noise warning, {note}" for note in report.notes]
    columns = ("benchmark", "base", "head", "ratio [interval]", "p", "verdict")
    header = _row(*columns)
    lines += ["", header, "-" * len(header)]
    for f in report.findings:
        label = (
            _short(f.benchmark, NAME_WIDTH)
            if f.figure == "time"
            else "  " + _short(f.figure, NAME_WIDTH - 2)
        )
        p = "-" if f.p is None else f"{f.p:.2g}"
        lines.append(_row(label, f.base, f.head, f.ratio, p, f.verdict))
    explained = [f for f in report.findings if f.failing or f.warning]
    if explained:
        lines.append("")
    for f in explained:
        what = _short(f.benchmark, 60) + ("" if f.figure == "time" else f" [{f.figure}]")
        lines.append(f"{f.verdict}: {what}: {f.why}")
    new = sorted({f.benchmark for f in report.findings if f.verdict == NEW and f.figure == "time"})
    missing = sorted(
        {f.benchmark for f in report.findings if f.verdict == MISSING and f.figure == "time"}
    )
    if new:
        lines.append(f"new in head (not judged): {', '.join(_short(n, 60) for n in new)}")
    if missing:
        lines.append(f"missing in head (not judged): {', '.join(_short(n, 60) for n in missing)}")
    n_bench = len({f.benchmark for f in report.findings})
    lines += [
        "",
        f"{n_bench} benchmarks: {len(report.regressions)} regressions, "
        f"{len(report.warnings)} warnings -> {'FAIL' if report.exit_code else 'pass'}",
    ]
    return "\n".join(lines)
