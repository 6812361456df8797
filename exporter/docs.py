"""The supported-layers table, generated from the translator registry (README)."""

from .translators import supported_layers


def layers_table(markdown=False):
    rows = supported_layers()
    if not markdown:
        return "\n".join(f"{k:<24} -> {t:<36} {n}" for k, t, n in rows)
    lines = ["| Keras 3 layer | TF.js layers | notes |", "|---|---|---|"]
    lines += [f"| {k} | {t} | {n} |" for k, t, n in rows]
    return "\n".join(lines)
