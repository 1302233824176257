"""Keras-style model summaries, with receptive fields and multiply-adds.

The numbers match ``model.summary()`` of Keras 3 to the digit: layer name and type (Keras's
automatic names), output shape (channels last, with ``None`` for the batch axis) and parameter
count, then ``Total params`` / ``Trainable params`` / ``Non-trainable params`` with thousands
separators and the float32 size as Keras 3 prints it (``Total params: 6,226 (24.32 KB)``). The
layout is Keras 2's plain-text table rather than Keras 3's box drawing, so it reads the same in
a log file. Two extra columns give each layer's receptive field (in input positions; ``global``
from a recurrent or attention layer on, where every position sees the whole input) and its
multiply-adds for one example (formulae of the recurrent and attention layers in
:mod:`seqcnn.models.counts`).
"""

from __future__ import annotations

from seqcnn.models.spec import LayerInfo, ModelSpec, keras_shape


def summary_rows(infos: list[LayerInfo], channels_last: bool = True) -> list[tuple[str, str, str, str, str]]:
    """One row per layer: (name (Type), output shape, params, receptive field, multiply-adds)."""
    rows = []
    for info in infos:
        field = _field_label(info.fields)
        rows.append(
            (
                f"{info.layer.name} ({info.layer.type})",
                keras_shape(info.out_shape, channels_last),
                f"{info.params:,}",
                field,
                f"{info.macs:,}",
            )
        )
    return rows


def _field_label(fields) -> str:
    """``9`` or ``5x5`` (one size per axis), ``global`` after a recurrent or attention layer, ``-`` for none."""
    if not fields:
        return "-"
    if any(f.unbounded for f in fields):
        return "global"
    return "x".join(f.label for f in fields)


def readable_size(n_bytes: float) -> str:
    """A byte count as Keras 3 writes it: ``24.32 KB`` (powers of 1024, two decimals)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n_bytes < 1024:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} PB"


def summary(spec: ModelSpec, input_shape: tuple[int, ...], channels_last: bool = True) -> str:
    """The Keras-style summary table of ``spec`` for one input shape (channels first).

    Raises:
        SpecError: when the layers do not fit the input.
    """
    infos = spec.analyse(input_shape)
    header = ("Layer (type)", "Output Shape", "Param #", "Receptive field", "Mult-adds")
    rows = summary_rows(infos, channels_last)
    widths = [max(len(r[i]) for r in [header, *rows]) + 2 for i in range(5)]
    line = "-" * (sum(widths) - 2)

    def fmt(row) -> str:
        return "".join(
            cell.ljust(w) if i in (0, 1) else cell.rjust(w - 2).ljust(w) for i, (cell, w) in enumerate(zip(row, widths))
        ).rstrip()

    total = sum(i.params for i in infos)
    trainable = sum(i.trainable for i in infos)
    macs = sum(i.macs for i in infos)
    out = [f'Model: "{spec.name}"', line, fmt(header), "=" * len(line)]
    out += [fmt(r) for r in rows]
    out += [
        "=" * len(line),
        f"Total params: {total:,} ({readable_size(4 * total)})",
        f"Trainable params: {trainable:,} ({readable_size(4 * trainable)})",
        f"Non-trainable params: {total - trainable:,} ({readable_size(4 * (total - trainable))})",
        f"Multiply-adds per example: {macs:,}",
    ]
    return "\n".join(out)


def _number(value: float) -> str:
    return f"{value:g}"


def field_table(spec: ModelSpec, input_shape: tuple[int, ...], channels_last: bool = True) -> str:
    """Receptive field size, jump and start of every layer, one row per layer.

    Per spatial axis (``HxW`` for images): ``rf`` is the number of input positions one output
    unit sees, ``jump`` the distance in input positions between neighbouring units and
    ``start`` the input coordinate of the centre of the first unit's field (see
    :mod:`seqcnn.lecture.arithmetic` for the recurrence). Layers after Flatten or global pooling see the
    whole input.

    Args:
        spec: the model spec.
        input_shape: channels first, without the batch axis.
        channels_last: print output shapes as Keras does.

    Returns:
        The table as text.

    Raises:
        SpecError: when the layers do not fit the input.
    """
    infos = spec.analyse(input_shape)
    header = ("Layer (type)", "Output Shape", "rf", "jump", "start")
    rows = [
        (
            f"{i.layer.name} ({i.layer.type})",
            keras_shape(i.out_shape, channels_last),
            _field_label(i.fields),
            "x".join(str(f.jump) for f in i.fields),
            "x".join(_number(f.start) for f in i.fields),
        )
        for i in infos
    ]
    widths = [max(len(r[c]) for r in [header, *rows]) + 2 for c in range(5)]
    lines = [
        "".join(cell.ljust(w) if c < 2 else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths)))
        for row in [header, *rows]
    ]
    return "\n".join([f'Model: "{spec.name}", input {keras_shape(tuple(input_shape), channels_last)}', *lines])
