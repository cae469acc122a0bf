"""Errors and warnings that optbench raises, so callers can catch them by kind."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class OptbenchError(ValueError):
    """Bad input from a user: the message names the bad value and what is allowed."""


class UnknownPluginError(OptbenchError, KeyError):
    """A plugin name that no installed distribution registers."""

    def __init__(self, kind: str, name: str, registered: Iterable[str]):
        registered = sorted(registered)
        close = difflib.get_close_matches(name.lower(), registered, n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        listed = ", ".join(registered) if registered else "(none)"
        super().__init__(f"unknown {kind} {name!r}.{hint} Registered {kind}s: {listed}")
        self.kind, self.name, self.registered, self.close_matches = kind, name, registered, close

    def __str__(self) -> str:
        return self.args[0]


class DuplicatePluginError(OptbenchError):
    """Two distributions register one plugin name in the same group."""


class OptbenchWarning(UserWarning):
    """Something the user should know that does not stop the work; shown as one line."""


class PluginLoadWarning(OptbenchWarning):
    """A third-party plugin failed to import or has the wrong type; it is skipped."""


class DamagedPartWarning(OptbenchWarning):
    """A results part file could not be read; it was set aside and its runs will be rerun."""
