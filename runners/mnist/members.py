"""Many MLPs trained together: one compiled `lax.scan` epoch under `vmap` over members.

Members share the program's shapes (batch size, widths, dropout, loss, activation, optimizer and
its non-numeric settings, training-set size); each has its own initial parameters, optimizer state
(numeric hyperparameters live in `inject_hyperparams` state), seed, and fold index arrays into one
shared copy of the data. A member's numbers equal `jax_trainer.train` on its fold alone with the
same seed: the keys are derived the same way, so grouping and chunking do not change results.

Members given an `order_seed` take their minibatch order and dropout masks from it instead of
their own seed (common random numbers: a search's `shuffle = "fold"`). Members of one fold then
gather the same batch, so their first layers are one matrix product rather than one per member;
they are chunked by fold, and the shared batch is an unbatched input of the program.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from optbench.runners.mnist.jax_trainer import (
    F32,
    LOSSES,
    _targets,
    batch_grad,
    batch_table,
    init_params,
    logits_fn,
    scan_batches,
)
from optbench.runners.mnist.model import ModelConfig

from optbench.jax_cache import enable_compilation_cache

DEFAULT_MEMORY_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Member:
    """One network to train: its model (initializer included), optimizer, seed, and the rows it
    trains on and is scored on."""

    config: ModelConfig
    tx: optax.GradientTransformation
    seed: int
    train_rows: np.ndarray
    test_rows: np.ndarray
    order_seed: int | None = None


def program_key(config: ModelConfig) -> ModelConfig:
    """The part of a model description that shapes the program (the initializer does not)."""
    return ModelConfig(config.widths, config.dropout, config.activation, "zeros", config.loss)


def member_bytes(config: ModelConfig, batch_size: int, n_train: int) -> int:
    """A rough per-member footprint of one epoch: parameters and optimizer moments, the
    epoch's dropout masks and order, a gathered batch and its activations."""
    n_batches = -(-n_train // batch_size)
    params = 4 * config.n_params * 6
    masks = n_batches * batch_size * sum(config.widths)
    batch = 4 * batch_size * (config.sizes[0] + 2 * sum(config.widths)) * 3
    return params + masks + 8 * n_batches * batch_size + batch


def chunk_sizes(n_members: int, per_member: int, memory_bytes: int, chunk: int | None) -> list[int]:
    """Balanced chunks of the member axis, each within the memory budget (or `chunk` members)."""
    most = chunk if chunk is not None else max(1, memory_bytes // max(per_member, 1))
    n_chunks = -(-n_members // max(1, most))
    base, extra = divmod(n_members, n_chunks)
    return [base + (i < extra) for i in range(n_chunks)]


def _make_epoch(
    config: ModelConfig, tx: Any, batch_size: int, n_train: int, shared_order: bool
) -> Callable:
    """One epoch of one member (as `jax_trainer.make_epoch`), rows gathered through its fold;
    with `shared_order`, every member of the chunk takes the same train key and rows."""
    tx = optax.with_extra_args_support(tx)
    grad_fn = batch_grad(config)

    def epoch(params, opt_state, train_key, epoch_index, rows, x_all, y_all):
        key = jax.random.fold_in(train_key, epoch_index)
        order, mask, keep = batch_table(key, config, n_train, batch_size)
        return scan_batches(grad_fn, tx, (params, opt_state), (rows[order], mask, keep),
                            (x_all, y_all), n_train)  # fmt: skip

    shared = None if shared_order else 0
    return jax.jit(jax.vmap(epoch, in_axes=(0, 0, shared, None, shared, None, None)))


def _make_evaluate(config: ModelConfig) -> Callable:
    """Loss and accuracy of each member on its own rows, one member at a time (bounded memory)."""
    loss_fn = LOSSES[config.loss]

    def one(args):
        params, rows, x_all, y_all = args
        logits = logits_fn(params, x_all[rows], config)
        y = y_all[rows]
        loss = jnp.mean(loss_fn(logits, _targets(y, config)))
        return loss, jnp.mean((jnp.argmax(logits, -1) == y).astype(F32))

    def evaluate(params, rows, x_all, y_all):
        return jax.lax.map(lambda a: one((*a, x_all, y_all)), (params, rows))

    return jax.jit(evaluate)


_PROGRAMS: dict[Any, tuple[Callable, Callable]] = {}


def _with_epoch(order_inputs: tuple[jax.Array, jax.Array], epoch: int) -> tuple:
    """The epoch program's (train keys, epoch index, train rows) arguments."""
    keys, rows = order_inputs
    return keys, epoch, rows


def _by_order_seed(members: Sequence[Member]) -> dict[int | None, list[int]]:
    """Member positions by order seed, in order of first appearance (None gathers the members
    that keep their own order)."""
    out: dict[int | None, list[int]] = {}
    for i, member in enumerate(members):
        out.setdefault(member.order_seed, []).append(i)
    return out


def _stack(trees: Sequence[Any]) -> Any:
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *trees)


def _take(tree: Any, index: np.ndarray) -> Any:
    return jax.tree.map(lambda leaf: leaf[index], tree)


@dataclass
class _Chunk:
    indices: np.ndarray
    params: Any
    opt_state: Any
    train_keys: jax.Array
    train_rows: jax.Array
    test_rows: jax.Array
    shared_order: bool = False

    def order_inputs(self) -> tuple[jax.Array, jax.Array]:
        """The epoch program's train keys and rows: one of each when the order is shared."""
        if self.shared_order:
            return self.train_keys[0], self.train_rows[0]
        return self.train_keys, self.train_rows


class MemberGroup:
    """Members sharing one program, trained epoch by epoch; state is kept between calls, so a
    group continues training (successive halving) exactly as one uninterrupted run."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        members: Sequence[Member],
        batch_size: int,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
        chunk: int | None = None,
        program_cache: dict[Any, Any] | None = None,
        program_id: Any = None,
    ):
        if not members:
            raise ValueError("a member group needs at least one member")
        self.members = list(members)
        self.config = program_key(members[0].config)
        self.batch_size = batch_size
        self.n_train = len(members[0].train_rows)
        if any(len(m.train_rows) != self.n_train for m in members):
            raise ValueError("members of one group must train on equally many rows")
        if any(len(m.test_rows) != len(members[0].test_rows) for m in members):
            raise ValueError("members of one group must be scored on equally many rows")
        self.epoch = 0
        self.compile_s = 0.0
        self.train_s = 0.0
        self.score_s = 0.0
        self.memory_bytes, self.requested_chunk = memory_bytes, chunk
        self._programs = program_cache if program_cache is not None else _PROGRAMS
        self.program_id = program_id if program_id is not None else id(members[0].tx)
        with jax.enable_x64(False):
            self.x, self.y = jnp.asarray(x, F32), jnp.asarray(y, jnp.int32)
            self._chunks = self._build_chunks(self._initial_state())

    def _initial_state(self) -> list[tuple[Any, Any, jax.Array]]:
        """Each member's (params, opt_state, train key), as `jax_trainer` derives them."""
        state = []
        for m in self.members:
            init_key, train_key = jax.random.split(jax.random.key(m.seed))
            if m.order_seed is not None:
                train_key = jax.random.split(jax.random.key(m.order_seed))[1]
            params = init_params(init_key, m.config)
            state.append((params, m.tx.init(params), train_key))
        return state

    def _build_chunks(self, state: Sequence[tuple[Any, Any, jax.Array]]) -> list[_Chunk]:
        per = member_bytes(self.config, self.batch_size, self.n_train)
        chunks = []
        for order_seed, members in _by_order_seed(self.members).items():
            if order_seed is not None and any(
                not np.array_equal(self.members[i].train_rows, self.members[members[0]].train_rows)
                for i in members
            ):
                raise ValueError("members sharing an order seed must train on the same rows")
            sizes = chunk_sizes(len(members), per, self.memory_bytes, self.requested_chunk)
            start = 0
            for size in sizes:
                idx = np.asarray(members[start : start + size])
                start += size
                chunks.append(
                    _Chunk(
                        idx,
                        _stack([state[i][0] for i in idx]),
                        _stack([state[i][1] for i in idx]),
                        jnp.stack([state[i][2] for i in idx]),
                        jnp.asarray(np.stack([self.members[i].train_rows for i in idx]), jnp.int32),
                        jnp.asarray(np.stack([self.members[i].test_rows for i in idx]), jnp.int32),
                        shared_order=order_seed is not None,
                    )
                )
        return chunks

    @property
    def chunk_sizes(self) -> list[int]:
        return [len(c.indices) for c in self._chunks]

    def _programs_for(self, shared_order: bool = False) -> tuple[Callable, Callable]:
        key = (self.config, self.program_id, self.batch_size, self.n_train, shared_order)
        if key not in self._programs:
            enable_compilation_cache()
            epoch = _make_epoch(
                self.config, self.members[0].tx, self.batch_size, self.n_train, shared_order
            )
            self._programs[key] = (epoch, _make_evaluate(self.config))
        return self._programs[key]

    def _compiled_epoch(self, chunk: _Chunk) -> Callable:
        """The epoch program for this chunk's size, compiled ahead (its time is compile_s)."""
        epoch_fn, _ = self._programs_for(chunk.shared_order)
        size = len(chunk.indices)
        key = (self.config, self.program_id, self.batch_size, self.n_train, size, self.x.shape,
               chunk.shared_order)  # fmt: skip
        if key not in self._programs:
            t0 = time.perf_counter()
            args = (chunk.params, chunk.opt_state, *_with_epoch(chunk.order_inputs(), 0))
            self._programs[key] = epoch_fn.lower(*args, self.x, self.y).compile()
            self.compile_s += time.perf_counter() - t0
        return self._programs[key]

    def train_to(self, epochs: int, on_epoch: Callable[[int], None] | None = None) -> np.ndarray:
        """Train every member up to `epochs` epochs in all; per-epoch mean training loss
        (epochs × members) of the epochs run now."""
        losses = []
        with jax.enable_x64(False):
            programs = [self._compiled_epoch(chunk) for chunk in self._chunks]
            for epoch in range(self.epoch, epochs):
                row = np.empty(len(self.members), np.float32)
                for chunk, program in zip(self._chunks, programs, strict=True):
                    t0 = time.perf_counter()
                    chunk.params, chunk.opt_state, loss, _ = program(
                        chunk.params,
                        chunk.opt_state,
                        *_with_epoch(chunk.order_inputs(), epoch),
                        self.x,
                        self.y,
                    )
                    row[chunk.indices] = np.asarray(loss)
                    self.train_s += time.perf_counter() - t0
                    if on_epoch is not None:
                        on_epoch(len(chunk.indices))
                losses.append(row)
            self.epoch = max(self.epoch, epochs)
        return np.array(losses).reshape(-1, len(self.members))

    def evaluate(self) -> tuple[np.ndarray, np.ndarray]:
        """Each member's (loss, accuracy) on its own test rows, inference mode."""
        _, evaluate = self._programs_for()
        loss = np.empty(len(self.members), np.float64)
        acc = np.empty(len(self.members), np.float64)
        t0 = time.perf_counter()
        with jax.enable_x64(False):
            for chunk in self._chunks:
                chunk_loss, chunk_acc = evaluate(chunk.params, chunk.test_rows, self.x, self.y)
                loss[chunk.indices], acc[chunk.indices] = np.asarray(chunk_loss), chunk_acc
        self.score_s += time.perf_counter() - t0
        return loss, acc

    def params(self, member: int) -> Any:
        """One member's current parameters."""
        for chunk in self._chunks:
            where = np.flatnonzero(chunk.indices == member)
            if where.size:
                return _take(chunk.params, where[0])
        raise IndexError(member)

    def keep(self, survivors: Sequence[int]) -> MemberGroup:
        """A group of the given members with their state, to continue training them."""
        state = []
        for member in survivors:
            for chunk in self._chunks:
                where = np.flatnonzero(chunk.indices == member)
                if where.size:
                    i = where[0]
                    state.append(
                        (_take(chunk.params, i), _take(chunk.opt_state, i), chunk.train_keys[i])
                    )
        group = object.__new__(MemberGroup)
        group.__dict__.update(self.__dict__)
        group.members = [self.members[i] for i in survivors]
        group.compile_s = group.train_s = group.score_s = 0.0
        with jax.enable_x64(False):
            group._chunks = group._build_chunks(state)
        return group
