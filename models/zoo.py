"""The model zoo registry (timm-style): `register_model` fills it, `build` and
`get` read it. Importing `models.zoo` imports every family module."""

import importlib

_REGISTRY = {}
_FAMILY_MODULES = ("alexnet", "googlenet", "resnet", "squeezenet", "recurrent", "dqn")


def register_model(cls):
    """Class decorator: register a ZooModel subclass under its `name`."""
    if cls.name in _REGISTRY:
        raise RuntimeError(f"model {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def _load_families():
    for module in _FAMILY_MODULES:
        try:
            importlib.import_module(f"models.{module}")
        except ModuleNotFoundError as error:
            if error.name != f"models.{module}":
                raise


def names():
    _load_families()
    return sorted(_REGISTRY)


def get(name):
    """The registered ZooModel for `name`, or a KeyError that lists the choices."""
    _load_families()
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; the zoo has: {', '.join(sorted(_REGISTRY)) or 'nothing yet'}")
    return _REGISTRY[name]


def build(name, preset="demo", **overrides):
    """`models.zoo.build("squeezenet", preset="paper")` -> keras.Model."""
    if preset not in ("paper", "demo"):
        raise ValueError(f"preset must be 'paper' or 'demo', not {preset!r}")
    return get(name).build(preset=preset, **overrides)
