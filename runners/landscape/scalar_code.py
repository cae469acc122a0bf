"""A small JAX function's jaxpr written out as plain Python on floats, one line per element:
for the few numbers of a 2- to 10-D landscape's derivative, a Python float operation costs
about 30 ns where a NumPy operation on a tiny array costs 1–1.5 µs (`numpy_code`).

`translate(fn, *examples)` traces `fn` once and returns the source of a module whose `f` takes
NumPy arrays shaped like `examples` and returns a float or nested lists of floats, or None when
the jaxpr holds a primitive this module does not write out, a dtype other than float64, bool
and integers, or more than `MAX_LINES` element operations, or when the result is a constant.
Reshapes, slices, broadcasts, pads and transposes cost nothing at run time: they move element
names while the source is written.
Arithmetic rounds as XLA's does (products and sums in the jaxpr's order, `integer_pow` by
square-and-multiply, no FMA); transcendental functions come from `math`, so they agree with
XLA's to rounding. Where `math` raises instead of returning inf or NaN (overflow, a domain
error, a division by zero) `f` raises ArithmeticError or ValueError and the caller computes
that point another way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax.extend import core
from optbench.runners.landscape import jaxpr_walk
from optbench.runners.landscape.jaxpr_walk import (
    INLINED,
    STRUCTURAL,
    Untranslatable,
    structural,
)

FUNCTION = "f"
MAX_LINES = 4000
HELPERS = """import math


def _max(a, b):
    return a if a > b or a != a else b


def _min(a, b):
    return a if a < b or a != a else b


def _sign(a):
    return math.copysign(1.0, a) if a == a and a else a
"""

UNARY = {
    "neg": "-{0}", "sin": "math.sin({0})", "cos": "math.cos({0})", "tan": "math.tan({0})",
    "asin": "math.asin({0})", "acos": "math.acos({0})", "atan": "math.atan({0})",
    "sinh": "math.sinh({0})", "cosh": "math.cosh({0})", "tanh": "math.tanh({0})",
    "exp": "math.exp({0})", "exp2": "math.pow(2.0, {0})", "log": "math.log({0})",
    "log1p": "math.log1p({0})", "expm1": "math.expm1({0})", "sqrt": "math.sqrt({0})",
    "cbrt": "math.cbrt({0})", "abs": "abs({0})", "sign": "_sign({0})",
    "floor": "float(math.floor({0}))", "ceil": "float(math.ceil({0}))",
    "is_finite": "math.isfinite({0})", "square": "{0} * {0}", "rsqrt": "1.0 / math.sqrt({0})",
    "logistic": "1.0 / (1.0 + math.exp(-{0}))",
}  # fmt: skip
BINARY = {
    "add": "{0} + {1}", "add_any": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}",
    "div": "{0} / {1}", "max": "_max({0}, {1})", "min": "_min({0}, {1})",
    "pow": "math.pow({0}, {1})", "atan2": "math.atan2({0}, {1})", "rem": "math.fmod({0}, {1})",
    "nextafter": "math.nextafter({0}, {1})", "eq": "{0} == {1}", "ne": "{0} != {1}",
    "lt": "{0} < {1}", "le": "{0} <= {1}", "gt": "{0} > {1}", "ge": "{0} >= {1}",
    "and": "{0} & {1}", "or": "{0} | {1}", "xor": "{0} ^ {1}",
}  # fmt: skip
FLOAT_ONLY = {"div", "pow", "atan2", "rem", "nextafter", *UNARY} - {"neg", "abs", "square"}
REDUCTIONS = {"reduce_sum": " + ", "reduce_prod": " * ", "reduce_and": " & ", "reduce_or": " | "}
EXTREMA = {"reduce_max": "_max", "reduce_min": "_min"}
IDENTITY = {"reduce_sum": 0, "reduce_prod": 1, "reduce_and": True, "reduce_or": False}


def literal(value: Any) -> str:
    """Python source for one constant element, exact (repr round-trips a float)."""
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    number = float(value)
    if math.isnan(number):
        return "math.nan"
    if math.isinf(number):
        return "math.inf" if number > 0 else "-math.inf"
    return repr(number)


def _check_dtype(aval: Any) -> None:
    """float64, bool and integers only, and no array larger than the line budget (a large
    landscape is NumPy's: its element names alone would cost more than they save)."""
    if math.prod(getattr(aval, "shape", ())) > MAX_LINES:
        raise Untranslatable(f"an array of shape {aval.shape}")
    kind = np.dtype(aval.dtype)
    if kind != np.float64 and kind != np.bool_ and not np.issubdtype(kind, np.integer):
        raise Untranslatable(f"dtype {kind}")


class Writer:
    """Writes `f`'s body; every array is an object array of element sources (a local's name,
    or a literal), so structural primitives only rearrange names."""

    def __init__(self) -> None:
        self.body: list[str] = []
        self.arrays: dict[Any, np.ndarray] = {}
        self.known: dict[Any, np.ndarray] = {}  # values of constants and folded equations
        self._count = 0

    def fresh(self) -> str:
        self._count += 1
        return f"v{self._count}"

    def emit(self, expression: str) -> str:
        """A new local holding `expression`; a literal or a name is used as it is."""
        if expression.isidentifier() or _is_literal(expression):
            return expression
        if len(self.body) >= MAX_LINES:
            raise Untranslatable(f"more than {MAX_LINES} element operations")
        name = self.fresh()
        self.body.append(f"    {name} = {expression}")
        return name

    def constant(self, value: Any) -> np.ndarray:
        array = np.asarray(value)
        _check_dtype(array)
        out = np.empty(array.shape, dtype=object)
        for index, element in np.ndenumerate(array):
            out[index] = literal(element.item() if hasattr(element, "item") else element)
        return out

    def read(self, atom: Any) -> np.ndarray:
        if isinstance(atom, core.Literal):
            return self.constant(np.asarray(atom.val, dtype=atom.aval.dtype))
        return self.arrays[atom]

    def jaxpr(self, jaxpr: Any, consts: Sequence[Any], inputs: Sequence[np.ndarray]) -> list:
        """Write `jaxpr`'s equations given its inputs' element arrays; its outputs' arrays."""
        for var, value in zip(jaxpr.constvars, consts, strict=True):
            self.arrays[var] = self.constant(value)
            self.known[var] = np.asarray(value)
        for var, array in zip(jaxpr.invars, inputs, strict=True):
            self.arrays[var] = array
        for eqn in jaxpr_walk.live_equations(jaxpr):
            self.equation(eqn)
        return [self.read(v) for v in jaxpr.outvars]

    def fold(self, eqn: Any) -> bool:
        """An equation of constants only is computed now, so its elements are literals."""
        values = jaxpr_walk.folded(eqn, self.known)
        if values is None:
            return False
        for var, value in zip(eqn.outvars, values, strict=True):
            if value is not None:
                self.known[var] = value
                self.arrays[var] = self.constant(value)
        return True

    def equation(self, eqn: Any) -> None:
        name = eqn.primitive.name
        for var in (*eqn.invars, *eqn.outvars):
            _check_dtype(var.aval)
        if self.fold(eqn):
            return
        ins = [self.read(v) for v in eqn.invars]
        if name in INLINED:
            called = jaxpr_walk.inner(eqn)
            if called is None:
                raise Untranslatable(name)
            outs = self.jaxpr(*called, ins)
        else:
            outs = self.primitive(name, eqn, ins)
        for var, array in zip(eqn.outvars, outs, strict=True):
            if not isinstance(var, core.DropVar):
                self.arrays[var] = np.asarray(array, dtype=object).reshape(var.aval.shape)

    def primitive(self, name: str, eqn: Any, ins: list[np.ndarray]) -> list[np.ndarray]:
        """The element arrays of `eqn`'s outputs."""
        params, out = eqn.params, eqn.outvars[0].aval
        floating = np.dtype(out.dtype) == np.float64 or any(
            np.dtype(v.aval.dtype) == np.float64 for v in eqn.invars
        )
        if name in FLOAT_ONLY and not floating:
            raise Untranslatable(f"{name} on integers")
        if name in UNARY or name in BINARY:
            template = UNARY.get(name) or BINARY[name]
            return [self.elementwise(template, ins, out.shape)]
        if name == "not":
            boolean = np.dtype(out.dtype) == np.bool_
            return [self.elementwise("(not {0})" if boolean else "~{0}", ins, out.shape)]
        if name == "integer_pow":
            return [self.map(lambda x: self.integer_pow(x, params["y"]), ins[0])]
        if name == "convert_element_type":
            return [self.convert(ins[0], eqn.invars[0].aval, out)]
        if name == "select_n":
            return [self.select(ins, eqn.invars[0].aval, out.shape)]
        if name == "clamp":
            return [self.elementwise("_min(_max({1}, {0}), {2})", ins, out.shape)]
        if name in REDUCTIONS or name in EXTREMA:
            return [self.reduce(name, ins[0], tuple(params["axes"]))]
        if name == "dot_general":
            return [self.dot(ins[0], ins[1], params["dimension_numbers"], out.shape)]
        if name in STRUCTURAL:
            return structural(name, ins, params, out.shape)
        raise Untranslatable(name)

    def map(self, make: Callable[[str], str], array: np.ndarray) -> np.ndarray:
        out = np.empty(array.shape, dtype=object)
        for index, element in np.ndenumerate(array):
            out[index] = make(element)
        return out

    def elementwise(self, template: str, ins: list[np.ndarray], shape: tuple) -> np.ndarray:
        """One line per element; a scalar input is read by every element."""
        spread = [np.broadcast_to(a, shape) for a in ins]
        out = np.empty(shape, dtype=object)
        for index in np.ndindex(*shape):
            operands = [_wrapped(a[index]) for a in spread]
            out[index] = self.emit(template.format(*operands))
        return out

    def integer_pow(self, x: str, y: int) -> str:
        """JAX's square-and-multiply, so the products round as XLA's do."""
        if y == 0:
            return "1.0"
        power, acc, base = abs(y), None, x
        while power:
            if power & 1:
                acc = base if acc is None else self.emit(f"{acc} * {base}")
            power >>= 1
            if power:
                base = self.emit(f"{_wrapped(base)} * {_wrapped(base)}")
        return self.emit(f"1.0 / {_wrapped(acc)}") if y < 0 else acc

    def convert(self, array: np.ndarray, source: Any, target: Any) -> np.ndarray:
        kind, origin = np.dtype(target.dtype), np.dtype(source.dtype)
        if kind == origin:
            return array
        if kind == np.float64:
            return self.map(lambda x: self.emit(f"float({x})"), array)
        if np.issubdtype(kind, np.integer) and origin == np.bool_:
            return self.map(lambda x: self.emit(f"int({x})"), array)
        raise Untranslatable(f"convert {origin} to {kind}")

    def select(self, ins: list[np.ndarray], predicate: Any, shape: tuple) -> np.ndarray:
        spread = [np.broadcast_to(a, shape) for a in ins]
        boolean = np.dtype(predicate.dtype) == np.bool_
        out = np.empty(shape, dtype=object)
        for index in np.ndindex(*shape):
            which, *cases = (a[index] for a in spread)
            if boolean:
                out[index] = self.emit(f"({cases[1]} if {which} else {cases[0]})")
            else:
                out[index] = self.emit(f"({', '.join(cases)},)[{which}]")
        return out

    def reduce(self, name: str, array: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
        """Each output element folds its inputs left to right, as one line."""
        kept = [i for i in range(array.ndim) if i not in axes]
        moved = np.transpose(array, (*kept, *axes))
        shape = moved.shape[: len(kept)]
        rows = moved.reshape(*shape, -1)
        out = np.empty(shape, dtype=object)
        for index in np.ndindex(*shape):
            elements = [_wrapped(e) for e in rows[index]]
            if not elements:
                out[index] = literal(IDENTITY.get(name, -math.inf if "max" in name else math.inf))
            elif name in EXTREMA:
                folded = elements[0]
                for element in elements[1:]:
                    folded = f"{EXTREMA[name]}({folded}, {element})"
                out[index] = self.emit(folded)
            else:
                out[index] = self.emit(REDUCTIONS[name].join(elements))
        return out

    def dot(self, lhs: np.ndarray, rhs: np.ndarray, numbers: Any, shape: tuple) -> np.ndarray:
        """Sums of products in the contracting order, one line per output element."""
        (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = numbers
        lhs_free = [i for i in range(lhs.ndim) if i not in (*lhs_contract, *lhs_batch)]
        rhs_free = [i for i in range(rhs.ndim) if i not in (*rhs_contract, *rhs_batch)]
        left = np.transpose(lhs, (*lhs_batch, *lhs_free, *lhs_contract))
        right = np.transpose(rhs, (*rhs_batch, *rhs_free, *rhs_contract))
        batch = [lhs.shape[i] for i in lhs_batch]
        b, k = math.prod(batch), math.prod(lhs.shape[i] for i in lhs_contract)
        left = left.reshape(b, -1, k)
        right = right.reshape(b, -1, k)
        out = np.empty((b, left.shape[1], right.shape[1]), dtype=object)
        for index in np.ndindex(*out.shape):
            batch_index, i, j = index
            terms = [
                f"{_wrapped(x)} * {_wrapped(y)}"
                for x, y in zip(left[batch_index, i], right[batch_index, j], strict=True)
            ]
            out[index] = self.emit(" + ".join(terms)) if terms else "0.0"
        return out.reshape(shape)


def _is_literal(text: str) -> bool:
    return text in ("math.nan", "math.inf", "-math.inf", "True", "False") or _number(text)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _wrapped(element: str) -> str:
    """An element as an operand: a negative literal in parentheses (so `x ** -1.0` and
    `a - -2.0` read as meant)."""
    return f"({element})" if element.startswith("-") else element


def _nested(array: np.ndarray) -> str:
    """Source of a float or nested lists of floats, rows first."""
    if array.ndim == 0:
        return str(array.item())
    if array.ndim == 1:
        return "[" + ", ".join(array) + "]"
    return "[" + ", ".join(_nested(row) for row in array) + "]"


def translate(fn: Callable, *examples: Any) -> str | None:
    """The source of a module whose `f` computes `fn` on arrays shaped like `examples` with
    Python floats, or None when `fn`'s jaxpr cannot be written out that way."""
    closed = jax.make_jaxpr(fn)(*examples)
    writer = Writer()
    unpack, inputs = [], []
    for i, var in enumerate(closed.jaxpr.invars):
        shape = var.aval.shape
        names = np.array([f"a{i}_{j}" for j in range(math.prod(shape))], dtype=object)
        inputs.append(names.reshape(shape))
        if names.size:
            unpack.append(f"    {', '.join(names)}{',' if names.size == 1 else ''} = "
                          f"np.asarray(a{i}, np.float64).ravel().tolist()")  # fmt: skip
    try:
        for var in closed.jaxpr.invars:
            _check_dtype(var.aval)
        results = writer.jaxpr(closed.jaxpr, closed.consts, inputs)
    except Untranslatable:
        return None
    if all(_is_literal(element) for r in results for element in np.ravel(r)):
        return None  # a constant (a quadratic's Hessian): one stored NumPy array is faster
    returned = ", ".join(_nested(r) for r in results)
    header = f"def {FUNCTION}({', '.join(f'a{i}' for i in range(len(inputs)))}):"
    lines = ["import numpy as np", HELPERS, header, *unpack, *writer.body]
    lines.append(f"    return {returned if len(results) == 1 else '(' + returned + ',)'}")
    return "\n".join(lines) + "\n"


def compiled(source: str) -> Callable:
    """The function `f` a translated module defines."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "<optbench.scalar_code>", "exec"), namespace)
    return namespace[FUNCTION]
