"""TensorFlow's start-up noise (the oneDNN banner, absl's pre-init warning), silenced unless the
user asks for it: they are written by C++ straight to file descriptor 2, so only an fd-level
redirect during the import hides them; TF_CPP_MIN_LOG_LEVEL hides its later log lines."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

VERBOSE_ENV = "OPTBENCH_VERBOSE"


@contextlib.contextmanager
def silenced_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the duration (C++ writes included)."""
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def import_keras_quietly(backend: str = "tensorflow") -> None:
    """Import Keras (on `backend` when not yet imported) without TensorFlow's banner, unless
    $OPTBENCH_VERBOSE is set."""
    if "keras" in sys.modules:
        return
    os.environ.setdefault("KERAS_BACKEND", backend)
    if os.environ.get(VERBOSE_ENV, "") not in ("", "0"):
        import keras

        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with silenced_stderr():
        import keras  # noqa: F401
