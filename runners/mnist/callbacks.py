"""Keras' epoch-end callback rules (EarlyStopping, ReduceLROnPlateau, best checkpoint) for JAX."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def mode_for(monitor: str) -> str:
    """`max` for accuracies, `min` for losses, as Keras' `mode="auto"` decides."""
    return "max" if "acc" in monitor else "min"


def improved(current: float, best: float, mode: str, min_delta: float) -> bool:
    if not math.isfinite(current):
        return False
    return current > best + min_delta if mode == "max" else current < best - min_delta


@dataclass
class EarlyStopping:
    """Stop after `patience` epochs without improvement of `monitor` (Keras' rule)."""

    monitor: str = "val_loss"
    patience: int = 0
    min_delta: float = 0.0
    restore_best_weights: bool = False
    best: float = field(init=False)
    best_epoch: int = field(default=-1, init=False)
    best_weights: Any = field(default=None, init=False)
    wait: int = field(default=0, init=False)
    stopped_epoch: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.mode = mode_for(self.monitor)
        self.best = -math.inf if self.mode == "max" else math.inf

    def update(self, epoch: int, logs: dict[str, float], weights: Any) -> bool:
        """Record one epoch's logs; True when training should stop."""
        self.wait += 1
        if improved(logs[self.monitor], self.best, self.mode, abs(self.min_delta)):
            self.best, self.best_epoch, self.wait = logs[self.monitor], epoch, 0
            if self.restore_best_weights:
                self.best_weights = weights
            return False
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            return True
        return False


@dataclass
class ReduceLROnPlateau:
    """Multiply the learning rate by `factor` after `patience` epochs without improvement."""

    monitor: str = "val_loss"
    factor: float = 0.1
    patience: int = 10
    min_delta: float = 1e-4
    min_lr: float = 0.0
    best: float = field(init=False)
    wait: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.mode = mode_for(self.monitor)
        self.best = -math.inf if self.mode == "max" else math.inf

    def update(self, logs: dict[str, float], lr: float) -> float:
        """The learning rate to use from the next epoch on."""
        if improved(logs[self.monitor], self.best, self.mode, self.min_delta):
            self.best, self.wait = logs[self.monitor], 0
            return lr
        self.wait += 1
        if self.wait >= self.patience and lr > self.min_lr:
            self.wait = 0
            return max(lr * self.factor, self.min_lr)
        return lr


@dataclass
class KeepBest:
    """ModelCheckpoint(save_best_only=True) in memory: the weights of the best epoch."""

    monitor: str = "val_accuracy"
    best: float = field(init=False)
    best_epoch: int = field(default=-1, init=False)
    weights: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.mode = mode_for(self.monitor)
        self.best = -math.inf if self.mode == "max" else math.inf

    def update(self, epoch: int, logs: dict[str, float], weights: Any) -> None:
        if improved(logs[self.monitor], self.best, self.mode, 0.0):
            self.best, self.best_epoch, self.weights = logs[self.monitor], epoch, weights
