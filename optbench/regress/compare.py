"""Judge a head run against a base run: time per benchmark, then each quality figure."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from optbench.regress.quality_check import judge_figures
from optbench.regress.runs import Benchmark, BenchRun
from optbench.regress.settings import Config
from optbench.regress.timing import judge_time, pair_ratios
from optbench.regress.verdict import MISSING, NEW, REGRESSION, Finding

TIME_MODES = ("auto", "strict", "advisory")


@dataclass(frozen=True)
class Report:
    """Every finding, and how the two runs were compared."""

    findings: list[Finding]
    same_machine: bool
    advisory: bool
    speed: float
    notes: list[str]
    cpu_models: tuple[str, str] | None = None

    @property
    def regressions(self) -> list[Finding]:
        return [f for f in self.findings if f.failing]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.warning]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0


def speed_ratio(base: BenchRun, head: BenchRun) -> float:
    """Head's calibration time over base's: how much slower head's machine ran the kernel."""
    if not base.calibration or not head.calibration:
        return 1.0
    return statistics.median(head.calibration) / statistics.median(base.calibration)


def cpu_models(base: BenchRun, head: BenchRun) -> tuple[str, str] | None:
    """The two CPU models when both runs name one and they differ, else None."""
    models = [(run.fingerprint or {}).get("cpu_model") for run in (base, head)]
    return (models[0], models[1]) if all(models) and models[0] != models[1] else None


def compare(base: BenchRun, head: BenchRun, config: Config, time_mode: str = "auto") -> Report:
    """Findings for every benchmark of either run; fingerprints decide exact quality and, with
    `time_mode="auto"`, strict time (same machine) or calibration-normalised advisory time;
    advisory time across CPU models fails only past `cross_model_hard_ratio`: one calibration
    kernel does not scale every workload alike there."""
    same = base.fingerprint is not None and base.fingerprint == head.fingerprint
    advisory = time_mode == "advisory" or (time_mode == "auto" and not same)
    models = cpu_models(base, head) if advisory else None
    speed = speed_ratio(base, head) if advisory else 1.0
    notes = [f"base: {w}" for w in base.warnings] + [f"head: {w}" for w in head.warnings]
    findings: list[Finding] = []
    for name in sorted(set(base.benchmarks) | set(head.benchmarks)):
        b, h = base.benchmarks.get(name), head.benchmarks.get(name)
        if h is None or b is None:
            findings.append(_listed(name, b, h))
            continue
        settings = config.for_benchmark(h.name, name)
        if h.failed or not h.rounds:
            findings.append(Finding(name, "time", "-", "failed", "-", None, REGRESSION,
                                    "the benchmark failed in head"))  # fmt: skip
            continue
        if b.failed or not b.rounds:
            findings.append(Finding(name, "time", "failed", "-", "-", None, NEW,
                                    "the benchmark failed in base"))  # fmt: skip
        else:
            pairs = pair_ratios(b.blocks, h.blocks)
            findings.append(
                judge_time(
                    name,
                    b.rounds,
                    h.rounds,
                    settings,
                    advisory=advisory,
                    speed=speed,
                    pairs=pairs,
                    other_cpu=models is not None,
                )
            )
        findings += judge_figures(
            name, b.figures, h.figures, settings, exact=same, quick=head.quick or base.quick
        )
    return Report(findings, same, advisory, speed, notes, models)


def _listed(name: str, base: Benchmark | None, head: Benchmark | None) -> Finding:
    if head is None:
        return Finding(name, "time", "present", "-", "-", None, MISSING, "only in base")
    if head.failed:
        return Finding(name, "time", "-", "failed", "-", None, REGRESSION,
                       "the benchmark failed in head")  # fmt: skip
    return Finding(name, "time", "-", "present", "-", None, NEW, "only in head")
