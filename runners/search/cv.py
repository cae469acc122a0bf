"""Cross-validation splitters from study settings, and the fold index arrays they give."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from optbench.errors import OptbenchError

if TYPE_CHECKING:
    from sklearn.model_selection import KFold, StratifiedKFold

SPLITTERS = {"kfold": "KFold", "stratifiedkfold": "StratifiedKFold"}
REFIT = "refit"


def settings(cv: int | Mapping[str, Any]) -> dict[str, Any]:
    """`cv = 3` (unshuffled KFold, as the seed's one-hot labels gave) or a splitter table."""
    if isinstance(cv, bool):
        raise OptbenchError(f"cv must be an integer >= 2 or a splitter table, got {cv!r}")
    table = {"splitter": "KFold", "n_splits": cv} if isinstance(cv, int) else dict(cv)
    unknown = set(table) - {"splitter", "n_splits", "shuffle", "random_state"}
    if unknown:
        raise OptbenchError(
            f"unknown cv key(s) {sorted(unknown)}; allowed: splitter, n_splits, shuffle, "
            "random_state"
        )
    name = str(table.get("splitter", "KFold"))
    if name.lower() not in SPLITTERS:
        raise OptbenchError(f"unknown cv splitter {name!r}; allowed: KFold, StratifiedKFold")
    n_splits = table.get("n_splits", 5)
    if isinstance(n_splits, bool) or not isinstance(n_splits, int) or n_splits < 2:
        raise OptbenchError(f"cv must have at least 2 folds, got n_splits={n_splits!r}")
    shuffle = table.get("shuffle", False)
    if not isinstance(shuffle, bool):
        raise OptbenchError(f"cv shuffle must be true or false, got {shuffle!r}")
    random_state = table.get("random_state") if shuffle else None
    return {
        "splitter": name.lower(),
        "n_splits": n_splits,
        "shuffle": shuffle,
        "random_state": random_state,
    }


def splitter(cv: Mapping[str, Any]) -> KFold | StratifiedKFold:
    """The scikit-learn splitter of `settings`' output (imported here: 1.8 s that a study
    without cross-validation, and every load of the runner plugins, need not spend)."""
    from sklearn import model_selection

    kind = getattr(model_selection, SPLITTERS[cv["splitter"]])
    return kind(cv["n_splits"], shuffle=cv["shuffle"], random_state=cv["random_state"])


def check_size(cv: Mapping[str, Any], n_samples: int) -> None:
    if cv["n_splits"] > n_samples:
        raise OptbenchError(
            f"cv has {cv['n_splits']} folds but the data has only {n_samples} samples"
        )


@lru_cache(maxsize=32)
def _folds(key: tuple, labels: bytes, n: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    y = np.frombuffer(labels, dtype=np.int64) if labels else np.zeros(n, np.int64)
    split = splitter(dict(key)).split(np.zeros((n, 1)), y)
    return tuple((train.astype(np.int32), test.astype(np.int32)) for train, test in split)


def folds(cv: Mapping[str, Any], y: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """(train, test) row indices of every fold, computed once per splitter and label set."""
    check_size(cv, len(y))
    labels = np.asarray(y, dtype=np.int64).tobytes()
    return _folds(tuple(sorted(cv.items())), labels, len(y))


def fold_indices(
    cv: Mapping[str, Any], y: np.ndarray, fold: int | str
) -> tuple[np.ndarray, np.ndarray] | None:
    """One fold's (train, test) indices; None for the refit on the whole training set."""
    if fold == REFIT:
        return None
    return folds(cv, y)[int(fold)]
