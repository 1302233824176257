"""Convolution and pooling arithmetic: output sizes, padding, receptive fields.

Pure Python, no torch, so that every number here can be checked against torch itself.
Formulas follow Dumoulin and Visin (2016), "A guide to convolution arithmetic for deep
learning". For one spatial axis with input size ``n``, kernel ``k``, dilation ``d``,
stride ``s`` and padding ``p_l`` (left) + ``p_r`` (right), the effective kernel is
``k_e = d (k - 1) + 1`` and the output size is::

    o = floor((n + p_l + p_r - k_e) / s) + 1          (ceil instead of floor in ceil mode)

Padding modes:

* ``"valid"``: no padding.
* ``"same"``: Keras's rule, ``o = ceil(n / s)``; the total padding
  ``max((o - 1) s + k_e - n, 0)`` is split with the extra unit on the right (the asymmetric
  padding of even kernels).
* ``"full"``: ``k_e - 1`` on both sides (every partial overlap).
* an integer ``p``: ``p`` on both sides.

Receptive field, jump and start of layer ``i`` (sizes in input positions) follow the
recurrence::

    jump_i  = jump_{i-1} * s_i
    rf_i    = rf_{i-1} + (k_e,i - 1) * jump_{i-1}
    start_i = start_{i-1} + ((k_e,i - 1) / 2 - p_l,i) * jump_{i-1}

with ``jump_0 = rf_0 = 1`` and ``start_0 = 0`` (``start`` is the centre of the first output
unit's field, in input coordinates; it may be negative when padding adds positions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from seqcnn.errors import SpecError

PADDING_MODES = ("valid", "same", "full")


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Size of a dilated kernel: ``d (k - 1) + 1``."""
    return dilation * (kernel - 1) + 1


def check_positive(name: str, value: int) -> int:
    """Return ``value`` if it is a positive integer, else raise a Keras-style message."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SpecError(f"Invalid value for argument `{name}`. Expected a strictly positive integer. Received {name}={value!r}")
    return value


def padding_amounts(n: int, kernel: int, stride: int = 1, padding: str | int = "valid", dilation: int = 1) -> tuple[int, int]:
    """Left and right padding along one axis.

    Args:
        n: input size along the axis.
        kernel: kernel (or pool window) size.
        stride: step between placements.
        padding: ``"valid"``, ``"same"``, ``"full"`` or a non-negative integer.
        dilation: spacing between kernel taps.

    Returns:
        ``(left, right)``.

    Raises:
        SpecError: for an unknown mode or a negative integer.
    """
    k_e = effective_kernel(kernel, dilation)
    if isinstance(padding, bool):
        raise SpecError(f"padding must be one of {list(PADDING_MODES)} or an integer, but got padding={padding!r}")
    if isinstance(padding, int):
        if padding < 0:
            raise SpecError(f"Invalid value for argument `padding`. Expected a non-negative integer. Received padding={padding}")
        return padding, padding
    if padding == "valid":
        return 0, 0
    if padding == "full":
        return k_e - 1, k_e - 1
    if padding == "same":
        out = math.ceil(n / stride)
        total = max((out - 1) * stride + k_e - n, 0)
        return total // 2, total - total // 2
    raise SpecError(f"padding must be one of {list(PADDING_MODES)} or an integer, but got padding={padding!r}")


def output_size(
    n: int, kernel: int, stride: int = 1, padding: str | int = "valid", dilation: int = 1, ceil_mode: bool = False
) -> int:
    """Output size of a convolution or pooling along one axis.

    In ceil mode, as in PyTorch, a last window that would start in the right padding is dropped.

    Raises:
        SpecError: for non-positive sizes, or a kernel larger than the padded input.
    """
    for name, value in (("input size", n), ("kernel_size", kernel), ("strides", stride), ("dilation_rate", dilation)):
        check_positive(name.replace(" ", "_"), value)
    left, right = padding_amounts(n, kernel, stride, padding, dilation)
    k_e = effective_kernel(kernel, dilation)
    span = n + left + right - k_e
    if span < 0:
        raise SpecError(
            f"kernel of effective size {k_e} is larger than the padded input ({n} + {left + right} padding = {n + left + right})"
        )
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= n + left:
        out -= 1
    return out


@dataclass(frozen=True)
class Field:
    """Receptive field bookkeeping along one axis after a layer.

    Attributes:
        size: receptive field size in input positions.
        jump: distance in input positions between adjacent output units.
        start: input coordinate of the centre of the first output unit's field.
    """

    size: int = 1
    jump: int = 1
    start: float = 0.0

    def through(self, kernel: int, stride: int = 1, pad_left: int = 0, dilation: int = 1) -> "Field":
        """The field after a convolution or pooling layer (the recurrence above)."""
        k_e = effective_kernel(kernel, dilation)
        return Field(
            size=self.size + (k_e - 1) * self.jump,
            jump=self.jump * stride,
            start=self.start + ((k_e - 1) / 2 - pad_left) * self.jump,
        )

    def whole(self, n_input: int) -> "Field":
        """The field of a layer that sees everything (flatten, dense, global pooling)."""
        return Field(size=n_input, jump=self.jump, start=(n_input - 1) / 2)
