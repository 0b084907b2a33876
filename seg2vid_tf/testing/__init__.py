"""Helpers shared by the test suite (reference weights rule, NumPy references)."""
