"""Fake external services that speak the real wire protocols on loopback, for tests and local runs."""
