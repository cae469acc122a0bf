"""Stopping a study cleanly: the first Ctrl-C (SIGINT) or SIGTERM lets the batches in flight
finish and be written, a second one stops at once; after either the exit status is 130."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOPPING = (
    "optbench: stopping; the batches in flight finish and are written "
    "(press Ctrl-C again to stop now)"
)


class Interrupted(KeyboardInterrupt):
    """A study stopped by SIGINT or SIGTERM; `abandoned` when a second signal cut work short."""

    def __init__(self, abandoned: bool = False):
        super().__init__("interrupted")
        self.abandoned = abandoned


@contextmanager
def graceful_stop() -> Iterator[threading.Event]:
    """An event set by the first SIGINT/SIGTERM (the work in flight goes on); a second signal
    raises `Interrupted(abandoned=True)`. Outside the main thread no handler is installed."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum, frame) -> None:
        if stop.is_set():
            raise Interrupted(abandoned=True)
        stop.set()
        print(STOPPING, file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
