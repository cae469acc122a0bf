"""A JAX function's jaxpr written out as NumPy source, for the derivatives scipy calls one
point at a time: NumPy on a few numbers costs about 1 µs an operation, while a JAX dispatch
costs 15 µs in a tight loop and 30–50 µs between scipy's own Python (measured on Beale).

`translate(fn, *examples)` traces `fn` once and returns the source of a module that defines
`f`, or None when the jaxpr holds a primitive this module has no translation for (the caller
keeps the jitted JAX function then). `compiled(source)` makes the function. Each primitive is
written the way XLA computes it where NumPy can: `integer_pow` by JAX's square-and-multiply,
`pad` and `select_n` by their definitions. Transcendental functions and sums come from NumPy,
so results agree with XLA's to rounding, not always to the last bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax.extend import core
from optbench.runners.landscape import jaxpr_walk
from optbench.runners.landscape.jaxpr_walk import INLINED, Untranslatable

FUNCTION = "f"


UNARY = {
    "neg": "-{0}", "sin": "np.sin({0})", "cos": "np.cos({0})", "tan": "np.tan({0})",
    "asin": "np.arcsin({0})", "acos": "np.arccos({0})", "atan": "np.arctan({0})",
    "sinh": "np.sinh({0})", "cosh": "np.cosh({0})", "tanh": "np.tanh({0})",
    "exp": "np.exp({0})", "exp2": "np.exp2({0})", "log": "np.log({0})",
    "log1p": "np.log1p({0})", "expm1": "np.expm1({0})", "sqrt": "np.sqrt({0})",
    "cbrt": "np.cbrt({0})", "abs": "np.abs({0})", "sign": "np.sign({0})",
    "floor": "np.floor({0})", "ceil": "np.ceil({0})", "is_finite": "np.isfinite({0})",
    "not": "np.logical_not({0})", "copy": "{0}", "copy_p": "{0}", "square": "{0} * {0}",
    "real": "np.real({0})", "imag": "np.imag({0})", "conj": "np.conj({0})",
}  # fmt: skip
BINARY = {
    "add": "{0} + {1}", "add_any": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}",
    "max": "np.maximum({0}, {1})", "min": "np.minimum({0}, {1})", "pow": "np.power({0}, {1})",
    "atan2": "np.arctan2({0}, {1})", "rem": "np.fmod({0}, {1})",
    "nextafter": "np.nextafter({0}, {1})", "eq": "{0} == {1}", "ne": "{0} != {1}",
    "lt": "{0} < {1}", "le": "{0} <= {1}", "gt": "{0} > {1}", "ge": "{0} >= {1}",
    "and": "{0} & {1}", "or": "{0} | {1}", "xor": "{0} ^ {1}",
}  # fmt: skip
REDUCTIONS = {"reduce_sum": "np.sum", "reduce_max": "np.max", "reduce_min": "np.min",
              "reduce_prod": "np.prod", "reduce_and": "np.all", "reduce_or": "np.any"}  # fmt: skip


def _dtype(aval: Any) -> str:
    return f"np.{np.dtype(aval.dtype).name}".replace("np.bool", "np.bool_")


class Writer:
    """Writes one module: constants at its top, then `f`'s body, one line per equation."""

    def __init__(self) -> None:
        self.constants: list[str] = []
        self.body: list[str] = []
        self.names: dict[Any, str] = {}
        self.elements: dict[Any, str] = {}  # one-element slices, read as `x[i, j]`
        self.fills: dict[Any, str] = {}  # scalars broadcast to an array, by the scalar's name
        self.lazy: dict[Any, str] = {}  # values written only when something else reads them
        self.zeros: set[str] = set()
        self.values: dict[Any, np.ndarray] = {}  # what constants and folded equations hold
        self._count = 0

    def fresh(self) -> str:
        self._count += 1
        return f"v{self._count}"

    def constant(self, value: Any) -> str:
        """A module-level name holding `value` exactly (its bytes, not a decimal rendering)."""
        array = np.asarray(value)
        name = f"K{len(self.constants)}"
        if array.ndim == 0 and array == 0 and not np.signbit(array):
            self.zeros.add(name)
        kind = f"np.{array.dtype.name}".replace("np.bool", "np.bool_")
        loaded = f"np.frombuffer(bytes.fromhex({array.tobytes().hex()!r}), {kind})"
        expression = f"{loaded}[0]" if array.ndim == 0 else f"{loaded}.reshape({array.shape})"
        self.constants.append(f"{name} = {expression}")
        return name

    def atom(self, atom: Any) -> str:
        if isinstance(atom, core.Literal):
            return self.constant(np.asarray(atom.val, dtype=atom.aval.dtype))
        if atom in self.lazy:
            self.line(f"{self.names[atom]} = {self.lazy.pop(atom)}")
        return self.names[atom]

    def bind(self, var: Any) -> str:
        if isinstance(var, core.DropVar):
            return "_"
        name = self.fresh()
        self.names[var] = name
        return name

    def line(self, text: str) -> None:
        self.body.append(f"    {text}")

    def jaxpr(self, jaxpr: Any, consts: Sequence[Any], inputs: Sequence[str]) -> list[str]:
        """Write `jaxpr`'s equations given its inputs' names; the names of its outputs."""
        for var, value in zip(jaxpr.constvars, consts, strict=True):
            self.names[var] = self.constant(value)
            self.values[var] = np.asarray(value)
        for var, name in zip(jaxpr.invars, inputs, strict=True):
            self.names[var] = name
        for eqn in jaxpr_walk.live_equations(jaxpr):
            self.equation(eqn)
        return [self.atom(v) for v in jaxpr.outvars]

    def fold(self, eqn: Any) -> bool:
        """An equation of constants only becomes a constant: iotas, index arithmetic,
        broadcast fills and their masks cost nothing per call (about a fifth of a rotated
        instance's gradient)."""
        values = jaxpr_walk.folded(eqn, self.values)
        if values is None:
            return False
        for var, value in zip(eqn.outvars, values, strict=True):
            if value is not None:
                self.values[var] = value
                self.names[var] = self.constant(value)
        return True

    def equation(self, eqn: Any) -> None:
        name = eqn.primitive.name
        if self.fold(eqn):
            return
        source = eqn.invars[0] if eqn.invars and isinstance(eqn.invars[0], core.Var) else None
        if (
            name in ("squeeze", "reshape")
            and source in self.elements
            and not eqn.outvars[0].aval.shape
        ):
            self.names[eqn.outvars[0]] = self.temporary(self.elements[source])
            return
        if name == "slice" and self.element(eqn):
            return
        if (
            name == "broadcast_in_dim"
            and not eqn.invars[0].aval.shape
            and eqn.outvars[0].aval.shape
        ):
            out = eqn.outvars[0]
            self.fills[out] = scalar = self.atom(eqn.invars[0])
            self.defer(out, f"np.full({out.aval.shape}, {scalar}, {_dtype(out.aval)})")
            return
        if name == "pad" and source in self.fills:
            self.names[eqn.outvars[0]] = self.pad(
                self.fills[source], self.atom(eqn.invars[1]), (), eqn.outvars[0].aval,
                eqn.params["padding_config"], source.aval.shape,
            )  # fmt: skip
            return
        if name in BINARY or name == "div":
            ins = self.operands(eqn)
        else:
            ins = [self.atom(v) for v in eqn.invars]
        if name in INLINED:
            called = jaxpr_walk.inner(eqn)
            if called is None:
                raise Untranslatable(name)
            results = self.jaxpr(*called, ins)
            for var, result in zip(eqn.outvars, results, strict=True):
                self.line(f"{self.bind(var)} = {result}")
            return
        outs = eqn.outvars
        expression = self.expression(name, eqn, ins, [v.aval for v in eqn.invars], outs)
        if len(outs) == 1 and expression.isidentifier():
            self.names[outs[0]] = expression
            return
        targets = ", ".join(self.bind(v) for v in outs)
        self.line(f"{targets}{',' if len(outs) == 1 and name == 'split' else ''} = {expression}")

    def expression(self, name: str, eqn: Any, ins: list[str], avals: list, outs: list) -> str:
        """The right-hand side that computes `eqn`'s outputs from the names `ins`."""
        params, out = eqn.params, outs[0].aval
        if name in UNARY:
            return UNARY[name].format(*ins)
        if name in BINARY:
            return BINARY[name].format(*ins)
        if name == "div":
            if not np.issubdtype(out.dtype, np.inexact):
                raise Untranslatable("integer div")
            return f"{ins[0]} / {ins[1]}"
        if name == "integer_pow":
            return self.integer_pow(ins[0], params["y"])
        if name == "rsqrt":
            return f"{self.constant(np.ones((), out.dtype))} / np.sqrt({ins[0]})"
        if name == "logistic":
            one = self.constant(np.ones((), out.dtype))
            return f"{one} / ({one} + np.exp(-{ins[0]}))"
        if name == "convert_element_type":
            return f"{ins[0]}.astype({_dtype(out)})"
        if name == "reshape" and params.get("dimensions") is not None:
            raise Untranslatable("reshape with dimensions")
        if name in ("reshape", "squeeze", "expand_dims"):
            return self.shaped(ins[0], avals[0].shape, out.shape)
        if name == "broadcast_in_dim":
            return self.broadcast(ins[0], avals[0].shape, out.shape, params["broadcast_dimensions"])
        if name == "slice":
            strides = params["strides"] or (1,) * len(params["start_indices"])
            return f"{ins[0]}{indexing(params['start_indices'], params['limit_indices'], strides)}"
        if name == "pad":
            return self.pad(ins[0], ins[1], avals[0].shape, out, params["padding_config"])
        if name == "concatenate":
            return f"np.concatenate([{', '.join(ins)}], axis={params['dimension']})"
        if name == "split":
            cuts = np.cumsum(params["sizes"])[:-1].tolist()
            return f"np.split({ins[0]}, {cuts}, axis={params['axis']})"
        if name == "transpose":
            return f"np.transpose({ins[0]}, {tuple(params['permutation'])})"
        if name == "iota":
            shape, dimension = params["shape"], params["dimension"]
            ramp = np.arange(shape[dimension], dtype=params["dtype"])
            ramp = ramp.reshape([-1 if i == dimension else 1 for i in range(len(shape))])
            return self.constant(np.broadcast_to(ramp, shape).copy())
        if name in REDUCTIONS:
            reduced = f"{REDUCTIONS[name]}({ins[0]}, axis={tuple(params['axes'])})"
            return reduced if out.shape else f"{reduced}[()]"
        if name == "select_n":
            return self.select(ins[0], ins[1:], avals[0], out)
        if name == "clamp":
            return f"np.minimum(np.maximum({ins[1]}, {ins[0]}), {ins[2]})"
        if name == "dot_general":
            return self.dot(ins, avals, out, params)
        raise Untranslatable(name)

    def integer_pow(self, x: str, y: int) -> str:
        """JAX's square-and-multiply, so the products round as XLA's do."""
        if y == 0:
            return f"np.ones_like({x})"
        power, acc, base = abs(y), None, x
        while power:
            if power & 1:
                acc = base if acc is None else self.temporary(f"{acc} * {base}")
            power >>= 1
            if power:
                base = self.temporary(f"{base} * {base}")
        return f"np.ones_like({acc}) / {acc}" if y < 0 else acc

    def temporary(self, expression: str) -> str:
        name = self.fresh()
        self.line(f"{name} = {expression}")
        return name

    @staticmethod
    def shaped(x: str, shape_in: tuple, shape: tuple) -> str:
        """`x` reshaped; a one-element array to shape () is indexed, which gives a scalar."""
        if shape == ():
            return f"{x}[{(0,) * len(shape_in)}]" if shape_in else x
        return f"np.reshape({x}, {shape})"

    def element(self, eqn: Any) -> bool:
        """Keep a one-element slice of an input or earlier value as an index expression, to be
        read by the squeeze that follows it (a scalar read: 60 ns against 240 for both)."""
        params, (operand,) = eqn.params, eqn.invars
        starts, limits = params["start_indices"], params["limit_indices"]
        if any(b - a != 1 for a, b in zip(starts, limits, strict=True)):
            return False
        if not isinstance(operand, core.Var) or operand not in self.names:
            return False
        array = self.atom(operand)
        self.elements[eqn.outvars[0]] = f"{array}[{', '.join(map(str, starts))}]"
        self.defer(eqn.outvars[0], f"{array}{indexing(starts, limits, (1,) * len(starts))}")
        return True

    def operands(self, eqn: Any) -> list[str]:
        """An elementwise operation's inputs, a filled array read as its scalar where the other
        input has the output's shape (NumPy broadcasts it to the same values)."""
        shape = eqn.outvars[0].aval.shape
        names = []
        for var, other in zip(eqn.invars, eqn.invars[::-1], strict=True):
            if isinstance(var, core.Var) and var in self.fills and other.aval.shape == shape:
                names.append(self.fills[var])
            else:
                names.append(self.atom(var))
        return names

    def defer(self, var: Any, expression: str) -> None:
        """Name `var` now; write its line only if some equation reads it as a whole."""
        self.names[var] = self.fresh()
        self.lazy[var] = expression

    def broadcast(self, x: str, shape_in: tuple, shape: tuple, dims: Sequence[int]) -> str:
        if tuple(shape_in) == tuple(shape):
            return x
        expanded = [1] * len(shape)
        for i, d in enumerate(dims):
            expanded[d] = shape_in[i]
        return f"np.broadcast_to(np.reshape({x}, {tuple(expanded)}), {shape})"

    def pad(
        self, x: str, value: str, shape_in: tuple, out: Any, config: Sequence, placed: tuple = ()
    ) -> str:
        """`lax.pad`: `x` spread by the interior padding into an array of the padding value,
        negative edges cropped after; `placed` is the shape a scalar `x` stands for."""
        sizes = placed or shape_in
        if sizes == ():
            return x
        full, place_from, place_to, steps, crop_from, crop_to = [], [], [], [], [], []
        for n, (low, high, interior) in zip(sizes, config, strict=True):
            step = interior + 1
            spread = n + (n - 1) * interior if n else 0
            full.append(max(low, 0) + spread + max(high, 0))
            place_from.append(max(low, 0))
            place_to.append(max(low, 0) + spread)
            steps.append(step)
            crop_from.append(max(-low, 0))
            crop_to.append(full[-1] - max(-high, 0))
        shape = tuple(full)
        if value in self.zeros:
            padded = self.temporary(f"np.zeros({shape}, {_dtype(out)})")
        else:
            padded = self.temporary(f"np.empty({shape}, {_dtype(out)})")
            self.line(f"{padded}.fill({value})")
        self.line(f"{padded}{indexing(place_from, place_to, steps)} = {x}")
        if shape == tuple(out.shape):
            return padded
        return f"{padded}{indexing(crop_from, crop_to, (1,) * len(shape))}"

    def select(self, predicate: str, cases: list[str], predicate_aval: Any, out: Any) -> str:
        boolean = np.dtype(predicate_aval.dtype) == np.bool_
        if out.shape == ():
            if boolean:
                return f"({cases[1]} if {predicate} else {cases[0]})"
            return f"({', '.join(cases)},)[{predicate}]"
        if boolean:
            return f"np.where({predicate}, {cases[1]}, {cases[0]})"
        return f"np.choose({predicate}, [{', '.join(cases)}])"

    def dot(self, ins: list[str], avals: list, out: Any, params: dict) -> str:
        (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = params["dimension_numbers"]
        if not lhs_batch:
            axes = (tuple(lhs_contract), tuple(rhs_contract))
            product = f"np.tensordot({ins[0]}, {ins[1]}, axes={axes})"
        else:
            letters = iter("abcdefghijklmnopqrstuvwxyz")
            lhs = [next(letters) for _ in avals[0].shape]
            rhs = [next(letters) for _ in avals[1].shape]
            for left, right in zip(
                (*lhs_contract, *lhs_batch), (*rhs_contract, *rhs_batch), strict=True
            ):
                rhs[right] = lhs[left]
            batch = [lhs[i] for i in lhs_batch]
            free_lhs = [c for i, c in enumerate(lhs) if i not in (*lhs_contract, *lhs_batch)]
            free_rhs = [c for i, c in enumerate(rhs) if i not in (*rhs_contract, *rhs_batch)]
            spec = f"{''.join(lhs)},{''.join(rhs)}->{''.join(batch + free_lhs + free_rhs)}"
            product = f"np.einsum({spec!r}, {ins[0]}, {ins[1]})"
        if np.dtype(out.dtype) != np.result_type(avals[0].dtype, avals[1].dtype):
            product = f"{product}.astype({_dtype(out)})"
        return product if out.shape else f"{product}[()]"


def indexing(starts: Sequence[int], limits: Sequence[int], steps: Sequence[int]) -> str:
    """`[a:b, c:d:s]`: the basic slicing NumPy reads fastest (no step of 1, no lone comma)."""
    parts = [
        f"{a}:{b}" if s == 1 else f"{a}:{b}:{s}"
        for a, b, s in zip(starts, limits, steps, strict=True)
    ]
    return f"[{', '.join(parts)}]"


def translate(fn: Callable, *examples: Any) -> str | None:
    """The source of a module whose `f` computes `fn` on NumPy arrays shaped like `examples`,
    or None when `fn`'s jaxpr uses a primitive with no translation here."""
    closed = jax.make_jaxpr(fn)(*examples)
    writer = Writer()
    inputs = [f"a{i}" for i in range(len(examples))]
    for name, var in zip(inputs, closed.jaxpr.invars, strict=True):
        writer.line(f"{name} = np.asarray({name}, {_dtype(var.aval)})")
    try:
        results = writer.jaxpr(closed.jaxpr, closed.consts, inputs)
    except Untranslatable:
        return None
    writer.line(f"return {results[0] if len(results) == 1 else '(' + ', '.join(results) + ',)'}")
    header = f"def {FUNCTION}({', '.join(inputs)}):"
    return "\n".join(["import numpy as np", *writer.constants, header, *writer.body, ""])


def compiled(source: str) -> Callable:
    """The function `f` a translated module defines."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "<optbench.numpy_code>", "exec"), namespace)
    return namespace[FUNCTION]
