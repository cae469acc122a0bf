"""Pool workers: how many to start, and what each worker process does first (die with its
parent, leave Ctrl-C and plugin warnings to it).

A watchdog thread compares the worker's parent pid with the process that started it and exits
the worker once they differ (the parent died, even by SIGKILL, and the worker was reparented).
Linux's PR_SET_PDEATHSIG is not used: it fires when the parent *thread* that forked the worker
ends, and pools here are started from short-lived lane threads.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import warnings

from optbench.errors import OptbenchWarning

POLL_S = 0.2
WORKERS_ENV = "OPTBENCH_WORKERS"


def cpu_count() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_count() -> int:
    """Pool or local-cluster size: `OPTBENCH_WORKERS`, else the CPUs this process may use."""
    text = os.environ.get(WORKERS_ENV)
    return max(1, int(text)) if text else cpu_count()


def parent_pid() -> int:
    """The pid of the process that started this one (multiprocessing's record of it)."""
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None and parent.pid is not None else os.getppid()


def die_with_parent(poll_s: float = POLL_S) -> threading.Thread:
    """Start a daemon thread that ends this process as soon as its parent is gone."""
    expected = parent_pid()

    def watch() -> None:
        while os.getppid() == expected:
            threading.Event().wait(poll_s)
        os._exit(1)

    thread = threading.Thread(target=watch, name="optbench-parent-watchdog", daemon=True)
    thread.start()
    return thread


def init_worker() -> None:
    """Pool initializer: the parent handles SIGINT (it lets the work in flight finish) and
    reports plugin warnings once; the worker stops when the parent dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.simplefilter("ignore", OptbenchWarning)
    die_with_parent()
