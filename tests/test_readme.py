"""The README's supported-layers table is generated from the registry and must not drift."""

import re
from pathlib import Path

from exporter.layers import layers_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_layer_table_matches_registry():
    text = README.read_text()
    table = re.search(r"<!-- layers-table:start -->\n(.*?)\n<!-- layers-table:end -->", text, re.S).group(1)
    assert table.strip() == layers_table(markdown=True).strip(), (
        "README table is stale: regenerate it with `python -m exporter layers --markdown`")
