"""Hearth's test suite."""
