"""The derivatives scipy's methods call, one point at a time: JAX's autodiff of the landscape,
written out as scalar Python (`scalar_code`, a few microseconds a call for the 2- to 10-D
landscapes) or else as NumPy code (`numpy_code`, tens of microseconds) and kept on disk, so a
call costs no JAX dispatch and a warm process traces nothing. A derivative whose jaxpr has
neither translation stays a jitted JAX function, and an empty file says so to the next
process, so it does not try again.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import types
from collections.abc import Callable
from functools import cache
from typing import Any

import jax
import numpy as np
from optbench.runners.landscape import numpy_code, program_store, scalar_code

from optbench.contracts import Landscape

SUFFIX = ".numpy.py"
SCALAR_SUFFIX = ".scalar.py"
UNTRANSLATABLE = b""  # stored for a derivative with no such translation: not tried again
LOADS = {"translated": 0, "loaded": 0, "jax": 0, "scalar": 0}  # this process's derivatives


def hessian_vector(fn: Callable) -> Callable:
    """`(x, p) -> H(x) p` by forward-over-reverse autodiff, without forming H."""
    return lambda x, p: jax.jvp(jax.grad(fn), (x,), (p,))[1]


KINDS: dict[str, tuple[Callable[[Callable], Callable], int]] = {
    "grad": (jax.grad, 1),
    "hess": (jax.hessian, 1),
    "hessp": (hessian_vector, 2),
}


VALUE = "value"
NOT_TRACEABLE = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerBoolConversionError,
    jax.errors.TracerIntegerConversionError,
    jax.errors.TracerArrayConversionError,
)
TRANSLATED = {**KINDS, VALUE: (lambda fn: fn, 1)}  # what is written out: derivatives and f


class Unknown(Exception):
    """An object the fingerprint cannot read; the landscape is traced instead."""


def fingerprint(value: Any, digest: Any, depth: int = 0) -> None:
    """Feed `digest` what computes `value`: code, constants, closures, arrays and the fields of
    objects, recursively. Module globals a function reads are not followed: the key covers the
    source of optbench's own modules and of the landscape function's module only."""
    if depth > 12:
        raise Unknown("too deep")
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, (np.ndarray, np.generic, jax.Array)):
        array = np.asarray(value)
        digest.update(f"{array.dtype}{array.shape};".encode() + array.tobytes())
    elif isinstance(value, (tuple, list, frozenset)):
        digest.update(f"{type(value).__name__}{len(value)};".encode())
        for item in sorted(value, key=repr) if isinstance(value, frozenset) else value:
            fingerprint(item, digest, depth + 1)
    elif isinstance(value, dict):
        for key in sorted(value, key=repr):
            fingerprint(key, digest, depth + 1)
            fingerprint(value[key], digest, depth + 1)
    elif isinstance(value, types.FunctionType):
        code = value.__code__
        digest.update(f"{value.__module__}.{value.__qualname__};".encode() + code.co_code)
        fingerprint(code.co_consts, digest, depth + 1)
        fingerprint(code.co_names, digest, depth + 1)
        fingerprint(value.__defaults__, digest, depth + 1)
        for cell in value.__closure__ or ():
            fingerprint(cell.cell_contents, digest, depth + 1)
    elif isinstance(value, types.CodeType):
        fingerprint(value.co_code + repr(value.co_names).encode(), digest, depth + 1)
        fingerprint(value.co_consts, digest, depth + 1)
    elif isinstance(value, functools.partial):
        fingerprint((value.func, value.args, value.keywords), digest, depth + 1)
    elif isinstance(value, type) or inspect.ismodule(value) or inspect.isbuiltin(value):
        digest.update(f"{getattr(value, '__module__', '')}.{value.__qualname__};".encode())
    elif hasattr(value, "__dict__"):
        digest.update(f"{type(value).__module__}.{type(value).__qualname__};".encode())
        fingerprint(vars(value), digest, depth + 1)
    else:
        raise Unknown(type(value).__name__)


@cache
def _landscape_digest(landscape: Landscape) -> str:
    """What identifies a landscape's function: its fingerprint, or its jaxpr and constants when
    the fingerprint meets an object it cannot read; plus the modules' source and versions."""
    digest = hashlib.sha256()
    try:
        fingerprint(landscape.fn, digest)
    except Unknown:
        closed = jax.make_jaxpr(landscape.fn)(np.zeros(landscape.dim))
        digest.update(str(closed).encode())
        for const in closed.consts:
            digest.update(np.asarray(const).tobytes())
    digest.update(f"{landscape.dim}".encode())
    key = (digest.hexdigest(), "numpy derivatives")
    return program_store.digest(key, [landscape.fn])


def stem(landscape: Landscape, kind: str) -> str:
    """The file name stem of one derivative of one landscape."""
    return hashlib.sha256(f"{_landscape_digest(landscape)}:{kind}".encode()).hexdigest()[:32]


def _source(landscape: Landscape, kind: str, module: types.ModuleType, suffix: str) -> str | None:
    """`module`'s translation of the derivative (or value): loaded, or translated and stored;
    None when it has none."""
    make, arity = TRANSLATED[kind]
    name = f"{stem(landscape, kind)}{suffix}"
    stored = program_store.read(name)
    if stored is None:
        try:
            source = module.translate(make(landscape.fn), *[np.zeros(landscape.dim)] * arity)
        except NOT_TRACEABLE:  # Python control flow on values: the NumPy function still runs
            source = None
        program_store.write(name, UNTRANSLATABLE if source is None else source.encode())
        how = "translated"
    else:
        source = None if stored == UNTRANSLATABLE else stored.decode()
        how = "loaded"
    if source is not None:
        LOADS[how] += 1
    return source


def numpy_function(landscape: Landscape, kind: str) -> Callable[..., np.ndarray]:
    """The derivative as NumPy code, else jitted JAX."""
    source = _source(landscape, kind, numpy_code, SUFFIX)
    if source is None:
        LOADS["jax"] += 1
        jitted = jax.jit(KINDS[kind][0](landscape.fn))
        return lambda *args: np.asarray(jitted(*args))
    function = numpy_code.compiled(source)
    return lambda *args: np.array(function(*args), dtype=np.float64)


def numpy_value(landscape: Landscape) -> Callable[[np.ndarray], float]:
    """The landscape's own array-API function on NumPy."""
    fn = landscape.fn
    return lambda x: float(fn(np.asarray(x, dtype=np.float64)))


class Guarded:
    """Scalar Python code, and NumPy at the points where `math` raises (overflow, a domain
    error, a division by zero) instead of giving inf or NaN as XLA and NumPy do."""

    def __init__(self, scalar: Callable, landscape: Landscape, kind: str):
        self.scalar, self.landscape, self.kind = scalar, landscape, kind
        self.fallback: Callable[..., Any] | None = None
        self.convert = float if kind == VALUE else lambda out: np.array(out, dtype=np.float64)

    def __call__(self, *args: Any) -> Any:
        try:
            return self.convert(self.scalar(*args))
        except (ArithmeticError, ValueError):
            if self.fallback is None:
                self.fallback = _fallback(self.landscape, self.kind)
            return self.fallback(*args)


def _fallback(landscape: Landscape, kind: str) -> Callable[..., Any]:
    return numpy_value(landscape) if kind == VALUE else numpy_function(landscape, kind)


def build(landscape: Landscape, kind: str) -> Callable[..., Any]:
    """The derivative (or value) as scalar Python (a few element operations), else NumPy code
    (the landscape's own function for the value), else jitted JAX; each translation is
    loaded, or translated and stored."""
    source = _source(landscape, kind, scalar_code, SCALAR_SUFFIX)
    if source is None:
        return _fallback(landscape, kind)
    LOADS["scalar"] += 1
    return Guarded(scalar_code.compiled(source), landscape, kind)


class Derivative:
    """One derivative (or the value) of one landscape, built on its first call."""

    def __init__(self, landscape: Landscape, kind: str):
        self.landscape, self.kind = landscape, kind
        self.function: Callable[..., np.ndarray] | None = None

    def __call__(self, *args: Any) -> np.ndarray:
        function = self.function
        if function is None:
            function = self.function = build(self.landscape, self.kind)
        return function(*args)
