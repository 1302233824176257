"""What a trained network learned: attributions, first-layer filters as PWMs, JASPAR matches.

- :mod:`~seqcnn.interpret.attribution`: gradient x input, in-silico saturation mutagenesis,
  DeepLIFT/SHAP (tangermeme) for spec models and plain torch modules.
- :mod:`~seqcnn.interpret.filters`: first-layer Conv1D filters to PWMs (DeepBind/Basset method).
- :mod:`~seqcnn.interpret.motif_matching`: Tomtom matching (memelite) against JASPAR's motifs
  (read offline by :mod:`seqcnn.io.jaspar`) or any others.
- :mod:`~seqcnn.interpret.explain`: :func:`explain`, the whole job on a run folder.
"""
