"""Benchmarks against a reference: Keras 3 (counts, outputs, speed), the primer notebook, an earlier tree."""
