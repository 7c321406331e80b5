"""Fake provider servers that speak the real wire protocols on loopback."""
