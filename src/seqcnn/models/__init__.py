"""Model specs, the zoo and summaries. ``network`` (torch) is imported only when a model is built."""

from seqcnn.models.spec import ModelSpec
from seqcnn.models.zoo import get as get_spec

__all__ = ["ModelSpec", "get_spec"]
