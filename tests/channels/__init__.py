"""Tests of the provider-facing channel modules."""
