"""Registry of zoo architectures (filled by the family modules, timm-style).

`register_model(name, family=..., task=..., dataset=...)` decorates a builder
`fn(preset="paper"|"demo", **overrides) -> keras.Model`; `build(name, ...)`
looks it up. The families arrive with the model-zoo issue; the registry is
here so the exporter and CLI can rely on its interface.
"""

from dataclasses import dataclass

_REGISTRY = {}


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: object
    family: str
    task: str
    dataset: str


def register_model(name, *, family, task, dataset):
    def decorate(builder):
        if name in _REGISTRY:
            raise RuntimeError(f"model {name!r} registered twice")
        _REGISTRY[name] = ModelEntry(name, builder, family, task, dataset)
        return builder

    return decorate


def names():
    return sorted(_REGISTRY)


def build(name, preset="demo", **overrides):
    if name not in _REGISTRY:
        known = ", ".join(names()) or "none yet"
        raise KeyError(f"unknown model {name!r}; registered: {known}")
    if preset not in ("paper", "demo"):
        raise ValueError(f"preset must be 'paper' or 'demo', not {preset!r}")
    return _REGISTRY[name].builder(preset=preset, **overrides)
