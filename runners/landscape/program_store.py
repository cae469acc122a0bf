"""Serialized programs of the optax path (`jax.export`), so a warm process loads a program
instead of tracing it again: XLA's persistent cache skips compiling, this skips tracing.

A program is stored under the digest of what shapes it (its key) and of what could change its
code: the versions of JAX, jaxlib, optax and NumPy, and the source of optbench's landscapes,
optimizers and optax path plus the modules of the plugins it runs. Files are written to a
temporary name and renamed, so a crash leaves no half-written program.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import jax

from optbench import jax_cache

SUFFIX = ".jaxexport"
PACKAGES = ("jax", "jaxlib", "optax", "numpy")
OWN_CODE = ("optbench.landscapes", "optbench.optimizers", "optbench.runners.landscape")

LOADS = {"traced": 0, "loaded": 0}  # this process: programs traced anew / loaded from disk
_COMPILED: dict[str, Any] = {}
_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def folder() -> Path | None:
    """`<cache>-programs/` beside the XLA cache folder, or None when the cache is turned off."""
    cache_dir = jax_cache.cache_dir()
    return None if cache_dir is None else cache_dir.with_name(f"{cache_dir.name}-programs")


def own_files() -> list[Path]:
    """optbench's own landscape, optimizer and optax-path source files."""
    folders = [Path(importlib.import_module(name).__file__).parent for name in OWN_CODE]
    return [path for folder in folders for path in sorted(folder.rglob("*.py"))]


@cache
def _own_source() -> str:
    digest = hashlib.sha256()
    for path in own_files():
        digest.update(path.read_bytes())
    return digest.hexdigest()


@cache
def _module_source(module: str) -> str:
    try:
        source = inspect.getsource(__import__(module, fromlist=["_"]))
        return hashlib.sha256(source.encode()).hexdigest()
    except (OSError, TypeError):
        return module


@cache
def _versions() -> tuple[str, ...]:
    return tuple(f"{p}={metadata.version(p)}" for p in PACKAGES)


def digest(key: tuple, plugins: Iterable[object]) -> str:
    """The file name stem of a program: its key, library versions and the code it runs."""
    parts = [repr(key), _own_source(), jax.default_backend(), *_versions()]
    parts += sorted({_module_source(getattr(p, "__module__", type(p).__module__)) for p in plugins})
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def read(name: str) -> bytes | None:
    """A stored file's bytes, or None when the cache is off or holds no such file."""
    where = folder()
    try:
        return None if where is None else (where / name).read_bytes()
    except OSError:
        return None


def write(name: str, data: bytes) -> None:
    """Store a file atomically; silently skipped when the cache is off or not writable."""
    where = folder()
    if where is None:
        return
    try:
        where.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=where, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, where / name)
    except OSError:
        return


def load(stem: str) -> jax.export.Exported | None:
    """The stored program, or None when there is none (or it cannot be read)."""
    data = read(f"{stem}{SUFFIX}")
    if data is None:
        return None
    try:
        return jax.export.deserialize(bytearray(data))
    except Exception:  # a damaged or incompatible file is traced anew and rewritten
        return None


def save(stem: str, exported: jax.export.Exported) -> None:
    """Store a program atomically; silently skipped when the cache is off or not writable."""
    write(f"{stem}{SUFFIX}", exported.serialize())


def compiled(key: tuple, plugins: Iterable[object], build: Callable[[], Callable], args: tuple):
    """The jitted `build()` compiled for `args` (shape structs): its export loaded from the store
    when there, else traced, exported and stored; on CPU without YNNPACK fusions, so a run's
    numbers do not depend on how many runs share the program. Once per process: lanes asking
    for one program at the same time wait for a single compilation."""
    stem = digest(key, plugins)
    with _GUARD:
        lock = _LOCKS.setdefault(stem, threading.Lock())
    with lock:
        if stem not in _COMPILED:
            exported = load(stem)
            if exported is None:
                exported = jax.export.export(jax.jit(build()))(*args)
                save(stem, exported)
                LOADS["traced"] += 1
            else:
                LOADS["loaded"] += 1
            options = jax_cache.LAYOUT_INDEPENDENT if jax.default_backend() == "cpu" else {}
            lowered = jax.jit(exported.call).lower(*args)
            _COMPILED[stem] = lowered.compile(compiler_options=options)
        return _COMPILED[stem]


def remembered(stem: str, compute: Callable[[], bool]) -> bool:
    """A yes/no finding about code (can this optimizer be traced?) kept beside the programs, so
    a warm process does not trace again to find it."""
    name = f"{stem}.answer"
    stored = read(name)
    if stored in (b"yes", b"no"):
        return stored == b"yes"
    answer = compute()
    write(name, b"yes" if answer else b"no")
    return answer
