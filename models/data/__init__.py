"""Datasets that work offline (each module says which package it comes from)."""
