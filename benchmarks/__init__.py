"""seqcnn's benchmarks: run each from the repository root as ``python -m benchmarks.<topic>.<script>``.

``harness`` is what they share; the topics are ``accuracy``, ``speed``, ``parity`` (against Keras and other
tools) and ``studies`` (the searches that chose the defaults). See ``benchmarks/README.md``.
"""
