"""The seed's MLP as a scikit-learn classifier through Keras' own wrapper
(`keras.wrappers.SKLearnClassifier`, Keras >= 3.8), with flat parameters, so that a user's
`GridSearchCV(MLPClassifier(), {"init": [...], "batch_size": [...]}, cv=KFold(3))` runs as is.

Keras' wrapper clones itself with `model`, `warm_start` and `model_kwargs` only, losing
`fit_kwargs` (epochs and batch size fall back to Keras' 1 and 32); this class clones from its
flat parameters instead. Keras is imported when the class is first used, not at import.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from optbench.runners.mnist.model import ModelConfig


def build(
    X: np.ndarray,
    y: np.ndarray,
    init: str = "glorot_uniform",
    widths: tuple[int, ...] = (64, 64),
    dropout: float = 0.1,
    activation: str = "relu",
    loss: str = "categorical_crossentropy",
    optimizer: str = "keras.rmsprop",
    hyperparameters: dict[str, Any] | None = None,
    steps_per_epoch: int = 1,
    seed: int = 0,
) -> Any:
    """The compiled Keras model the wrapper fits (X and y are the wrapper's, unused here)."""
    from optbench.runners.mnist import keras_trainer
    from optbench.runners.mnist.plugin import build_optimizer

    from optbench import hyperparameters as hyper
    from optbench import registry

    keras = keras_trainer.import_keras("tensorflow")
    config = ModelConfig.from_options(
        {"initializer": init, "widths": list(widths), "dropout": dropout,
         "activation": activation, "loss": loss}
    )  # fmt: skip
    plugin = registry.optimizer(optimizer)
    hp = hyper.resolve(plugin, hyperparameters or {})
    model = keras_trainer.build_model(config, seed, keras)
    keras_trainer.compile_model(model, build_optimizer(plugin, hp, steps_per_epoch), config, keras)
    return model


@cache
def classifier_class() -> type:
    """`MLPClassifier`, a subclass of `keras.wrappers.SKLearnClassifier` (imports Keras)."""
    from optbench.runners.mnist import keras_trainer

    keras = keras_trainer.import_keras("tensorflow")
    from sklearn.base import clone
    from sklearn.utils.validation import check_is_fitted

    class MLPClassifier(keras.wrappers.SKLearnClassifier):
        """The seed's MLP; every setting is a flat scikit-learn parameter."""

        def __init__(
            self,
            init: str = "glorot_uniform",
            batch_size: int = 128,
            epochs: int = 10,
            widths: tuple[int, ...] = (64, 64),
            dropout: float = 0.1,
            activation: str = "relu",
            loss: str = "categorical_crossentropy",
            optimizer: str = "keras.rmsprop",
            learning_rate: float | None = None,
            optimizer_kwargs: dict[str, Any] | None = None,
            seed: int = 0,
            verbose: int = 0,
        ):
            self.init = init
            self.batch_size = batch_size
            self.epochs = epochs
            self.widths = widths
            self.dropout = dropout
            self.activation = activation
            self.loss = loss
            self.optimizer = optimizer
            self.learning_rate = learning_rate
            self.optimizer_kwargs = optimizer_kwargs
            self.seed = seed
            self.verbose = verbose
            self.model = build
            self.warm_start = False

        @property
        def model_kwargs(self) -> dict[str, Any]:
            hp = dict(self.optimizer_kwargs or {})
            if self.learning_rate is not None:
                hp["learning_rate"] = self.learning_rate
            return {
                "init": self.init,
                "widths": tuple(self.widths),
                "dropout": self.dropout,
                "activation": self.activation,
                "loss": self.loss,
                "optimizer": self.optimizer,
                "hyperparameters": hp,
                "steps_per_epoch": max(1, -(-getattr(self, "_n_fit", 1) // self.batch_size)),
                "seed": self.seed,
            }

        @model_kwargs.setter
        def model_kwargs(self, value: Any) -> None:
            """Keras' wrapper assigns it in `__init__`; the flat parameters are the truth."""

        @property
        def fit_kwargs(self) -> dict[str, Any]:
            return {
                "batch_size": self.batch_size,
                "epochs": self.epochs,
                "shuffle": True,
                "verbose": self.verbose,
            }

        @fit_kwargs.setter
        def fit_kwargs(self, value: Any) -> None:
            """As `model_kwargs`: derived from the flat parameters."""

        def fit(self, X: Any, y: Any, **kwargs: Any) -> Any:
            self._n_fit = len(X)
            return super().fit(X, y, **kwargs)

        def predict(self, X: Any) -> np.ndarray:
            """Class labels, without Keras' per-call progress bar."""
            check_is_fitted(self)
            raw = self.model_.predict(np.asarray(X, dtype=np.float32), verbose=0)
            return self._reverse_process_target(raw)

        def __sklearn_clone__(self) -> Any:
            return type(self)(**{k: clone(v, safe=False) for k, v in self.get_params().items()})

    MLPClassifier.__module__ = __name__
    MLPClassifier.__qualname__ = "MLPClassifier"
    return MLPClassifier


def MLPClassifier(**params: Any) -> Any:
    """An `MLPClassifier` (the class is made on first use, so Keras loads only then)."""
    return classifier_class()(**params)
