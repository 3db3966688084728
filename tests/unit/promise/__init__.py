"""Unit tests of the pure promise engine."""
