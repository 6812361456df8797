"""The modules a user trusts, imported before a model file is loaded (`convert --import MODULE`).

Keras finds a custom class (a user's `@register_keras_serializable` layer, keras-hub's models)
only once the module defining it has been imported. webnets never imports anything because a
model file names it: the user says which modules to import, and a file naming classes from a
module nobody imported gets an error that names the module and the option.
"""

import importlib

from ..errors import ExportError

__all__ = ["import_modules", "missing_module_hint"]


def import_modules(names):
    """Import each named module (`pkg` or `pkg.sub`), in order; a failure is an ExportError naming it."""
    for name in names or ():
        if not isinstance(name, str) or not name.strip():
            raise ExportError(f"--import {name!r}: not a module name. Fix: pass a Python module path such as "
                              "keras_hub or my_project.layers.")
        try:
            importlib.import_module(name.strip())
        except ImportError as error:
            raise ExportError(f"--import {name}: the module could not be imported ({type(error).__name__}: "
                              f"{error}). Fix: install it (for keras-hub: pip install keras-hub) or make it "
                              "importable (run from its project directory, or add it to PYTHONPATH).") from error
        except Exception as error:  # the user's module raised while importing: their code, their message
            raise ExportError(f"--import {name}: importing the module raised {type(error).__name__}: {error}. "
                              "Fix: make the module import cleanly (python -c 'import "
                              f"{name}'), then convert again.") from error


def missing_module_hint(module, registered_name):
    """The module to --import for a class a file names, from its `module` and its `package>Name` registration.

    The registration's package when the class's module lies inside it (keras_hub for
    keras_hub.src.models...; a package named after its module, as `package=__name__` gives), else
    the class's module itself (a class registered under Keras' default package 'Custom').
    """
    module = module if isinstance(module, str) and module not in ("builtins", "__main__") else ""
    package = registered_name.split(">", 1)[0] if isinstance(registered_name, str) and ">" in registered_name else ""
    if package and (not module or module == package or module.startswith(package + ".")):
        return package
    return module or None
