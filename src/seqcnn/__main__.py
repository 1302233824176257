"""``python -m seqcnn`` (and ``torchrun -m seqcnn``) runs the command line."""

from seqcnn.cli import console

console()
