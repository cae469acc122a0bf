"""optbench: a pluggable benchmark suite for optimizers on test landscapes and networks."""

from optbench.contracts import Landscape, Objective, RunResult
from optbench.errors import DuplicatePluginError, OptbenchError, UnknownPluginError
from optbench.execute import StudyOutcome, run_study
from optbench.jax_cache import without_fma
from optbench.report import report
from optbench.spec import RunSpec
from optbench.store import Results, ResultsStore, load_results
from optbench.study import OptimizerEntry, Study, load_study

without_fma()  # before JAX starts: a run's numbers do not depend on what shares its program (#15)

__version__ = "0.1.0"


__all__ = [
    "DuplicatePluginError",
    "Landscape",
    "Objective",
    "OptbenchError",
    "OptimizerEntry",
    "Results",
    "ResultsStore",
    "RunResult",
    "RunSpec",
    "Study",
    "StudyOutcome",
    "UnknownPluginError",
    "load_results",
    "load_study",
    "report",
    "run_study",
]
