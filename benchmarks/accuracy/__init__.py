"""Benchmarks of what the defaults learn: ChIP-seq, the panel tables, images, explanations, variants."""
