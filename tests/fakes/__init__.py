"""Fake external services that speak the real wire protocols, for tests and local runs."""
