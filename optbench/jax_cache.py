"""JAX process setup: the persistent compilation cache, and CPU code without fused multiply-add.

The cache lives in `$XDG_CACHE_HOME/optbench/jax` (default `~/.cache/optbench/jax`), on by
default, so a study run again compiles nothing. `OPTBENCH_JAX_CACHE=0` (or `off`, `false`,
`no`) turns it off; any other value is the folder.

Layout independence: XLA's CPU code generator contracts `a * b + c` into one FMA instruction
where its fusion decisions allow, and those decisions depend on the whole program. So the same
run gave different last bits alone and beside other landscapes (#15). Capping the instruction
set at AVX (`--xla_cpu_max_isa=AVX`, which has no FMA) makes every elementwise result the
correctly rounded IEEE one whatever shares the program (and the same on any x86 CPU with AVX).
XLA CPU also hands reductions, products and elementwise work of large enough arrays to
YNNPACK, whose results depend on the array's size: a 10-D run's value then differed in the last
bit between 16 and 4096 rows of one program. `LAYOUT_INDEPENDENT` turns those fusions off for
the programs that batch runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_VAR = "OPTBENCH_JAX_CACHE"
ISA_FLAG = "--xla_cpu_max_isa"
ISA = "AVX"
OFF = {"0", "off", "false", "no", "none", ""}

_enabled: Path | None = None

LAYOUT_INDEPENDENT = {"xla_cpu_experimental_ynn_fusion_type": ""}


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


def without_fma() -> bool:
    """Add `--xla_cpu_max_isa=AVX` to `XLA_FLAGS` unless the user chose an instruction set;
    True when the flag is in effect (it is read when JAX first creates its CPU backend)."""
    flags = os.environ.get("XLA_FLAGS", "")
    if ISA_FLAG not in flags:
        if "jax" in sys.modules:
            from jax._src import xla_bridge

            if xla_bridge.backends_are_initialized():
                return False
        os.environ["XLA_FLAGS"] = f"{flags} {ISA_FLAG}={ISA}".strip()
    return f"{ISA_FLAG}={ISA}" in os.environ["XLA_FLAGS"].split()
