"""JAX's persistent compilation cache, on by default, so a study run again compiles nothing.

The cache lives in `$XDG_CACHE_HOME/optbench/jax` (default `~/.cache/optbench/jax`).
`OPTBENCH_JAX_CACHE=0` (or `off`, `false`, `no`) turns it off; any other value is the folder.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "OPTBENCH_JAX_CACHE"
OFF = {"0", "off", "false", "no", "none", ""}

_enabled: Path | None = None


def cache_dir(environ: os._Environ[str] | dict[str, str] | None = None) -> Path | None:
    """Where the cache goes under these environment variables, or None when turned off."""
    env = os.environ if environ is None else environ
    override = env.get(ENV_VAR)
    if override is not None:
        return None if override.strip().lower() in OFF else Path(override).expanduser()
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "optbench" / "jax"


def enable_compilation_cache() -> Path | None:
    """Point JAX's persistent cache at `cache_dir()`, caching every compile; returns the folder."""
    global _enabled
    folder = cache_dir()
    if folder is None or folder == _enabled:
        return folder
    import jax

    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    _enabled = folder
    return folder
