"""The jobs that make and use runs: the main job (:func:`seqcnn.jobs.train.train`, what
``seqcnn train`` calls), prediction and evaluation with a run, and sweeps of many models over many
data sets."""
