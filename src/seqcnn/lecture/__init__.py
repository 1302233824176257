"""The lecture's teaching tools: convolution arithmetic (output sizes, receptive fields) and the
hand-made kernels of the course, drawn."""
