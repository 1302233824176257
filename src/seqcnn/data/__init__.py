"""The data stage: from files (or a built-in name) to labelled sets and batches of tensors.

Reading a training input (:mod:`~seqcnn.data.load`), choosing its targets and task
(:mod:`~seqcnn.data.targets`), the containers (:mod:`~seqcnn.data.sets`), the split
(:mod:`~seqcnn.data.split`), on-disk stores (:mod:`~seqcnn.data.store`, :mod:`~seqcnn.data.prepare`),
negatives for positives-only data, shared sequences, the strand test, augmentation, the built-in and
simulated data sets, and the tensors a model trains on (:mod:`~seqcnn.data.batches`).
"""
