"""RunSpec: one run of one optimizer on one problem from one start with one seed."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache, wraps
from typing import Any, TypeVar

from optbench.errors import OptbenchError

SPEC_VERSION = 1
BUDGET_FIELDS = ("steps", "evaluations", "epochs", "seconds")

Frozen = tuple[tuple[str, Any], ...]


def freeze(mapping: Mapping[str, Any] | Frozen | None) -> Frozen:
    """A mapping as sorted (key, value) pairs with lists turned into tuples, so it hashes."""
    items = dict(mapping or {}).items()
    return tuple(sorted((str(k), _freeze_value(v)) for k, v in items))


def _freeze_value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze_value(v) for v in value)
    if isinstance(value, Mapping):
        return freeze(value)
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines a run; its stable hash is the run's key in the results store."""

    runner: str
    problem: str
    optimizer: str
    hyperparameters: Frozen = ()
    seed: int = 0
    start: int = 0
    budget: Frozen = ()
    target: float | None = None
    options: Frozen = ()

    def __post_init__(self) -> None:
        """Freezes mappings (a tuple is taken as already frozen) and checks budget and start."""
        for name in ("hyperparameters", "budget", "options"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, freeze(value))
        unknown = set(self.budgets) - set(BUDGET_FIELDS)
        if unknown:
            raise OptbenchError(
                f"unknown budget field(s) {sorted(unknown)}; allowed: {', '.join(BUDGET_FIELDS)}"
            )
        _check_count("seed", self.seed)
        _check_count("start", self.start)

    @property
    def hp(self) -> dict[str, Any]:
        return dict(self.hyperparameters)

    @property
    def budgets(self) -> dict[str, Any]:
        return dict(self.budget)

    @property
    def opts(self) -> dict[str, Any]:
        return dict(self.options)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, the input of the run key."""
        return {
            "spec_version": SPEC_VERSION,
            "runner": self.runner,
            "problem": self.problem,
            "optimizer": self.optimizer,
            "hyperparameters": {k: _jsonable(v) for k, v in self.hyperparameters},
            "seed": self.seed,
            "start": self.start,
            "budget": {k: _jsonable(v) for k, v in self.budget},
            "target": _jsonable(self.target),
            "options": {k: _jsonable(v) for k, v in self.options},
        }

    @cached_property
    def setting(self) -> str:
        """The canonical text of everything but seed and start: one string shared by every copy
        of a run setting, so grouping 10⁵ specs by it hashes each setting's text once."""
        common = (self.runner, self.problem, self.optimizer, self.hyperparameters, self.budget)
        return SETTING_JOIN.join(_key_text(*common, self.target, self.options))

    @cached_property
    def key(self) -> str:
        """A stable 16-hex-digit hash: equal specs share it across processes and machines."""
        common = (self.runner, self.problem, self.optimizer, self.hyperparameters, self.budget)
        head, middle, tail = _key_text(*common, self.target, self.options)
        return _hash(f"{head}{self.seed}{middle}{self.start}{tail}")

    def copies(self, seeds: Iterable[int], starts: int) -> list[RunSpec]:
        """This run setting at each seed × start (0 … starts-1), keys included: a study makes
        10⁵ of these, so the setting is checked and its key text built and hashed once (each
        key goes on from a copy of the hash of the text before the seed), not per copy."""
        head, middle, tail = _key_text(
            self.runner, self.problem, self.optimizer, self.hyperparameters, self.budget,
            self.target, self.options,
        )  # fmt: skip
        fields = {name: self.__dict__[name] for name in FIELDS}
        fields["setting"] = SETTING_JOIN.join((head, middle, tail))
        before_seed = hashlib.sha256(head.encode())
        copies = []
        for seed in seeds:
            _check_count("seed", seed)
            before_start = before_seed.copy()
            before_start.update(f"{seed}{middle}".encode())
            for start in range(starts):
                digest = before_start.copy()
                digest.update(f"{start}{tail}".encode())
                copy = object.__new__(RunSpec)
                object.__setattr__(
                    copy,
                    "__dict__",
                    fields | {"seed": seed, "start": start, "key": _key_of(digest)},
                )
                copies.append(copy)
        return copies

    def columns(self) -> dict[str, Any]:
        """The spec as flat row columns: `hp.<name>`, `budget.<name>`, `option.<name>`."""
        row: dict[str, Any] = {
            "run_key": self.key,
            "runner": self.runner,
            "problem": self.problem,
            "optimizer": self.optimizer,
            "seed": self.seed,
            "start": self.start,
            "target": self.target,
        }
        row.update({f"hp.{k}": _cell(v) for k, v in self.hyperparameters})
        row.update({f"budget.{k}": _cell(v) for k, v in self.budget})
        row.update({f"option.{k}": _cell(v) for k, v in self.options})
        return row


FIELDS = tuple(RunSpec.__dataclass_fields__)
SEED_MARK, START_MARK = -7_130_000_001, -7_130_000_002
SETTING_JOIN = "\x00"
MAX_REMEMBERED_SETTINGS = 100_000
T = TypeVar("T")


def per_setting(fn: Callable[[RunSpec], T]) -> Callable[[RunSpec], T]:
    """`fn(spec)` computed once per run setting: for a function of a spec that does not depend on
    its seed or start (a batch key, a landscape, a variant), called on every spec of a study."""
    found: dict[str, T] = {}

    @wraps(fn)
    def once(spec: RunSpec) -> T:
        try:
            return found[spec.setting]
        except KeyError:
            if len(found) >= MAX_REMEMBERED_SETTINGS:
                found.clear()
            value = found[spec.setting] = fn(spec)
            return value

    return once


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise OptbenchError(f"{name} must be a non-negative integer, got {value!r}")


def _hash(text: str) -> str:
    return _key_of(hashlib.sha256(text.encode()))


def _key_of(digest: Any) -> str:
    """A run key: the first 16 hex digits of the sha256 of its canonical text."""
    return digest.hexdigest()[:16]


@lru_cache(maxsize=4096)
def _key_text(runner, problem, optimizer, hyperparameters, budget, target, options):
    """The canonical JSON of a spec around its seed and start, shared by every start of a run
    setting: (text before the seed, text between seed and start, text after the start)."""
    spec = RunSpec(runner, problem, optimizer, hyperparameters, 0, 0, budget, target, options)
    data = spec.to_dict() | {"seed": SEED_MARK, "start": START_MARK}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    head, rest = text.split(str(SEED_MARK))
    middle, tail = rest.split(str(START_MARK))
    return head, middle, tail


def _cell(value: Any) -> Any:
    """Scalars stay as they are; sequences become JSON text, never list-valued cells."""
    if isinstance(value, tuple):
        return json.dumps(_jsonable(value))
    return value
