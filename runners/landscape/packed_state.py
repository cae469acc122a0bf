"""Optimizer states packed into two flat buffers, so one `lax.switch` carries any variant's state.

A compiled landscape program holds several optimizer variants but runs one per call. Carrying
every variant's state through the switch costs a copy of all of them each step; packing the
chosen one into a per-run buffer (runs × columns, float64) and a shared vector (leaves that every
run of the call shares, such as the step count) keeps one buffer in the loop whatever the variant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp


@dataclass(frozen=True)
class Leaf:
    """Where one state leaf lives: per run (columns of the buffer) or shared (the vector)."""

    per_run: bool
    shape: tuple[int, ...]
    dtype: Any
    offset: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Layout:
    """The packing of one variant's state: its tree, its leaves and the widths they need."""

    treedef: Any
    leaves: tuple[Leaf, ...]
    per_run_width: int
    shared_width: int


def layout_of(shapes: Any, axes: Any) -> Layout:
    """The layout of a state whose one-run leaf shapes are `shapes`, batched where `axes` is 0."""
    leaf_shapes, treedef = jax.tree.flatten(shapes)
    flags = [a == 0 for a in jax.tree.leaves(axes, is_leaf=_is_none)]
    leaves, widths = [], [0, 0]
    for shape, per_run in zip(leaf_shapes, flags, strict=True):
        if jnp.issubdtype(shape.dtype, jnp.complexfloating):
            raise TypeError(f"complex optimizer state ({shape.dtype}) cannot be packed")
        slot = 0 if per_run else 1
        leaves.append(Leaf(per_run, tuple(shape.shape), shape.dtype, widths[slot]))
        widths[slot] += math.prod(shape.shape)
    return Layout(treedef, tuple(leaves), widths[0], widths[1])


def _is_none(value: Any) -> bool:
    return value is None


def pack(layout: Layout, state: Any, runs: int, width: int, shared_width: int):
    """(per-run buffer [runs, width], shared vector [shared_width]) holding `state`."""
    per_run, shared = [], []
    for leaf, value in zip(layout.leaves, jax.tree.leaves(state), strict=True):
        value = jnp.asarray(value, jnp.float64)
        if leaf.per_run:
            per_run.append(value.reshape(runs, leaf.size))
        else:
            shared.append(value.reshape(leaf.size))
    per_run.append(jnp.zeros((runs, width - layout.per_run_width), jnp.float64))
    shared.append(jnp.zeros(shared_width - layout.shared_width, jnp.float64))
    return jnp.concatenate(per_run, axis=1), jnp.concatenate(shared)


def unpack(layout: Layout, buffer: jax.Array, shared: jax.Array) -> Any:
    """The state that `pack` stored."""
    runs = buffer.shape[0]
    values = []
    for leaf in layout.leaves:
        if leaf.per_run:
            part = buffer[:, leaf.offset : leaf.offset + leaf.size].reshape(runs, *leaf.shape)
        else:
            part = shared[leaf.offset : leaf.offset + leaf.size].reshape(leaf.shape)
        values.append(part.astype(leaf.dtype))
    return jax.tree.unflatten(layout.treedef, values)


def widths(layouts: list[Layout]) -> tuple[int, int]:
    """Buffer widths that fit every layout (at least 1, so buffers are never empty)."""
    per_run = max([1, *(lay.per_run_width for lay in layouts)])
    shared = max([1, *(lay.shared_width for lay in layouts)])
    return per_run, shared
