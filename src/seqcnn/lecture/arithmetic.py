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
* ``"half"``: ``floor(k_e / 2)`` on both sides (Dumoulin and Visin's name; equals ``"same"``
  for odd kernels and stride 1).
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

PADDING_MODES = ("valid", "same", "full", "half")


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Size of a dilated kernel: ``d (k - 1) + 1``."""
    return dilation * (kernel - 1) + 1


def check_positive(name: str, value: int) -> int:
    """Return ``value`` if it is a positive integer, else raise a Keras-style message."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SpecError(
            f"Invalid value for argument `{name}`. Expected a strictly positive integer. Received {name}={value!r}"
        )
    return value


def padding_amounts(
    n: int, kernel: int, stride: int = 1, padding: str | int = "valid", dilation: int = 1
) -> tuple[int, int]:
    """Left and right padding along one axis.

    Args:
        n: input size along the axis.
        kernel: kernel (or pool window) size.
        stride: step between placements.
        padding: ``"valid"``, ``"same"``, ``"full"``, ``"half"`` or a non-negative integer.
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
            raise SpecError(
                f"Invalid value for argument `padding`. Expected a non-negative integer. Received padding={padding}"
            )
        return padding, padding
    if padding == "valid":
        return 0, 0
    if padding == "full":
        return k_e - 1, k_e - 1
    if padding == "half":
        return k_e // 2, k_e // 2
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

    Args:
        n: input size along the axis.
        kernel: kernel (or pool window) size.
        stride: step between placements.
        padding: see :func:`padding_amounts`.
        dilation: spacing between kernel taps.
        ceil_mode: round the number of steps up instead of down (pooling).

    Returns:
        The number of placements along the axis.

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
            f"kernel of effective size {k_e} is larger than the padded input ({n} + {left + right} padding = "
            f"{n + left + right})"
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
    unbounded: bool = False

    def through(self, kernel: int, stride: int = 1, pad_left: int = 0, dilation: int = 1) -> Field:
        """The field after a convolution or pooling layer (the recurrence above)."""
        k_e = effective_kernel(kernel, dilation)
        return Field(
            size=self.size + (k_e - 1) * self.jump,
            jump=self.jump * stride,
            start=self.start + ((k_e - 1) / 2 - pad_left) * self.jump,
            unbounded=self.unbounded,
        )

    def whole(self, n_input: int) -> Field:
        """The field of a layer that sees everything (flatten, dense, global pooling)."""
        return Field(size=n_input, jump=self.jump, start=(n_input - 1) / 2, unbounded=self.unbounded)

    def everywhere(self, n_input: int) -> Field:
        """The field after a recurrent or attention layer: every position sees the whole input.

        The size is the input length, but no window bounds it any more: ``label`` says ``global``,
        and so does every layer after it.
        """
        return Field(size=n_input, jump=self.jump, start=self.start, unbounded=True)

    @property
    def label(self) -> str:
        """The size as a summary prints it: the number of input positions, or ``global``."""
        return "global" if self.unbounded else str(self.size)


@dataclass(frozen=True)
class Window:
    """A convolution or pooling window slid over an input of one or more axes.

    Every attribute is a tuple with one entry per axis (height first for images).

    Attributes:
        input: input size per axis.
        kernel: kernel (or pool window) size per axis.
        stride: step per axis.
        dilation: tap spacing per axis.
        padding: ``(left, right)`` padding per axis.
        output: output size per axis.
        ceil_mode: whether the output was rounded up (pooling).
    """

    input: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    output: tuple[int, ...]
    ceil_mode: bool = False

    @property
    def placements(self) -> int:
        """How many positions the window takes: the product of the output sizes."""
        return math.prod(self.output)

    def formula(self, axis: int) -> str:
        """The output size of one axis written out, e.g. ``"floor((6 + 0 + 0 - 3) / 1) + 1 = 4"``."""
        k_e = effective_kernel(self.kernel[axis], self.dilation[axis])
        left, right = self.padding[axis]
        rounding = "ceil" if self.ceil_mode else "floor"
        kernel = f"{k_e}" if self.dilation[axis] == 1 else f"{self.dilation[axis]}*({self.kernel[axis]}-1)+1"
        size = f"({self.input[axis]} + {left} + {right} - {kernel}) / {self.stride[axis]}"
        return f"{rounding}({size}) + 1 = {self.output[axis]}"


def window(
    input_size: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...] | int = 1,
    padding: str | int | tuple = "valid", dilation: tuple[int, ...] | int = 1, ceil_mode: bool = False,
) -> Window:
    """The geometry of a window slid over every axis of an input.

    Args:
        input_size: input size per axis, e.g. ``(6, 6)``.
        kernel: kernel size per axis, e.g. ``(3, 3)``.
        stride: one stride for all axes or one per axis.
        padding: a mode or integer for all axes (see :func:`padding_amounts`), or one per axis.
        dilation: one dilation for all axes or one per axis.
        ceil_mode: round up, as pooling with ``ceil_mode=True`` does.

    Returns:
        The :class:`Window`, with output sizes and the padding actually applied.

    Raises:
        SpecError: for sizes that are not positive, a number of values that does not match
            the number of axes, or a kernel larger than the padded input.
    """
    ndim = len(input_size)
    kernel, stride, dilation, pads = (_per_axis(name, value, ndim) for name, value in (
        ("kernel_size", kernel), ("strides", stride), ("dilation_rate", dilation), ("padding", padding)))
    outputs, amounts = [], []
    for axis in range(ndim):
        try:
            outputs.append(
                output_size(input_size[axis], kernel[axis], stride[axis], pads[axis], dilation[axis], ceil_mode)
            )
        except SpecError as exc:
            where = f"axis {axis} (size {input_size[axis]})" if ndim > 1 else f"input size {input_size[axis]}"
            raise SpecError(f"{where}: {exc}") from None
        amounts.append(padding_amounts(input_size[axis], kernel[axis], stride[axis], pads[axis], dilation[axis]))
    return Window(
        tuple(input_size), tuple(kernel), tuple(stride), tuple(dilation), tuple(amounts), tuple(outputs), ceil_mode
    )


def _per_axis(name: str, value, ndim: int) -> tuple:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * ndim
    if len(values) == 1 and ndim > 1:
        values = values * ndim
    if len(values) != ndim:
        raise SpecError(
            f"Invalid value for argument `{name}`. Expected 1 or {ndim} values (one per axis). Received "
            f"{name}={value!r}"
        )
    return values


def parse_sizes(text: str, name: str, allow_modes: bool = False) -> tuple:
    """Parse a size written like ``6x6``, ``6,6`` or ``6`` (and, if allowed, a padding mode).

    Args:
        text: the text as the user typed it.
        name: the option's name, for the error message.
        allow_modes: accept the padding modes of :data:`PADDING_MODES` as values.

    Returns:
        One value per axis written (integers, or mode names where allowed).

    Raises:
        SpecError: naming the option and the text when it cannot be read.
    """
    parts = [p.strip() for p in text.replace(",", "x").lower().split("x")]
    values: list[int | str] = []
    for part in parts:
        if allow_modes and part in PADDING_MODES:
            values.append(part)
        elif part.lstrip("-").isdigit():
            values.append(int(part))
        else:
            modes = f" or one of {list(PADDING_MODES)}" if allow_modes else ""
            raise SpecError(f"{name} must be integers like 6x6 or 6{modes}, got {text!r}")
    return tuple(values)
