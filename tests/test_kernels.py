"""The lecture's kernels: reference against torch, the 6x6 example, image filters, max-pool routing, figures."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from seqcnn.errors import InputError, SpecError
from seqcnn.lecture import kernels

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_lecture_example_rows_alternate_minus_two_and_two():
    x = kernels.lecture_input()
    assert x[0].tolist() == [1, 2, 3, 4, 5, 6] and x[1].tolist() == [6, 5, 4, 3, 2, 1]
    out = kernels.correlate(x, kernels.VERTICAL_EDGE)
    assert out.shape == (4, 4)
    assert out.tolist() == [[-2] * 4, [2] * 4, [-2] * 4, [2] * 4]


@pytest.mark.parametrize("shape, kernel, stride, padding", [
    ((6, 6), (3, 3), 1, 0), ((7, 5), (2, 3), 2, 1), ((9, 9), (4, 4), 1, "same"), ((8, 6), (3, 2), (2, 1), "same"),
    ((5, 5), (3, 3), 1, "full"), ((5, 5), (3, 3), 2, "half"), ((10, 4), (1, 4), 3, 0), ((3, 3), (3, 3), 1, 0),
])
def test_reference_loops_agree_with_torch(shape, kernel, stride, padding):
    rng = np.random.default_rng(sum(shape) + sum(kernel))
    x, k = rng.normal(size=shape), rng.normal(size=kernel)
    ours = kernels.correlate(x, k, stride, padding)
    # float64 sums of at most 16 products, in whatever order each side's loops or BLAS take: each is within
    # 16 x 1.1e-16 x sum|x k| (at most 12 here) of the exact value, so the two within 5e-14, whatever the CPU.
    np.testing.assert_allclose(ours, kernels.correlate_torch(x, k, stride, padding), rtol=1e-12, atol=1e-12)
    if padding in (0, "valid"):  # and with torch's own padding argument, not ours
        reference = F.conv2d(torch.from_numpy(x)[None, None], torch.from_numpy(k)[None, None], stride=stride)[0, 0]
        # atol as above: a relative bound alone fails where a sum nearly cancels (one cell of the 6x6 case is
        # 1e-3 of its sum|x k|, and differs by 2e-14 relative on this CPU, 1.6e-12 at worst on another)
        np.testing.assert_allclose(ours, reference.numpy(), rtol=1e-12, atol=1e-12)


def test_placements_cover_every_output_cell():
    corners = kernels.placements((6, 6), (3, 3))
    assert len(corners) == 16 and corners[0] == (0, 0) and corners[-1] == (3, 3)
    assert kernels.placements((5, 5), (3, 3), stride=2, padding="half") == [
        (r, c) for r in (0, 2, 4) for c in (0, 2, 4)
    ]


def test_bad_matrices_and_kernels():
    with pytest.raises(SpecError, match="kernel of effective size 4 is larger than the padded input"):
        kernels.correlate(np.ones((3, 3)), np.ones((4, 4)))
    with pytest.raises(InputError, match=r"kernel must be a non-empty 2D matrix \(height, width\), got shape \(3,\)"):
        kernels.correlate(np.ones((3, 3)), np.ones(3))
    with pytest.raises(InputError, match="Received size=0"):
        kernels.box_blur(0)


def test_box_blur_and_sobel_on_a_step_edge():
    blur = kernels.box_blur(7)
    assert blur.shape == (7, 7) and blur[0, 0] == pytest.approx(1 / 49) and blur.sum() == pytest.approx(1)
    step = np.zeros((20, 20))
    step[:, 10:] = 1.0  # dark left half, bright right half: one vertical edge
    np.testing.assert_allclose(kernels.filter_image(np.full((9, 9), 0.3), blur), 0.3)  # edges replicated, not darkened
    vertical = kernels.filter_image(step, kernels.SOBEL_VERTICAL)
    horizontal = kernels.filter_image(step, kernels.SOBEL_HORIZONTAL)
    assert vertical.shape == step.shape
    assert np.flatnonzero(np.abs(vertical).sum(0)).tolist() == [9, 10]  # only the columns beside the edge
    assert vertical[5, 9] == -4 and np.abs(horizontal).max() == 0
    blurred = kernels.filter_image(step, blur)
    assert blurred[10, 6] == 0 and blurred[10, 13] == pytest.approx(1) and blurred[10, 9] == pytest.approx(3 / 7)


@pytest.mark.parametrize("suffix", ["png", "jpg"])
def test_load_image_reads_png_and_jpeg_as_grayscale(tmp_path, suffix):
    pixels = np.zeros((12, 16, 3), dtype=np.uint8)
    pixels[:, 8:] = 255
    path = tmp_path / f"picture.{suffix}"
    Image.fromarray(pixels).save(path)
    img = kernels.load_image(path)
    assert img.shape == (12, 16) and 0 <= img.min() and img.max() <= 1
    assert img[:, :6].max() < 0.05 and img[:, 10:].min() > 0.95  # JPEG ringing (decoder-dependent) stays near col 8


def test_load_image_errors(tmp_path):
    with pytest.raises(InputError, match="missing.png: image file not found"):
        kernels.load_image(tmp_path / "missing.png")
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(InputError, match="notes.png: not a readable image"):
        kernels.load_image(bad)


@pytest.mark.parametrize("shape, size, stride", [((4, 4), 2, None), ((7, 9), 3, 2), ((6, 6), 2, 1), ((5, 8), 3, None)])
def test_max_pool_forward_and_gradient_routing_match_torch_autograd(shape, size, stride):
    rng = np.random.default_rng(size * 10 + (stride or 0))
    x = rng.normal(size=shape)
    out, argmax = kernels.max_pool(x, size, stride)
    grad_out = rng.normal(size=out.shape)
    grad_in = kernels.max_pool_backward(grad_out, argmax, x.shape)

    tx = torch.from_numpy(x)[None, None].requires_grad_(True)
    tout, tidx = F.max_pool2d(tx, size, stride or size, return_indices=True)
    tout.backward(torch.from_numpy(grad_out)[None, None])
    np.testing.assert_array_equal(out, tout[0, 0].detach().numpy())
    np.testing.assert_array_equal(argmax, tidx[0, 0].numpy())
    # a cell's gradient is one upstream value or (overlapping windows) the sum of at most 4 in either order; no
    # sum here cancels below a quarter of its sum of magnitudes, so rounding stays under 2e-15 relative
    np.testing.assert_allclose(grad_in, tx.grad[0, 0].numpy(), rtol=1e-12)
    assert np.count_nonzero(grad_in) <= out.size  # only arg-max cells receive anything


def test_max_pool_ties_route_to_the_first_maximum_like_torch():
    x = np.ones((4, 4))
    _, argmax = kernels.max_pool(x, 2)
    _, tidx = F.max_pool2d(torch.from_numpy(x)[None, None], 2, return_indices=True)
    assert argmax.tolist() == tidx[0, 0].tolist() == [[0, 2], [8, 10]]


def _is_png(path: Path) -> tuple[int, int]:
    with Image.open(path) as img:
        assert img.format == "PNG"
        return img.size


def test_write_figures_with_a_user_image(tmp_path):
    picture = tmp_path / "photo.jpg"
    Image.fromarray((np.arange(64 * 48).reshape(48, 64) % 256).astype(np.uint8)).save(picture)
    paths = kernels.write_figures(tmp_path / "figs", picture)
    assert [p.name for p in paths] == [f"kernels_{name}.png" for name in kernels.FIGURES]
    for path in paths:
        width, height = _is_png(path)
        assert width > 300 and height > 200
    assert not list((tmp_path / "figs").glob("*.tmp*"))


def test_lecture_page_shows_every_figure():
    text = (DOCS / "lecture.md").read_text()
    shown = set(re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)", text))
    assert {f"figures/kernels_{name}.png" for name in kernels.FIGURES} <= shown
    for rel in shown:
        _is_png(DOCS / rel)


def test_cli_kernels_prints_the_walkthrough_and_writes_figures(cli, tmp_path):
    code, out, _ = cli("kernels")
    assert code == 0 and "feature map (4x4, 16 placements):\n-2 -2 -2 -2\n 2  2  2  2\n" in out
    code, out, err = cli("kernels", "--out", tmp_path / "figs", "--image", tmp_path / "missing.png")
    assert code == 2 and err.count("\n") == 1 and "missing.png: image file not found" in err
    code, _, err = cli("kernels", "--image", "photo.png")
    assert code == 2 and "--image needs --out FOLDER" in err
