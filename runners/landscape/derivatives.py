"""The derivatives scipy's methods call, one point at a time: JAX's autodiff of the landscape,
written out as NumPy code (`numpy_code`) and kept on disk, so a call costs NumPy's few
microseconds instead of a JAX dispatch and a warm process traces nothing. A derivative whose
jaxpr has no translation stays a jitted JAX function.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from importlib import metadata
from typing import Any

import jax
import numpy as np
from optbench.runners.landscape import numpy_code, program_store

from optbench.contracts import Landscape

SUFFIX = ".numpy.py"
LOADS = {"translated": 0, "loaded": 0, "jax": 0}  # this process: how each derivative was built


def hessian_vector(fn: Callable) -> Callable:
    """`(x, p) -> H(x) p` by forward-over-reverse autodiff, without forming H."""
    return lambda x, p: jax.jvp(jax.grad(fn), (x,), (p,))[1]


KINDS: dict[str, tuple[Callable[[Callable], Callable], int]] = {
    "grad": (jax.grad, 1),
    "hess": (jax.hessian, 1),
    "hessp": (hessian_vector, 2),
}


def stem(landscape: Landscape, kind: str) -> str:
    """The file name stem of a derivative: the landscape's own jaxpr and constants, the kind,
    the translator's source and the versions of JAX and NumPy."""
    point = np.zeros(landscape.dim)
    closed = jax.make_jaxpr(landscape.fn)(point)
    digest = hashlib.sha256(f"{kind}\n{closed}".encode())
    for const in closed.consts:
        digest.update(np.asarray(const).tobytes())
    digest.update(inspect.getsource(numpy_code).encode())
    for package in ("jax", "numpy"):
        digest.update(f"{package}={metadata.version(package)}".encode())
    return digest.hexdigest()[:32]


def build(landscape: Landscape, kind: str) -> Callable[..., np.ndarray]:
    """The derivative as a NumPy function (loaded, or translated and stored), else jitted JAX."""
    make, arity = KINDS[kind]
    name = f"{stem(landscape, kind)}{SUFFIX}"
    stored = program_store.read(name)
    source = None if stored is None else stored.decode()
    if source is None:
        source = numpy_code.translate(make(landscape.fn), *[np.zeros(landscape.dim)] * arity)
        if source is not None:
            program_store.write(name, source.encode())
            LOADS["translated"] += 1
    else:
        LOADS["loaded"] += 1
    if source is None:
        LOADS["jax"] += 1
        jitted = jax.jit(make(landscape.fn))
        return lambda *args: np.asarray(jitted(*args))
    function = numpy_code.compiled(source)
    return lambda *args: np.array(function(*args), dtype=np.float64)


class Derivative:
    """One derivative of one landscape, built on its first call."""

    def __init__(self, landscape: Landscape, kind: str):
        self.landscape, self.kind = landscape, kind
        self.function: Callable[..., np.ndarray] | None = None

    def __call__(self, *args: Any) -> np.ndarray:
        function = self.function
        if function is None:
            function = self.function = build(self.landscape, self.kind)
        return function(*args)
