"""Plugin discovery over `importlib.metadata` entry points, one group per plugin kind."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from optbench.contracts import FAMILIES, LandscapePlugin, OptimizerPlugin, RunnerPlugin
from optbench.errors import DuplicatePluginError, PluginLoadWarning, UnknownPluginError

GROUPS = {
    "landscape": "optbench.landscapes",
    "optimizer": "optbench.optimizers",
    "runner": "optbench.runners",
}
_PROTOCOLS = {"landscape": LandscapePlugin, "optimizer": OptimizerPlugin, "runner": RunnerPlugin}


def normalize(name: str) -> str:
    """The look-up form of a name: case, `-` and `_` are ignored (`L-BFGS-B` == `lbfgsb`)."""
    return name.lower().replace("-", "").replace("_", "")


@dataclass(frozen=True)
class Plugin:
    """A loaded plugin with where it came from."""

    name: str
    kind: str
    distribution: str
    entry_point: str
    obj: Any

    @property
    def description(self) -> str:
        text = (getattr(self.obj, "description", "") or "").strip()
        return text.splitlines()[0] if text else ""


def _distribution_name(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return dist.metadata["Name"] if dist is not None else "(unknown distribution)"


def _check(kind: str, name: str, obj: Any) -> str | None:
    """Why `obj` is not a valid plugin of `kind`, or None when it is."""
    protocol = _PROTOCOLS[kind]
    if not isinstance(obj, protocol):
        return f"expected an object with the {protocol.__name__} attributes, got {type(obj)!r}"
    if normalize(obj.name) != normalize(name):
        return f"its name attribute {obj.name!r} differs from the entry-point name {name!r}"
    if kind == "optimizer" and obj.family not in FAMILIES:
        return f"family {obj.family!r} is not one of {', '.join(FAMILIES)}"
    return None


@cache
def plugins(kind: str) -> dict[str, Plugin]:
    """Every valid plugin of one kind, by normalized name; broken ones warn and are skipped."""
    if kind not in GROUPS:
        raise UnknownPluginError("plugin kind", kind, GROUPS)
    found: dict[str, Plugin] = {}
    for ep in entry_points(group=GROUPS[kind]):
        distribution = _distribution_name(ep)
        try:
            obj = ep.load()
            if isinstance(obj, type):
                obj = obj()
            problem = _check(kind, ep.name, obj)
        except Exception as exc:  # a third-party plugin may fail in any way
            problem = f"{type(exc).__name__}: {exc}"
        if problem is not None:
            warnings.warn(
                f"skipping {kind} plugin {ep.name!r} = {ep.value!r} from distribution "
                f"{distribution!r}: {problem}",
                PluginLoadWarning,
                stacklevel=2,
            )
            continue
        key = normalize(ep.name)
        if key in found:
            other = found[key]
            raise DuplicatePluginError(
                f"{kind} name {ep.name!r} is registered twice: by distribution "
                f"{other.distribution!r} ({other.entry_point}) and by distribution "
                f"{distribution!r} ({ep.value}); uninstall or rename one of them"
            )
        found[key] = Plugin(ep.name, kind, distribution, ep.value, obj)
    return dict(sorted(found.items(), key=lambda item: item[1].name))


def refresh() -> None:
    """Forget loaded plugins, so distributions installed since are discovered."""
    plugins.cache_clear()


def get(kind: str, name: str) -> Plugin:
    """The plugin registered under `name` (case, `-`, `_` ignored), or a helpful error."""
    registered = plugins(kind)
    try:
        return registered[normalize(name)]
    except KeyError:
        raise UnknownPluginError(kind, name, [p.name for p in registered.values()]) from None


def names(kind: str) -> list[str]:
    """The registered names of one kind, sorted."""
    return [plugin.name for plugin in plugins(kind).values()]


def landscape(name: str) -> LandscapePlugin:
    return get("landscape", name).obj


def optimizer(name: str) -> OptimizerPlugin:
    return get("optimizer", name).obj


def runner(name: str) -> RunnerPlugin:
    return get("runner", name).obj
