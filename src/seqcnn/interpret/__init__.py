"""What a trained network learned, and what a variant changes: the analyses after training.

- :mod:`~seqcnn.interpret.attribution`: gradient x input, in-silico saturation mutagenesis,
  DeepLIFT/SHAP (tangermeme) for spec models and plain torch modules.
- :mod:`~seqcnn.interpret.filters`: first-layer Conv1D filters to PWMs (DeepBind/Basset method).
- :mod:`~seqcnn.interpret.motif_matching`: Tomtom matching (memelite) against JASPAR's motifs
  (read offline by :mod:`seqcnn.io.jaspar`) or any others.
- :mod:`~seqcnn.interpret.patterns`: TF-MoDISco patterns from attributions.
- :mod:`~seqcnn.interpret.attention`: the last attention layer's weights of the explained sequences.
- :mod:`~seqcnn.interpret.explain`: :func:`explain`, the whole job on a run folder (``seqcnn explain``).
- :mod:`~seqcnn.interpret.feature_maps`: kernels, feature maps and saliency of image runs.
- :mod:`~seqcnn.interpret.variants`: reference against alternative allele scores (``seqcnn variants``).
"""
