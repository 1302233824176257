"""seqcnn: train, evaluate and explain convolutional networks on DNA sequences and small images.

The public API mirrors the command line::

    import seqcnn
    run_dir = seqcnn.train(model="primer", epochs=20)      # built-in data -> a run folder
    run = seqcnn.load_run(run_dir)                          # model, config, metrics
    probs = seqcnn.predict(run.model, seqcnn.encode(["ACGT" * 12 + "AC"]))

torch is imported only when one of these is first used, so ``import seqcnn`` is quick. ``seqcnn.__version__``
names the commit of the code (``seqcnn.version``).
"""

from __future__ import annotations

_LAZY = {
    "train": ("seqcnn.jobs.train", "train"),
    "load_run": ("seqcnn.runs.folder", "load_run"),
    "predict": ("seqcnn.jobs.inference", "predict"),
    "encode": ("seqcnn.sequence", "encode_batch"),
    "onehot": ("seqcnn.sequence", "onehot"),
    "read_sequences": ("seqcnn.io", "read_sequences"),
    "ModelSpec": ("seqcnn.models.spec", "ModelSpec"),
    "SeqcnnError": ("seqcnn.errors", "SeqcnnError"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name == "__version__":  # read from git in a checkout (seqcnn.version), once
        from seqcnn.version import version

        return version()
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'seqcnn' has no attribute {name!r}")
