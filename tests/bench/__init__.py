"""Benchmarks: scripts that print their figures, run by hand, never collected as tests; the few
test_*.py modules beside them check what a script's figures rest on."""
