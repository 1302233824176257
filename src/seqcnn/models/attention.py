"""Self-attention, the keras_hub transformer encoder, position encodings and layer normalisation.

Every layer here takes seqcnn's channels-first sequences ``(N, features, L)``, works on the
``(N, L, features)`` view that Keras uses (one token per position) and returns channels first
again. Attention runs through :func:`torch.nn.functional.scaled_dot_product_attention`, which
picks a fused kernel (flash or memory-efficient attention on a GPU) and never stores the
``L x L`` weights in training; :meth:`SelfAttention.weights` computes them explicitly when
they are wanted for a figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


class SelfAttention(nn.Module):
    """Keras ``MultiHeadAttention`` called as ``layer(x, x)``: query, key and value are the input.

    Shape: ``(N, features, L)`` -> ``(N, features, L)``. The output is projected back to
    ``features`` (Keras's default ``output_shape``). Scores are scaled by ``1 / sqrt(key_dim)``.

    Args:
        features: features per position (``d``).
        num_heads: heads (``h``).
        key_dim: query and key size per head (``k``).
        value_dim: value size per head (``v``); ``key_dim`` when None.
        dropout: dropout on the attention weights, in training.
        use_bias: biases on the four projections.
    """

    def __init__(
        self,
        features: int,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
    ):
        super().__init__()
        value_dim = value_dim or key_dim
        self.num_heads, self.key_dim, self.value_dim, self.dropout = num_heads, key_dim, value_dim, dropout
        self.query = nn.Linear(features, num_heads * key_dim, bias=use_bias)
        self.key = nn.Linear(features, num_heads * key_dim, bias=use_bias)
        self.value = nn.Linear(features, num_heads * value_dim, bias=use_bias)
        self.output = nn.Linear(num_heads * value_dim, features, bias=use_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attend(x.transpose(1, 2)).transpose(1, 2)

    def _heads(self, projection: nn.Linear, tokens: torch.Tensor, size: int) -> torch.Tensor:
        n, length, _ = tokens.shape
        return projection(tokens).view(n, length, self.num_heads, size).transpose(1, 2)  # (N, h, L, size)

    def attend(self, tokens: torch.Tensor) -> torch.Tensor:
        """Self-attention on tokens. Shape: ``(N, L, features)`` -> ``(N, L, features)``."""
        q = self._heads(self.query, tokens, self.key_dim)
        k = self._heads(self.key, tokens, self.key_dim)
        v = self._heads(self.value, tokens, self.value_dim)
        mixed = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        n, _, length, _ = mixed.shape
        return self.output(mixed.transpose(1, 2).reshape(n, length, self.num_heads * self.value_dim))

    def weights(self, tokens: torch.Tensor) -> torch.Tensor:
        """The attention weights, softmax over keys. Shape: ``(N, L, features)`` -> ``(N, h, L, L)``."""
        q = self._heads(self.query, tokens, self.key_dim)
        k = self._heads(self.key, tokens, self.key_dim)
        return torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.key_dim), dim=-1)


class TransformerEncoder(nn.Module):
    """keras_hub's ``TransformerEncoder``: self-attention and a feed-forward pair, each with a residual.

    Shape: ``(N, d, L)`` -> ``(N, d, L)``. With ``normalize_first=False`` (post-norm, the
    original transformer) each residual sum is layer-normalised; with ``True`` (pre-norm) each
    branch normalises its input instead. The attention has ``num_heads`` heads of
    ``d // num_heads``; dropout acts on the attention weights and on each branch's output.

    Args:
        features: ``d``.
        intermediate_dim: width of the feed-forward layer.
        num_heads: attention heads.
        activation: the feed-forward activation, a function of a tensor.
        dropout: dropout rate.
        layer_norm_epsilon: epsilon of both layer norms.
        normalize_first: pre-norm instead of post-norm.
    """

    def __init__(
        self,
        features: int,
        intermediate_dim: int,
        num_heads: int,
        activation: Callable[[torch.Tensor], torch.Tensor],
        dropout: float = 0.0,
        layer_norm_epsilon: float = 1e-5,
        normalize_first: bool = False,
    ):
        super().__init__()
        head = features // num_heads
        self.attention = SelfAttention(features, num_heads, head, head, dropout)
        self.attention_norm = nn.LayerNorm(features, eps=layer_norm_epsilon)
        self.intermediate = nn.Linear(features, intermediate_dim)
        self.output = nn.Linear(intermediate_dim, features)
        self.feed_forward_norm = nn.LayerNorm(features, eps=layer_norm_epsilon)
        self.dropout = nn.Dropout(dropout)
        self.activation, self.normalize_first = activation, normalize_first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.transpose(1, 2)  # (N, L, d)
        tokens = self._residual(tokens, self.attention_norm, self.attention.attend)
        tokens = self._residual(tokens, self.feed_forward_norm, self._feed_forward)
        return tokens.transpose(1, 2)

    def _feed_forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.output(self.activation(self.intermediate(tokens)))

    def _residual(self, tokens: torch.Tensor, norm: nn.LayerNorm, branch: Callable) -> torch.Tensor:
        if self.normalize_first:
            return tokens + self.dropout(branch(norm(tokens)))
        return norm(tokens + self.dropout(branch(tokens)))

    def attention_input(self, tokens: torch.Tensor) -> torch.Tensor:
        """What the attention of this block sees, from the block's input tokens ``(N, L, d)``."""
        return self.attention_norm(tokens) if self.normalize_first else tokens


def sine_position_encoding(length: int, features: int, max_wavelength: float = 10000.0) -> torch.Tensor:
    """keras_hub's sine position encoding. Shape: ``(L, features)``.

    Feature ``i`` of position ``p`` is ``sin(p / w^(2 floor(i/2) / features))`` for even ``i``
    and ``cos`` of the same angle for odd ``i``, with ``w = max_wavelength``.
    """
    position = torch.arange(length, dtype=torch.float64)[:, None]
    index = torch.arange(features)
    rate = torch.pow(torch.tensor(1.0 / max_wavelength, dtype=torch.float64), 2 * (index // 2) / features)
    angles = position * rate[None, :]
    return torch.where(index % 2 == 0, torch.sin(angles), torch.cos(angles)).float()


class SinePositionEncoding(nn.Module):
    """Adds keras_hub's sine position encoding to its input. Shape: ``(N, d, L)`` -> ``(N, d, L)``.

    keras_hub's layer returns the encoding and leaves the sum to the model; in a sequential
    spec the layer's output is the sum. The encoding is a fixed, unsaved buffer.
    """

    def __init__(self, features: int, length: int, max_wavelength: float = 10000.0):
        super().__init__()
        self.register_buffer(
            "encoding", sine_position_encoding(length, features, max_wavelength).t().contiguous(), persistent=False
        )  # (d, L)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.encoding[:, : x.shape[2]]


class PositionEmbedding(nn.Module):
    """Adds a learned embedding per position (keras_hub's ``PositionEmbedding``). Shape: ``(N, d, L)`` -> ``(N, d, L)``.

    The table holds ``sequence_length`` positions (at least ``L``); the first ``L`` are used.
    """

    def __init__(self, features: int, sequence_length: int):
        super().__init__()
        self.embeddings = nn.Parameter(torch.empty(sequence_length, features))
        nn.init.xavier_uniform_(self.embeddings)  # keras_hub's default initializer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.embeddings[: x.shape[2]].t()


class LayerNormalization(nn.Module):
    """Keras ``LayerNormalization`` over the features of each position (``axis=-1``).

    Shape: ``(N, C, ...)`` -> the same; the channel axis is moved last, normalised and moved back.
    The work is done by a plain ``nn.LayerNorm`` child, which attribution libraries recognise
    (tangermeme's DeepLIFT has a rule for that exact type).
    """

    def __init__(self, features: int, eps: float = 1e-3):
        super().__init__()
        self.norm = nn.LayerNorm(features, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            return self.norm(x)
        return self.norm(x.movedim(1, -1)).movedim(-1, 1)
