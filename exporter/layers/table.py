"""The layers table (`python -m exporter layers`, the README's): every concrete keras.layers class with
its status, then the translators for other libraries' layers (keras-hub), generated from the registry.

A class is `converts` when a translator is registered for it (the string and lookup layers too: they
take TF.js string tensors, exporter/layers/translators/text.py), `inside RNN` for the cells that only run
inside a recurrent layer, and `refused` when it runs foreign code (no layers model can hold it).
"""

import inspect

from .translators import REFUSED, TRANSLATORS, supported_layers

__all__ = ["layers_table", "builtin_layer_statuses", "FOREIGN_CODE", "RNN_CELLS", "update_readme"]

# Classes that wrap foreign code: refused for good, with the translators' own reason.
FOREIGN_CODE = REFUSED
# Cells run inside RNN (or StackedRNNCells inside RNN), which translates them.
RNN_CELLS = ("SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells")
# Base classes keras.layers exports that no model holds as they are.
_BASES = ("Layer", "Wrapper")


def builtin_layer_classes():
    """Names of the concrete layer classes keras.layers exports."""
    import keras

    names = set()
    for attribute in dir(keras.layers):
        value = getattr(keras.layers, attribute)
        if inspect.isclass(value) and issubclass(value, keras.layers.Layer) and not inspect.isabstract(value):
            names.add(value.__name__)
    return sorted(names - set(_BASES))


def builtin_layer_statuses():
    """[(class, status, TF.js class or reason, note)] for every concrete keras.layers class."""
    rows = []
    for name in builtin_layer_classes():
        info = TRANSLATORS.get(name)
        if info is not None:
            rows.append((name, "converts", info.tfjs_class, info.note))
        elif name in RNN_CELLS:
            rows.append((name, "inside RNN", "(the RNN's class)", "translated as part of the RNN that runs it"))
        elif name in FOREIGN_CODE:
            rows.append((name, "refused", "-", FOREIGN_CODE[name]))
        else:
            rows.append((name, "missing", "-", "no translator"))
    return rows


def _library_rows():
    # Plugins' translators (exporter/plugins.py) are the user's, not webnets': never in webnets' table.
    return [(key, tfjs, note) for key, tfjs, note in supported_layers()
            if (">" in key or "." in key) and TRANSLATORS[key].script is None]


def layers_table(markdown=False):
    rows, library = builtin_layer_statuses(), _library_rows()
    if not markdown:
        lines = [f"{k:<44} {s:<10} -> {t:<36} {n}" for k, s, t, n in rows]
        return "\n".join(lines + [""] + [f"{k:<44} {'converts':<10} -> {t:<36} {n}" for k, t, n in library])
    counts = {status: sum(1 for row in rows if row[1] == status) for status in ("converts", "inside RNN", "refused",
                                                                               "missing")}
    lines = [f"{len(rows)} concrete keras.layers classes (Keras 3.15): " + ", ".join(
        f"{n} {status}" for status, n in counts.items() if n), "",
        "| Keras 3 layer | status | TF.js layers | notes |", "|---|---|---|---|"]
    lines += [f"| {k} | {s} | {t} | {n} |" for k, s, t, n in rows]
    lines += ["", "Other libraries' layers with a translator of their own (the rest of their layers are traced):", "",
              "| layer (registered name) | TF.js layers | notes |", "|---|---|---|"]
    lines += [f"| {k} | {t} | {n} |" for k, t, n in library]
    return "\n".join(lines)


def update_readme(path):
    """Rewrite the table between the layers-table markers of the file at `path` (docs/layers.md)."""
    import re
    from pathlib import Path

    path = Path(path)
    text = path.read_text()
    new = re.sub(r"(<!-- layers-table:start -->\n).*?(\n<!-- layers-table:end -->)",
                 lambda m: m.group(1) + layers_table(markdown=True) + m.group(2), text, flags=re.S)
    path.write_text(new)
