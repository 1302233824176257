"""Benchmarks of time and memory: steps, start-up, stores, GPUs, the report."""
