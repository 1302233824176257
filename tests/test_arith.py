"""Convolution arithmetic against torch: output sizes, padding, receptive fields, the CLI."""

from __future__ import annotations

import math
import random

import pytest
import torch
import torch.nn.functional as F

from seqcnn.errors import SpecError
from seqcnn.lecture.arithmetic import Field, output_size, padding_amounts, window
from seqcnn.models.network import build_model
from seqcnn.models.spec import ModelSpec

N_CONFIGS = 5000  # per property test, half 1D and half 2D


def _random_axis(rng: random.Random, pooling: bool) -> dict:
    """One axis of a random configuration that torch accepts (it may not fit: handled by caller)."""
    kernel, dilation = rng.randint(1, 7), rng.choice([1, 1, 1, 2, 3])
    padding = rng.choice(["valid", "same", "full", "half", rng.randint(0, 4)])
    if pooling:  # torch pools only allow symmetric padding of at most half the (undilated) window
        padding = rng.randint(0, kernel // 2)
    return {
        "n": rng.randint(1, 40),
        "kernel": kernel,
        "stride": rng.randint(1, 5),
        "dilation": dilation,
        "padding": padding,
    }


def _torch_conv_shape(axes: list[dict], pads: list[tuple[int, int]]) -> tuple[int, ...]:
    ndim = len(axes)
    x = torch.empty(1, 1, *(a["n"] for a in axes), device="meta")
    x = F.pad(x, [p for pair in reversed(pads) for p in pair])  # explicit, possibly asymmetric
    w = torch.empty(1, 1, *(a["kernel"] for a in axes), device="meta")
    conv = F.conv1d if ndim == 1 else F.conv2d
    out = conv(x, w, stride=[a["stride"] for a in axes], dilation=[a["dilation"] for a in axes])
    return tuple(out.shape[2:])


def _fits(axis: dict, pads: tuple[int, int]) -> bool:
    return axis["n"] + sum(pads) >= axis["dilation"] * (axis["kernel"] - 1) + 1


def test_conv_output_size_equals_torch_over_random_configs():
    rng = random.Random(0)
    checked = 0
    while checked < N_CONFIGS:
        axes = [_random_axis(rng, pooling=False) for _ in range(1 + checked % 2)]
        pads = [padding_amounts(a["n"], a["kernel"], a["stride"], a["padding"], a["dilation"]) for a in axes]
        if not all(_fits(a, p) for a, p in zip(axes, pads)):
            with pytest.raises(SpecError, match="larger than the padded input"):
                window(tuple(a["n"] for a in axes), tuple(a["kernel"] for a in axes), tuple(a["stride"] for a in axes),
                       tuple(a["padding"] for a in axes), tuple(a["dilation"] for a in axes))
            continue
        ours = tuple(output_size(a["n"], a["kernel"], a["stride"], a["padding"], a["dilation"]) for a in axes)
        assert ours == _torch_conv_shape(axes, pads), axes
        for a, o in zip(axes, ours):
            if a["padding"] == "same":  # Keras's rule, independent of the padding we computed
                assert o == math.ceil(a["n"] / a["stride"]), a
        checked += 1


def test_pool_output_size_equals_torch_over_random_configs_with_ceil_mode():
    rng = random.Random(1)
    checked = 0
    while checked < N_CONFIGS:
        ndim = 1 + checked % 2
        axes = [_random_axis(rng, pooling=True) for _ in range(ndim)]
        ceil_mode = rng.random() < 0.5
        if not all(_fits(a, (a["padding"], a["padding"])) for a in axes):
            continue
        ours = tuple(
            output_size(a["n"], a["kernel"], a["stride"], a["padding"], a["dilation"], ceil_mode) for a in axes
        )
        x = torch.empty(1, 1, *(a["n"] for a in axes), device="meta")
        pool = F.max_pool1d if ndim == 1 else F.max_pool2d
        out = pool(x, [a["kernel"] for a in axes], [a["stride"] for a in axes], [a["padding"] for a in axes],
                   [a["dilation"] for a in axes], ceil_mode=ceil_mode)
        assert ours == tuple(out.shape[2:]), (axes, ceil_mode)
        if all(a["dilation"] == 1 for a in axes):
            avg = (F.avg_pool1d if ndim == 1 else F.avg_pool2d)(
                x,
                [a["kernel"] for a in axes],
                [a["stride"] for a in axes],
                [a["padding"] for a in axes],
                ceil_mode=ceil_mode,
            )
            assert ours == tuple(avg.shape[2:]), (axes, ceil_mode)
        checked += 1


# --- receptive fields, measured -------------------------------------------------------------

def _random_spec(rng: random.Random, ndim: int) -> list[dict]:
    """A small stack of convolutions and pools (no activations: the gradient must not vanish)."""
    layers = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["conv", "conv", "pool"])
        size = [rng.randint(1, 4) for _ in range(ndim)]
        stride = [rng.randint(1, 3) for _ in range(ndim)]
        padding = rng.choice(["valid", "same", rng.randint(0, 2)])
        if kind == "conv":
            dilation = [rng.choice([1, 1, 2]) for _ in range(ndim)]
            layers.append(
                {
                    f"Conv{ndim}D": {
                        "filters": 2,
                        "kernel_size": size,
                        "strides": stride,
                        "padding": padding,
                        "dilation_rate": dilation,
                    }
                }
            )
        else:
            padding = "valid" if isinstance(padding, int) else padding
            layers.append({f"AveragePooling{ndim}D": {"pool_size": size, "strides": stride, "padding": padding}})
    return layers


def _measured_extent(model, input_shape, index: tuple[int, ...]) -> list[tuple[int, int]]:
    """First and last input position (per axis) with a non-zero gradient from one output unit."""
    x = torch.rand(1, *input_shape, dtype=torch.float64, requires_grad=True)
    model(x)[(0, 0, *index)].backward()
    nonzero = x.grad[0].abs().sum(0).nonzero()
    return [(int(nonzero[:, a].min()), int(nonzero[:, a].max())) for a in range(len(index))]


def _inside_unit(field: Field, out: int, n: int) -> int | None:
    """An output unit whose whole receptive field lies inside the input, if any."""
    for i in range(out):
        centre = field.start + i * field.jump
        if centre - (field.size - 1) / 2 >= 0 and centre + (field.size - 1) / 2 <= n - 1:
            return i
    return None


@pytest.mark.parametrize("ndim", [1, 2])
def test_receptive_field_equals_extent_of_input_gradient(ndim):
    """Back-propagate from one output unit: the non-zero input gradient spans the computed field.

    Weights are positive and the input random, so no tap cancels; average pooling has the
    same geometry as max pooling without routing the gradient to one position only.
    """
    rng = random.Random(ndim)
    torch.manual_seed(0)
    tested = 0
    while tested < 40:
        shape = (2, *(rng.randint(8, 30) for _ in range(ndim)))
        spec = ModelSpec.from_obj(_random_spec(rng, ndim))
        try:
            infos = spec.analyse(shape)
        except SpecError:
            continue
        last = infos[-1]
        units = [_inside_unit(f, o, n) for f, o, n in zip(last.fields, last.out_shape[1:], shape[1:])]
        if None in units:
            continue
        model = build_model(spec, shape).double()
        for p in model.parameters():
            torch.nn.init.uniform_(p, 0.5, 1.5)
        extent = _measured_extent(model, shape, tuple(units))
        for (lo, hi), field, unit in zip(extent, last.fields, units):
            assert hi - lo + 1 == field.size, (spec.to_obj()["layers"], shape)
            assert (lo + hi) / 2 == field.start + unit * field.jump
        tested += 1


def test_field_recurrence_on_the_primer():
    infos = ModelSpec.from_obj(
        [{"Conv1D": {"filters": 32, "kernel_size": 12}}, {"MaxPooling1D": {"pool_size": 4}}]
    ).analyse((4, 50))
    conv, pool = infos[0].fields[0], infos[1].fields[0]
    assert (conv.size, conv.jump, conv.start) == (12, 1, 5.5)
    assert (pool.size, pool.jump, pool.start) == (15, 4, 7.0)  # 12 + (4 - 1) * 1; centre of positions 0..14


# --- the library and the command line -------------------------------------------------------

def test_lecture_question_6x6_with_3x3():
    w = window((6, 6), (3, 3))
    assert w.output == (4, 4) and w.placements == 16
    assert window((6, 6), (3, 3), padding="half").output == (6, 6)
    assert window((6, 6), (3, 3), padding="full").output == (8, 8)
    assert window((6, 6), (3, 3), stride=2).output == (2, 2)
    assert window((5, 7), (3, 2), stride=(2, 1), padding="same").padding == ((1, 1), (0, 1))


def test_cli_arith_answers_with_the_formula(cli):
    code, out, _ = cli("arith", "--input", "6x6", "--kernel", "3x3")
    assert code == 0 and "output 4x4 (16 placements)" in out
    assert "floor((6 + 0 + 0 - 3) / 1) + 1 = 4" in out
    code, out, _ = cli("arith", "--input", "7x7", "--kernel", "3x3", "--padding", "1", "--stride", "2")
    assert code == 0 and "output 4x4 (16 placements)" in out
    code, out, _ = cli("arith", "--input", "100", "--kernel", "3", "--dilation", "4", "--padding", "same")
    assert code == 0 and "output 100 (100 placements)" in out and "padding 4+4" in out
    code, out, _ = cli("arith", "--input", "10", "--kernel", "3", "--stride", "2", "--pool", "--ceil")
    assert code == 0 and "output 5 " in out  # floor would give 4


def test_cli_arith_prints_fields_of_a_model(cli):
    code, out, _ = cli("arith", "--model", "primer", "--length", "50")
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(("conv1d", "max_pooling1d"))}
    assert code == 0
    assert rows["conv1d"][-3:] == ["12", "1", "5.5"]
    assert rows["max_pooling1d"][-3:] == ["15", "4", "7"]


@pytest.mark.parametrize("args, message", [
    (["--input", "2x2", "--kernel", "3x3"], "kernel of effective size 3 is larger than the padded input"),
    (["--input", "6x0", "--kernel", "3x3"], "Expected a strictly positive integer. Received input_size=0"),
    (["--input", "6", "--kernel", "-3"], "Received kernel_size=-3"),
    (["--input", "6x6", "--kernel", "3x3", "--stride", "0"], "Received strides=0"),
    (["--input", "6x6", "--kernel", "3x3x3"], "Expected 1 or 2 values"),
    (["--input", "6x6", "--kernel", "3x3", "--padding", "wide"], "--padding must be integers like 6x6 or 6 or one of"),
    (["--input", "6x6", "--kernel", "3x3", "--padding", "-1"], "Expected a non-negative integer. Received padding=-1"),
    (["--input", "six", "--kernel", "3"], "--input must be integers like 6x6"),
    (["--kernel", "3"], "give --input"),
])
def test_cli_arith_bad_input_exits_2_with_one_line(cli, args, message):
    import re

    code, out, err = cli("arith", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and re.search(message, err), err
