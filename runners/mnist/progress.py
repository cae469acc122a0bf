"""One progress style for both MNIST backends: a tqdm bar per network (epochs, with the latest
loss and accuracies), labelled with the run in flight (its study label, optimizer, backend)."""

from __future__ import annotations

import sys
from typing import Any

from tqdm.auto import tqdm

SHOWN = {"loss": "loss", "accuracy": "acc", "val_loss": "val_loss", "val_accuracy": "val_acc"}
_current: dict[str, Any] = {"label": "", "bar": None}


def start_run(label: str) -> None:
    """Name the network about to train (the bar of the previous one is closed)."""
    finish()
    _current["label"] = label


def epoch_done(epoch: int, epochs: int, logs: dict[str, float]) -> None:
    """Advance the current network's bar by one epoch and show its latest metrics."""
    bar = _current["bar"]
    if bar is None:
        bar = tqdm(total=epochs, desc=_current["label"] or "network", unit="epoch",
                   leave=False, file=sys.stderr, position=1)  # fmt: skip
        _current["bar"] = bar
    bar.set_postfix({short: f"{logs[k]:.4f}" for k, short in SHOWN.items() if k in logs})
    bar.update(1)
    if epoch + 1 >= epochs:
        finish()


def finish() -> None:
    if _current["bar"] is not None:
        _current["bar"].close()
        _current["bar"] = None


def keras_callback(keras: Any) -> Any:
    """A Keras callback drawing the same bar (Keras' own printing is off: verbose=0)."""

    class EpochBar(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            epoch_done(epoch, self.params.get("epochs", epoch + 1), dict(logs or {}))

        def on_train_end(self, logs=None):
            finish()

    return EpochBar()
