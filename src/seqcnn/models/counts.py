"""Parameter and multiply-add counts of the recurrent and attention layers, as Keras 3 counts them.

Plain Python (no torch), used by :mod:`seqcnn.models.spec`. Notation: ``d`` input features
per step, ``L`` steps, ``u`` recurrent units, ``h`` heads, ``k`` key size per head, ``v``
value size per head, ``I`` the feed-forward width of a transformer block.

Parameters (Keras 3 and keras_hub, checked against both by ``benchmarks/parity/keras_layers.py``):

* ``LSTM``: ``4 (u (d + u) + u)``; one bias per gate (``use_bias=False``: no ``+ u``).
* ``GRU``: ``3 (u (d + u) + 2u)`` with ``reset_after=True`` (Keras 3's default: separate input
  and recurrent biases, as torch's ``nn.GRU``); ``3 (u (d + u) + u)`` with ``reset_after=False``.
* ``Bidirectional``: twice the wrapped layer.
* ``MultiHeadAttention`` (self-attention, output projected back to ``d``):
  query ``d h k + h k``, key ``d h k + h k``, value ``d h v + h v``, output ``h v d + d``
  (biases only with ``use_bias=True``).
* ``LayerNormalization``: ``2 d`` (scale and centre).
* ``PositionEmbedding``: ``sequence_length x d``; ``SinePositionEncoding``: none.
* ``TransformerEncoder`` (keras_hub): self-attention with ``h`` heads of ``k = v = d // h``,
  two layer norms (``4 d``) and the feed-forward pair ``d I + I`` and ``I d + d``.

Multiply-adds per example count the matrix products only (gates, softmax and norms are
element-wise and left out, as for convolutions):

* LSTM: ``L 4u (d + u)``; GRU: ``L 3u (d + u)``; twice that when bidirectional. Every step runs,
  whether or not the layer returns the sequence.
* Self-attention: projections ``L d h (2k + v) + L h v d``, plus the attention matrix
  ``h L^2 k`` (scores ``Q K^T``) and ``h L^2 v`` (weights times values).
* TransformerEncoder: its self-attention plus ``2 L d I`` for the feed-forward pair.
"""

from __future__ import annotations


def lstm_params(features: int, units: int, use_bias: bool = True) -> int:
    """Parameters of one Keras ``LSTM``: four gates, each ``units x (features + units)`` plus a bias."""
    return 4 * (units * (features + units) + (units if use_bias else 0))


def gru_params(features: int, units: int, use_bias: bool = True, reset_after: bool = True) -> int:
    """Parameters of one Keras ``GRU``; ``reset_after`` doubles the biases (input and recurrent)."""
    biases = (2 if reset_after else 1) * units if use_bias else 0
    return 3 * (units * (features + units) + biases)


def recurrent_macs(cell: str, features: int, units: int, steps: int) -> int:
    """Multiply-adds of one direction of an LSTM (4 gates) or GRU (3 gates) over ``steps``."""
    gates = 4 if cell == "LSTM" else 3
    return steps * gates * units * (features + units)


def attention_params(features: int, num_heads: int, key_dim: int, value_dim: int, use_bias: bool = True) -> int:
    """Parameters of a Keras ``MultiHeadAttention`` whose query, key and value are one input of ``features``."""
    qk = 2 * (features * num_heads * key_dim + (num_heads * key_dim if use_bias else 0))
    value = features * num_heads * value_dim + (num_heads * value_dim if use_bias else 0)
    output = num_heads * value_dim * features + (features if use_bias else 0)
    return qk + value + output


def attention_macs(features: int, steps: int, num_heads: int, key_dim: int, value_dim: int) -> int:
    """Multiply-adds of self-attention: the four projections and the ``steps x steps`` attention matrix."""
    projections = steps * features * num_heads * (2 * key_dim + value_dim) + steps * num_heads * value_dim * features
    matrix = num_heads * steps * steps * (key_dim + value_dim)
    return projections + matrix


def encoder_head_dim(features: int, num_heads: int) -> int:
    """keras_hub's key (and value) size per head in a ``TransformerEncoder``: ``features // num_heads``."""
    return features // num_heads


def encoder_params(features: int, intermediate_dim: int, num_heads: int) -> int:
    """Parameters of a keras_hub ``TransformerEncoder`` on inputs of ``features`` per step."""
    head = encoder_head_dim(features, num_heads)
    feed_forward = features * intermediate_dim + intermediate_dim + intermediate_dim * features + features
    return attention_params(features, num_heads, head, head) + 4 * features + feed_forward


def encoder_macs(features: int, steps: int, intermediate_dim: int, num_heads: int) -> int:
    """Multiply-adds of a ``TransformerEncoder``: its self-attention and the feed-forward pair."""
    head = encoder_head_dim(features, num_heads)
    return attention_macs(features, steps, num_heads, head, head) + 2 * steps * features * intermediate_dim
