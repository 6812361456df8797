"""The supported-layers table (docs/layers.md, which the README's summary quotes) is generated from
the registry and must not drift."""

from exporter.layers import layers_table

from .generated_docs import LAYERS, LAYERS_PAGE, between


def test_readme_layer_table_matches_registry():
    table = between(LAYERS_PAGE.read_text(), LAYERS)
    assert table is not None, f"{LAYERS_PAGE} lacks the {LAYERS[0]} ... {LAYERS[1]} markers"
    assert table.strip() == layers_table(markdown=True).strip(), (
        "docs/layers.md's table is stale: regenerate it with `make docs` (or `python -m tests.generated_docs`)")
