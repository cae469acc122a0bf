#!/usr/bin/env bash
# The landscape runner's GPU figures (#5): Adam throughput, vectorized against the naive loop,
# and the default study end to end with a cold and then a warm compilation cache.
# Run from the repository root on a machine with an NVIDIA GPU and JAX for CUDA installed;
# pytest-benchmark JSON goes to $OUT (default benchmarks/.gpu).
set -u
out=${OUT:-benchmarks/.gpu}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
nproc
python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . 2>&1 | tail -1
python3 -c "import jax, optax; print('jax', jax.__version__, 'optax', optax.__version__, jax.devices())"
bench() {
    python3 -m pytest benchmarks/bench_landscape.py --benchmark-only -q -p no:cacheprovider \
        --benchmark-columns=min,median,max,rounds "$@" 2>&1 | tail -12
}
bench -k "vectorized or naive or ratio" --benchmark-json="$out/adam.json"
OPTBENCH_BENCH_DEFAULT=1 bench -k default_study --benchmark-json="$out/default.json"
python3 - "$out" <<'EOF'
import json, sys
for name in ("adam", "default"):
    try:
        data = json.load(open(f"{sys.argv[1]}/{name}.json"))
    except OSError:
        continue
    for bench in data["benchmarks"]:
        print(bench["name"], "median", round(bench["stats"]["median"], 4), bench["extra_info"])
EOF
