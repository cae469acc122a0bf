"""`optbench regress`: judge two pytest-benchmark runs on time (noise-aware) and on quality
(exact where deterministic); committed baselines per machine kind."""

from optbench.regress.baseline import baseline_commit, make_baseline, write_baseline
from optbench.regress.compare import Report, compare
from optbench.regress.runs import BenchRun, load, merged_json
from optbench.regress.settings import Config, Settings, from_pyproject
from optbench.regress.table import render

__all__ = [
    "BenchRun",
    "Config",
    "Report",
    "Settings",
    "baseline_commit",
    "compare",
    "from_pyproject",
    "load",
    "make_baseline",
    "merged_json",
    "render",
    "write_baseline",
]
