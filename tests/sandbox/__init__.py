"""Tests of the skill sandbox."""
