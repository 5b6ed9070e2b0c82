"""Benchmarks (`make bench`): speed and size, measured outside the test suite."""
