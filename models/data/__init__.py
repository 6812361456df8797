"""Datasets that work offline (see DESIGN.md: where each comes from)."""
