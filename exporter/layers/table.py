"""The supported-layers table, generated from the translator registry (README)."""

from .translators import supported_layers


def layers_table(markdown=False):
    rows = supported_layers()
    if not markdown:
        return "\n".join(f"{k:<24} -> {t:<36} {n}" for k, t, n in rows)
    lines = ["| Keras 3 layer | TF.js layers | notes |", "|---|---|---|"]
    lines += [f"| {k} | {t} | {n} |" for k, t, n in rows]
    return "\n".join(lines)


def update_readme(path):
    """Rewrite the table between the README's layers-table markers."""
    import re
    from pathlib import Path

    path = Path(path)
    text = path.read_text()
    new = re.sub(r"(<!-- layers-table:start -->\n).*?(\n<!-- layers-table:end -->)",
                 lambda m: m.group(1) + layers_table(markdown=True) + m.group(2), text, flags=re.S)
    path.write_text(new)
