"""The lecture's hand-made kernels: the 6x6 walk-through, box blur, Sobel, max-pool gradient routing.

What a CNN calls convolution is cross-correlation: the kernel slides over the input without
being flipped, and each output cell is the sum of the element-wise product of the kernel with
the patch it covers::

    out[i, j] = sum_{a, b} x[i * s + a, j * s + b] * k[a, b]        (x zero-padded first)

:func:`correlate` does exactly this with plain loops, as a reference that can be read line by
line; :func:`correlate_torch` does it with ``torch.nn.functional.conv2d``, and the tests check
that the two agree. Sizes, padding and placements come from :mod:`seqcnn.lecture.arithmetic`.

The figures (matrices with their numbers in the cells, the kernel's placements, padding and
stride, image filters, max-pool routing) are drawn with matplotlib, imported only when a
figure is drawn.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError
from seqcnn.files import atomic_write_bytes
from seqcnn.lecture.arithmetic import window

#: The lecture's vertical-edge kernel.
VERTICAL_EDGE = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float)
#: Sobel kernels: the first responds to vertical edges (a change from left to right), the
#: second to horizontal edges (a change from top to bottom).
SOBEL_VERTICAL = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)
SOBEL_HORIZONTAL = SOBEL_VERTICAL.T.copy()


def lecture_input() -> np.ndarray:
    """The lecture's 6x6 matrix: rows alternate 1..6 and 6..1. Shape ``(6, 6)``."""
    up = np.arange(1, 7, dtype=float)
    return np.stack([up if row % 2 == 0 else up[::-1] for row in range(6)])


def box_blur(size: int = 7) -> np.ndarray:
    """A ``size`` x ``size`` kernel of ``1 / size**2`` (the lecture's 7x7 box blur uses 1/49)."""
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise InputError(
            f"Invalid value for argument `size`. Expected a strictly positive integer. Received size={size!r}"
        )
    return np.full((size, size), 1.0 / size**2)


def _check_matrix(name: str, m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=float)
    if m.ndim != 2 or 0 in m.shape:
        raise InputError(f"{name} must be a non-empty 2D matrix (height, width), got shape {m.shape}")
    return m


def correlate(
    x: np.ndarray, kernel: np.ndarray, stride: int | tuple[int, int] = 1, padding: str | int = 0
) -> np.ndarray:
    """Slide ``kernel`` over ``x`` with plain loops: the teaching reference.

    Args:
        x: input matrix, shape ``(H, W)``.
        kernel: kernel, shape ``(kH, kW)``; not flipped (cross-correlation, as in CNNs).
        stride: step, one for both axes or ``(rows, columns)``.
        padding: zeros around ``x``: an integer, or ``"valid"``, ``"same"``, ``"half"``, ``"full"``.

    Returns:
        The feature map, shape ``(H_out, W_out)`` as :func:`seqcnn.lecture.arithmetic.window` gives.

    Raises:
        InputError: when ``x`` or ``kernel`` is not a non-empty matrix.
        SpecError: when the kernel is larger than the padded input, or a size is not positive.
    """
    x, kernel = _check_matrix("input", x), _check_matrix("kernel", kernel)
    geometry = window(x.shape, kernel.shape, stride, padding)
    padded = np.pad(x, geometry.padding)
    (s_row, s_col), (k_rows, k_cols) = geometry.stride, kernel.shape
    out = np.zeros(geometry.output)
    for i in range(geometry.output[0]):
        for j in range(geometry.output[1]):
            total = 0.0
            for a in range(k_rows):
                for b in range(k_cols):
                    total += padded[i * s_row + a, j * s_col + b] * kernel[a, b]
            out[i, j] = total
    return out


def correlate_torch(
    x: np.ndarray, kernel: np.ndarray, stride: int | tuple[int, int] = 1, padding: str | int = 0
) -> np.ndarray:
    """The same as :func:`correlate`, computed by ``torch.nn.functional.conv2d`` (float64)."""
    # torch takes seconds to import: only when tensors are needed
    import torch
    import torch.nn.functional as F

    x, kernel = _check_matrix("input", x), _check_matrix("kernel", kernel)
    geometry = window(x.shape, kernel.shape, stride, padding)
    (top, bottom), (left, right) = geometry.padding
    inp = F.pad(torch.from_numpy(x)[None, None], (left, right, top, bottom))  # (1, 1, H + pads, W + pads)
    out = F.conv2d(inp, torch.from_numpy(kernel)[None, None], stride=geometry.stride)
    return out[0, 0].numpy()


def placements(shape: tuple[int, int], kernel: tuple[int, int], stride: int | tuple[int, int] = 1,
               padding: str | int = 0) -> list[tuple[int, int]]:
    """Top-left corner of every kernel placement, in padded coordinates, row by row.

    Raises:
        SpecError: when the kernel does not fit the padded input.
    """
    geometry = window(tuple(shape), tuple(kernel), stride, padding)
    s_row, s_col = geometry.stride
    return [(i * s_row, j * s_col) for i in range(geometry.output[0]) for j in range(geometry.output[1])]


def filter_image(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Filter a grayscale image with ``kernel``; the output keeps the image's size.

    Borders are padded by repeating the edge pixels (not zeros, which would darken a blurred
    border and draw false edges around the frame).

    Args:
        image: grayscale image, shape ``(H, W)``.
        kernel: shape ``(kH, kW)``.

    Returns:
        Filtered image, shape ``(H, W)``.
    """
    # torch takes seconds to import: only when tensors are needed
    import torch
    import torch.nn.functional as F

    image, kernel = _check_matrix("image", image), _check_matrix("kernel", kernel)
    (top, bottom), (left, right) = window(image.shape, kernel.shape, 1, "same").padding
    inp = F.pad(torch.from_numpy(image)[None, None], (left, right, top, bottom), mode="replicate")
    return F.conv2d(inp, torch.from_numpy(kernel)[None, None])[0, 0].numpy()


def load_image(path: str | Path) -> np.ndarray:
    """Read a PNG or JPEG (any format Pillow reads) as grayscale in [0, 1], shape ``(H, W)``.

    Raises:
        InputError: for a missing file or one that is not an image.
    """
    # Pillow: only when images are read
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: image file not found")
    try:
        with Image.open(path) as img:
            gray = img.convert("L")
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{path}: not a readable image (expected PNG or JPEG): {exc}") from None
    return np.asarray(gray, dtype=float) / 255.0


def synthetic_image(size: int = 96) -> np.ndarray:
    """A built-in test picture: a bright square, a disc, vertical stripes and a gradient.

    Returns:
        Grayscale image in [0, 1], shape ``(size, size)``.
    """
    rows, cols = np.mgrid[0:size, 0:size] / size
    img = 0.15 + 0.2 * cols  # a soft left-to-right gradient
    img[(rows > 0.1) & (rows < 0.45) & (cols > 0.1) & (cols < 0.45)] = 0.9
    img[(rows - 0.7) ** 2 + (cols - 0.3) ** 2 < 0.18**2] = 0.6
    stripes = (rows > 0.55) & (rows < 0.9) & (cols > 0.6) & (cols < 0.9)
    img[stripes & (np.floor(cols * size / 4) % 2 == 0)] = 1.0
    return img


def max_pool(x: np.ndarray, size: int = 2, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling with plain loops, remembering where each maximum came from.

    Args:
        x: input matrix, shape ``(H, W)``.
        size: window size (square).
        stride: step; the window size when None (non-overlapping windows).

    Returns:
        ``(out, argmax)``: the pooled matrix, shape ``(H_out, W_out)``, and for each output
        cell the flat index into ``x`` of its maximum (the first one on ties, as torch).
    """
    x = _check_matrix("input", x)
    geometry = window(x.shape, (size, size), stride or size)
    step = geometry.stride[0]
    out, argmax = np.zeros(geometry.output), np.zeros(geometry.output, dtype=np.int64)
    for i in range(geometry.output[0]):
        for j in range(geometry.output[1]):
            patch = x[i * step:i * step + size, j * step:j * step + size]
            a, b = np.unravel_index(int(np.argmax(patch)), patch.shape)
            out[i, j] = patch[a, b]
            argmax[i, j] = (i * step + a) * x.shape[1] + j * step + b
    return out, argmax


def max_pool_backward(grad_out: np.ndarray, argmax: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Route the gradient of a max pool back to its input: each window's gradient goes to its arg-max only.

    Args:
        grad_out: gradient of the loss with respect to the pooled output, shape ``(H_out, W_out)``.
        argmax: the flat indices returned by :func:`max_pool`.
        shape: the input's shape ``(H, W)``.

    Returns:
        Gradient with respect to the input, shape ``(H, W)``: zero except at arg-max cells
        (overlapping windows add up where they share an arg-max).
    """
    grad = np.zeros(int(np.prod(shape)))
    np.add.at(grad, np.asarray(argmax).ravel(), np.asarray(grad_out, dtype=float).ravel())
    return grad.reshape(shape)


def format_matrix(m: np.ndarray) -> str:
    """A matrix as aligned text, integers without decimals."""
    cells = [[f"{v:g}" for v in row] for row in np.asarray(m)]
    width = max(len(c) for row in cells for c in row)
    return "\n".join(" ".join(c.rjust(width) for c in row) for row in cells)


# --- figures ---------------------------------------------------------------------------------

def _pyplot():
    # matplotlib is slow to import: only to draw
    import matplotlib

    matplotlib.use("Agg")
    # matplotlib is slow to import: only to draw
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def draw_matrix(ax, m: np.ndarray, title: str = "", highlight: set[tuple[int, int]] = frozenset(),
                color: str = "#f4c542", offset: tuple[int, int] = (0, 0)) -> None:
    """Draw ``m`` as a grid with each value written in its cell; ``highlight`` cells are coloured.

    ``offset`` shifts the grid (to draw an input inside its padding).
    """
    # matplotlib is slow to import: only to draw
    from matplotlib.patches import Rectangle

    m = np.asarray(m)
    for (i, j), value in np.ndenumerate(m):
        face = color if (i, j) in highlight else "white"
        ax.add_patch(Rectangle((j + offset[1], i + offset[0]), 1, 1, facecolor=face, edgecolor="black", linewidth=1))
        ax.text(j + offset[1] + 0.5, i + offset[0] + 0.5, f"{value:g}", ha="center", va="center", fontsize=10)
    _frame(ax, m.shape[0] + offset[0], m.shape[1] + offset[1], title)


def _frame(ax, rows: int, cols: int, title: str, low: float = 0) -> None:
    ax.set_xlim(low - 0.1, cols + 0.1)
    ax.set_ylim(rows + 0.1, low - 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)


def figure_walkthrough(path: str | Path) -> Path:
    """The lecture's example: 6x6 input * vertical-edge kernel = 4x4 feature map, numbers in cells."""
    plt = _pyplot()
    x = lecture_input()
    out = correlate(x, VERTICAL_EDGE)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4), gridspec_kw={"width_ratios": [6, 3, 4]})
    draw_matrix(axes[0], x, "input 6x6", highlight={(a, b) for a in range(3) for b in range(3)})
    draw_matrix(
        axes[1],
        VERTICAL_EDGE,
        "kernel 3x3 (vertical edge)",
        color="#9fd3f5",
        highlight={(a, b) for a in range(3) for b in range(3)},
    )
    draw_matrix(axes[2], out, "feature map 4x4", highlight={(0, 0)})
    fig.text(0.49, 0.5, "*", fontsize=24, ha="center", va="center")
    fig.text(0.70, 0.5, "=", fontsize=24, ha="center", va="center")
    fig.suptitle("1*1 + 2*0 + 3*(-1) + 6*1 + 5*0 + 4*(-1) + 1*1 + 2*0 + 3*(-1) = -2 (highlighted)", fontsize=9, y=0.02)
    return _save(fig, path)


def figure_placements(path: str | Path) -> Path:
    """All 16 placements of a 3x3 kernel on the 6x6 input, covered cells highlighted, with each result."""
    plt = _pyplot()
    x = lecture_input()
    out = correlate(x, VERTICAL_EDGE)
    corners = placements(x.shape, VERTICAL_EDGE.shape)
    fig, axes = plt.subplots(4, 4, figsize=(10, 10.6))
    for n, (ax, (top, left)) in enumerate(zip(axes.ravel(), corners)):
        covered = {(top + a, left + b) for a in range(3) for b in range(3)}
        draw_matrix(ax, x, f"#{n + 1}: out[{n // 4},{n % 4}] = {out[n // 4, n % 4]:g}", highlight=covered)
    fig.suptitle("6x6 input, 3x3 kernel, no padding, stride 1: 4 x 4 = 16 placements", fontsize=12)
    return _save(fig, path)


def figure_padding(path: str | Path, size: int = 5, kernel: int = 3) -> Path:
    """Padding none, half and full, and stride 2, on the same input grid.

    Input cells are blue, padding cells dashed; the first placement of the kernel is outlined
    and a dot marks the centre of every placement (one dot per output cell).
    """
    # matplotlib is slow to import: only to draw
    from matplotlib.patches import Rectangle

    plt = _pyplot()
    cases = [
        ("no padding", "valid", 1),
        ("half padding", "half", 1),
        ("full padding", "full", 1),
        ("half padding, stride 2", "half", 2),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(14, 4))
    widest = size + 2 * (kernel - 1)  # full padding; every panel uses this frame, the input stays put
    for ax, (label, padding, stride) in zip(axes, cases):
        geometry = window((size, size), (kernel, kernel), stride, padding)
        pad = geometry.padding[0][0]
        total, shift = size + 2 * pad, kernel - 1 - pad
        for i in range(total):
            for j in range(total):
                inside = pad <= i < pad + size and pad <= j < pad + size
                ax.add_patch(
                    Rectangle(
                        (j + shift, i + shift),
                        1,
                        1,
                        facecolor="#9fd3f5" if inside else "white",
                        edgecolor="black" if inside else "grey",
                        linestyle="-" if inside else "--",
                        linewidth=0.8,
                    )
                )
        ax.add_patch(Rectangle((shift, shift), kernel, kernel, fill=False, edgecolor="#d62728", linewidth=2.5))
        for top, left in placements((size, size), (kernel, kernel), stride, padding):
            ax.plot(left + shift + kernel / 2, top + shift + kernel / 2, "o", color="#d62728", markersize=4)
        out = "x".join(map(str, geometry.output))
        _frame(ax, widest, widest, f"{label}: pad {pad}, stride {stride}\n{size}x{size} -> {out}")
    fig.suptitle(f"a {kernel}x{kernel} kernel on a {size}x{size} input (dots: centre of each placement)", fontsize=12)
    return _save(fig, path)


def figure_filters(path: str | Path, image: np.ndarray | None = None) -> Path:
    """Original image beside its 7x7 box blur and its Sobel vertical and horizontal edges."""
    plt = _pyplot()
    image = synthetic_image() if image is None else _check_matrix("image", image)
    panels = [("original", image, "gray"), ("box blur 7x7 (1/49)", filter_image(image, box_blur(7)), "gray"),
              ("Sobel: vertical edges", filter_image(image, SOBEL_VERTICAL), "RdBu_r"),
              ("Sobel: horizontal edges", filter_image(image, SOBEL_HORIZONTAL), "RdBu_r")]
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.8))
    for ax, (title, img, cmap) in zip(axes, panels):
        limit = np.abs(img).max() or 1.0
        kwargs = {"vmin": 0, "vmax": 1} if cmap == "gray" else {"vmin": -limit, "vmax": limit}
        ax.imshow(img, cmap=cmap, **kwargs)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    return _save(fig, path)


def maxpool_example() -> np.ndarray:
    """The 4x4 matrix used to show max pooling, shape ``(4, 4)``."""
    return np.array([[1, 3, 2, 1], [4, 2, 0, 5], [3, 1, 1, 2], [0, 6, 4, 3]], dtype=float)


def figure_maxpool(path: str | Path) -> Path:
    """Max pooling 2x2 forward (arg-max cells highlighted) and backward (gradient only at the arg-max)."""
    plt = _pyplot()
    x = maxpool_example()
    out, argmax = max_pool(x, 2)
    grad_out = np.array([[0.1, 0.2], [0.3, 0.4]])
    grad_in = max_pool_backward(grad_out, argmax, x.shape)
    winners = {divmod(int(i), x.shape[1]) for i in argmax.ravel()}
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), gridspec_kw={"width_ratios": [4, 2, 2, 4]})
    draw_matrix(axes[0], x, "input 4x4 (arg-max of each window)", highlight=winners)
    draw_matrix(axes[1], out, "max pool 2x2", highlight=set(np.ndindex(out.shape)))
    draw_matrix(axes[2], grad_out, "gradient from above", color="#f5a59f", highlight=set(np.ndindex(out.shape)))
    draw_matrix(axes[3], grad_in, "gradient to the input", color="#f5a59f", highlight=winners)
    fig.suptitle(
        "forward: each window keeps its maximum; backward: its gradient goes to that cell only", fontsize=10, y=0.02
    )
    return _save(fig, path)


FIGURES = ("walkthrough", "placements", "padding", "filters", "maxpool")


def write_figures(out_dir: str | Path, image: str | Path | None = None) -> list[Path]:
    """Write every lecture figure as PNG into ``out_dir``.

    Args:
        out_dir: folder (created if missing).
        image: a PNG or JPEG to filter; the built-in synthetic image when None.

    Returns:
        The paths written: ``kernels_<name>.png`` for each name in :data:`FIGURES`.

    Raises:
        InputError: when ``image`` cannot be read.
    """
    picture = load_image(image) if image is not None else None
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        figure_walkthrough(out_dir / "kernels_walkthrough.png"),
        figure_placements(out_dir / "kernels_placements.png"),
        figure_padding(out_dir / "kernels_padding.png"),
        figure_filters(out_dir / "kernels_filters.png", picture),
        figure_maxpool(out_dir / "kernels_maxpool.png"),
    ]
