"""Benchmarks: scripts that print their figures, run by hand, never collected as tests."""
