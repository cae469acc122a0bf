"""The search runner: one fit (configuration × fold, or the refit) of a wrapped runner per spec;
fits that share a program are one batch and train together."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from optbench.runners.search import fits, landscape_fits, mnist_fits

from optbench.contracts import CURVE_COLUMNS, RunResult
from optbench.errors import OptbenchError
from optbench.spec import RunSpec

BACKENDS = ("jax", "keras")
WRAPPABLE = ("mnist", "landscape")
OPTIONS: dict[str, Any] = {
    f"{fits.PREFIX}runner": "mnist",
    f"{fits.PREFIX}cv": None,
    f"{fits.PREFIX}fold": 0,
    f"{fits.PREFIX}backend": "jax",
    f"{fits.PREFIX}shuffle": fits.DEFAULT_SHUFFLE,
}


def check_shuffle(shuffle: Any, runner: str, backend: str) -> None:
    """`shuffle = "fold"` shares a fold's minibatch order: JAX-trained networks only."""
    if shuffle not in fits.SHUFFLES:
        raise OptbenchError(
            f"shuffle must be one of {', '.join(map(repr, fits.SHUFFLES))}, got {shuffle!r}"
        )
    if shuffle == "fold" and (runner != "mnist" or backend != "jax"):
        raise OptbenchError(
            'shuffle = "fold" (one minibatch order per fold) applies to the mnist runner '
            f"with the jax backend, not runner {runner!r} with backend {backend!r}"
        )


def _concat(results: Sequence[RunResult]) -> RunResult:
    curves = [r.curves for r in results if not r.curves.empty]
    return RunResult(
        rows=pd.concat([r.rows for r in results], ignore_index=True),
        curves=pd.concat(curves, ignore_index=True)
        if curves
        else pd.DataFrame(columns=CURVE_COLUMNS),
    )


def error_result(batch: Sequence[RunSpec], exc: Exception) -> RunResult:
    """The rows of a batch whose training raised `exc`: status "error", score NaN."""
    rows = [
        spec.columns()
        | {
            "status": "error",
            "test_score": float("nan"),
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=5),
        }
        for spec in batch
    ]
    return RunResult(pd.DataFrame(rows))


@dataclass
class SearchRunner:
    """Fits of a hyperparameter search (made by `optbench search`, see README)."""

    name: str = "search"
    description: str = (
        "One fit of a hyperparameter search (configuration × cross-validation fold) of the "
        "mnist runner; fits sharing shapes train together under vmap (JAX) or one at a time "
        "(Keras). Run searches with `optbench search`."
    )
    options: Mapping[str, Any] = field(default_factory=lambda: dict(OPTIONS))
    memory_bytes: int | None = None
    chunk: int | None = None

    def check(self, spec: RunSpec) -> None:
        """A fit spec names a wrappable runner, a backend, a fold of its cv, valid settings."""
        wrapped, cv, fold, backend = fits.unwrap(spec)
        if wrapped.runner not in WRAPPABLE:
            raise OptbenchError(
                f"the search runner wraps {', '.join(WRAPPABLE)}; got {wrapped.runner!r}"
            )
        if backend not in BACKENDS:
            raise OptbenchError(f"unknown backend {backend!r}; allowed: {', '.join(BACKENDS)}")
        check_shuffle(fits.shuffle_of(spec), wrapped.runner, backend)
        if wrapped.runner == "landscape":
            landscape_fits.check(wrapped)
        else:
            mnist_fits.check(wrapped, backend)
        if fold != "refit" and not (isinstance(fold, int) and 0 <= fold < cv["n_splits"]):
            raise OptbenchError(f"fold {fold!r} is not in 0..{cv['n_splits'] - 1} or 'refit'")

    def batches(self, specs: Sequence[RunSpec]) -> Iterator[list[RunSpec]]:
        """JAX fits grouped by program (one batch trains together); Keras fits one by one."""
        groups: dict[Any, list[RunSpec]] = {}
        for spec in specs:
            wrapped, _, _, backend = fits.unwrap(spec)
            if wrapped.runner == "landscape":
                key = "landscape"
            else:
                key = mnist_fits.group_key(spec) if backend == "jax" else spec.key
            groups.setdefault(key, []).append(spec)
        yield from groups.values()

    def work(self, batch: Sequence[RunSpec]) -> int:
        """Member-epochs a batch trains (the progress bar's unit)."""
        wrapped, _, _, backend = fits.unwrap(batch[0])
        if wrapped.runner == "landscape":
            return len(batch)
        if backend == "keras":
            return sum(int(s.budgets.get("epochs", 10)) for s in batch)
        return mnist_fits.member_epochs(batch)

    def run(
        self, specs: Sequence[RunSpec], progress: Callable[[int], None] | None = None
    ) -> RunResult:
        """Train a batch; a fit that fails becomes a row with status "error" (score NaN)."""
        for spec in specs:
            self.check(spec)
        results = []
        for batch in self.batches(specs):
            try:
                wrapped, _, _, backend = fits.unwrap(batch[0])
                if wrapped.runner == "landscape":
                    results.append(landscape_fits.run_fits(batch))
                    if progress is not None:
                        progress(len(batch))
                elif backend == "keras":
                    from optbench.runners.search import keras_fits

                    results.extend(keras_fits.run_one(spec, progress) for spec in batch)
                else:
                    results.append(
                        mnist_fits.run_group(batch, progress, self.memory_bytes, self.chunk)
                    )
            except OptbenchError:
                raise
            except Exception as exc:  # a failing fit is a row, the search goes on
                results.append(error_result(batch, exc))
        return _concat(results)


runner = SearchRunner()
