"""Keras ``LSTM`` and ``GRU`` layers (and ``Bidirectional`` around them) on torch's fused kernels.

seqcnn's tensors are channels first, ``(N, features, steps)``; a recurrent layer reads them as
Keras does, step by step along the last axis, and returns ``(N, units', steps)`` with
``return_sequences`` or ``(N, units')`` (the last step; for the backward direction, the step
that ends at position 0) without.

The parameters are Keras's, not ``nn.LSTM``'s: an LSTM has one bias per gate where torch keeps
two (input and recurrent), so the layer holds its own weights and calls the same fused kernel
as ``nn.LSTM`` (``torch.lstm``) with a zero recurrent bias. Keras 3's default GRU
(``reset_after=True``) is exactly torch's GRU, biases included, and runs on ``torch.gru``.
A GRU with ``reset_after=False`` (the reset gate applied before the recurrent product, one
bias) has no fused kernel in torch and runs step by step in Python, which is slower.

Gate order within the stacked weights is torch's (LSTM: input, forget, cell, output; GRU:
reset, update, new). Weights start as Keras's do: Glorot-uniform input kernels, orthogonal
recurrent kernels, zero biases and, for an LSTM, forget-gate biases of one.
"""

from __future__ import annotations

import torch
from torch import nn

MERGES = {
    "concat": lambda a, b: torch.cat([a, b], dim=-1),
    "sum": torch.add,
    "mul": torch.mul,
    "ave": lambda a, b: (a + b) / 2,
}


class Recurrent(nn.Module):
    """A Keras LSTM or GRU, in one or both directions.

    Shape: ``(N, features, L)`` -> ``(N, units', L)`` when ``return_sequences``, else
    ``(N, units')``; ``units' = 2 units`` for a bidirectional ``concat``, else ``units``.

    Args:
        cell: ``"LSTM"`` or ``"GRU"``.
        features: input features per step.
        units: hidden units per direction.
        bidirectional: run a second layer backwards and merge the two.
        merge_mode: ``"concat"``, ``"sum"``, ``"mul"`` or ``"ave"``.
        return_sequences: return every step instead of the last.
        use_bias: whether the gates have biases.
        reset_after: GRU only; Keras 3's default ``True`` matches torch's GRU.
    """

    def __init__(
        self,
        cell: str,
        features: int,
        units: int,
        *,
        bidirectional: bool = False,
        merge_mode: str = "concat",
        return_sequences: bool = False,
        use_bias: bool = True,
        reset_after: bool = True,
    ):
        super().__init__()
        self.cell, self.units, self.use_bias = cell, units, use_bias
        self.bidirectional, self.merge_mode, self.return_sequences = bidirectional, merge_mode, return_sequences
        self.reset_after = reset_after if cell == "GRU" else False
        gates = 4 if cell == "LSTM" else 3
        for suffix in self._suffixes():
            self.register_parameter(f"weight_ih{suffix}", nn.Parameter(torch.empty(gates * units, features)))
            self.register_parameter(f"weight_hh{suffix}", nn.Parameter(torch.empty(gates * units, units)))
            for name in self._bias_names():
                self.register_parameter(f"{name}{suffix}", nn.Parameter(torch.zeros(gates * units)))
        self.reset_parameters()

    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    def _bias_names(self) -> tuple[str, ...]:
        if not self.use_bias:
            return ()
        return ("bias_ih", "bias_hh") if self.reset_after else ("bias",)

    def reset_parameters(self) -> None:
        """Keras's initial weights (see the module docstring)."""
        for suffix in self._suffixes():
            nn.init.xavier_uniform_(getattr(self, f"weight_ih{suffix}"))
            nn.init.orthogonal_(getattr(self, f"weight_hh{suffix}"))
            for name in self._bias_names():
                bias = getattr(self, f"{name}{suffix}")
                nn.init.zeros_(bias)
                if self.cell == "LSTM":
                    nn.init.ones_(bias.data[self.units : 2 * self.units])  # Keras's unit_forget_bias

    def _flat_weights(self) -> list[torch.Tensor]:
        """Weights in the order of ``torch.lstm``/``torch.gru``: ih, hh, bias_ih, bias_hh per direction."""
        weights = []
        for suffix in self._suffixes():
            weights += [getattr(self, f"weight_ih{suffix}"), getattr(self, f"weight_hh{suffix}")]
            if self.use_bias and self.reset_after:
                weights += [getattr(self, f"bias_ih{suffix}"), getattr(self, f"bias_hh{suffix}")]
            elif self.use_bias:
                bias = getattr(self, f"bias{suffix}")
                weights += [bias, torch.zeros_like(bias)]  # Keras's single bias: a zero recurrent bias
        return weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq = x.transpose(1, 2)  # (N, L, features), as Keras sees it
        if self.cell == "GRU" and not self.reset_after:
            outputs, last = self._gru_reset_before(seq)
        else:
            outputs, last = self._fused(seq)
        if not self.return_sequences:
            return self._merge(last[0], last[-1]) if self.bidirectional else last[0]
        if self.bidirectional:
            outputs = self._merge(outputs[..., : self.units], outputs[..., self.units :])
        return outputs.transpose(1, 2)  # (N, units', L)

    def _merge(self, forward: torch.Tensor, backward: torch.Tensor) -> torch.Tensor:
        return MERGES[self.merge_mode](forward, backward)

    def _fused(self, seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Run ``torch.lstm``/``torch.gru``. Returns outputs ``(N, L, D units)`` and last states ``(D, N, units)``."""
        n_dir = 2 if self.bidirectional else 1
        h0 = seq.new_zeros(n_dir, seq.shape[0], self.units)
        # "train" only switches dropout between stacked layers (none here), but cuDNN keeps what the backward pass
        # needs only in training mode: gradients of an evaluated model (saliency) need it too
        train = self.training or torch.is_grad_enabled()
        if self.cell == "LSTM":
            outputs, last, _ = torch.lstm(
                seq, (h0, h0), self._flat_weights(), self.use_bias, 1, 0.0, train, self.bidirectional, True
            )
        else:
            outputs, last = torch.gru(
                seq, h0, self._flat_weights(), self.use_bias, 1, 0.0, train, self.bidirectional, True
            )
        return outputs, last

    def _gru_reset_before(self, seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A GRU with ``reset_after=False``, step by step: ``n = tanh(W_n x + b_n + U_n (r * h))``."""
        outputs, lasts = [], []
        for suffix in self._suffixes():
            steps = seq.flip(1) if suffix else seq
            out = self._gru_direction(steps, suffix)
            lasts.append(out[:, -1])
            outputs.append(out.flip(1) if suffix else out)
        return torch.cat(outputs, dim=-1), torch.stack(lasts)

    def _gru_direction(self, seq: torch.Tensor, suffix: str) -> torch.Tensor:
        w_ih, w_hh = getattr(self, f"weight_ih{suffix}"), getattr(self, f"weight_hh{suffix}")
        bias = getattr(self, f"bias{suffix}") if self.use_bias else None
        inputs = nn.functional.linear(seq, w_ih, bias)  # (N, L, 3 units): every step's input part at once
        w_rz, w_n = w_hh[: 2 * self.units], w_hh[2 * self.units :]
        h = seq.new_zeros(seq.shape[0], self.units)
        out = []
        for t in range(seq.shape[1]):
            x_r, x_z, x_n = inputs[:, t].chunk(3, dim=-1)
            h_r, h_z = (h @ w_rz.t()).chunk(2, dim=-1)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            n = torch.tanh(x_n + (r * h) @ w_n.t())
            h = (1 - z) * n + z * h
            out.append(h)
        return torch.stack(out, dim=1)
