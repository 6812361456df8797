"""The model zoo registry (timm-style): `register_model` fills it, `build` and
`get` read it. Importing `models.zoo` imports every family module on first use."""

import importlib
from typing import Dict, List

__all__ = ["register_model", "names", "get", "build", "PRESETS"]

PRESETS = ("paper", "demo")
_REGISTRY: Dict[str, "object"] = {}
_FAMILY_MODULES = ("alexnet", "googlenet", "resnet", "squeezenet", "recurrent", "dqn", "text_cnn")


def register_model(cls):
    """Class decorator: register a ZooModel subclass under its `name`."""
    if cls.name in _REGISTRY:
        raise RuntimeError(f"model {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def _load_families():
    for module in _FAMILY_MODULES:
        importlib.import_module(f"models.{module}")


def names() -> List[str]:
    """The registered model names, sorted."""
    _load_families()
    return sorted(_REGISTRY)


def get(name: str):
    """The registered ZooModel for `name`, or a KeyError that lists the choices."""
    _load_families()
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; the zoo has: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def build(name: str, preset: str = "demo", **overrides):
    """A fresh, untrained keras.Model of a zoo architecture.

    Args:
        name: one of `names()` (alexnet, googlenet, resnet, squeezenet, simple_rnn, lstm, gru, dqn, text_cnn).
        preset: "paper", the architecture at its published size, or "demo", the configuration
            trained here and shipped to the browser.
        **overrides: the family's build options (e.g. `depth=50` for resnet, `version="1.1"` for
            squeezenet, `input_shape=...`, `classes=...`).

    Returns:
        keras.Model

    Raises:
        KeyError: an unknown name (the message lists the zoo); ValueError: an unknown preset.
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be 'paper' or 'demo', not {preset!r}")
    return get(name).build(preset=preset, **overrides)
