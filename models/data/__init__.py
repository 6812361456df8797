"""Datasets that work offline (each module says which package it comes from)."""


class DatasetUnavailableError(RuntimeError):
    """A dataset that cannot be had here (not cached, not installed, no network) or not stored in its
    cache. The message is one paragraph naming the problem and the fix; callers show it as it is."""
