"""Image files: a folder of PNG/JPEG images with one sub-folder per class, and ``.npz`` arrays.

Both readers return :class:`ImageArrays`: float32 images ``(N, C, H, W)`` in [0, 1], int64
labels and class names. Images in a folder must share one size and are read as grayscale
(``C = 1``) when every image is grayscale, else as RGB (``C = 3``). Pillow decodes the files;
nothing here executes code from a file (``.npz`` is read with ``allow_pickle=False``).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError
from seqcnn.io.idx import is_idx

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
NPZ_IMAGE_KEYS = ("x", "images", "x_train")
NPZ_LABEL_KEYS = ("y", "labels", "y_train")


@dataclass
class ImageArrays:
    """Images and labels read from files.

    Attributes:
        x: float32 images ``(N, C, H, W)`` in [0, 1].
        labels: int64 class indices ``(N,)``.
        ids: one id per image (its path relative to the folder, or ``"<file>:<i>"``).
        class_names: a name per class, or None when the file gives none.
    """

    x: np.ndarray
    labels: np.ndarray
    ids: list[str]
    class_names: list[str] | None


def is_image_source(path: str | Path) -> bool:
    """True for a ``.npz`` file, an IDX file, or a folder whose sub-folders hold PNG/JPEG files."""
    path = Path(path)
    if path.is_file():
        return path.suffix.lower() == ".npz" or is_idx(path)
    return path.is_dir() and any(_image_files(d) for d in path.iterdir() if d.is_dir())


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_image_folder(folder: str | Path) -> ImageArrays:
    """Read ``folder/<class>/<image>.png|jpg``; classes are the sub-folder names, sorted.

    Returns:
        The images ``(N, C, H, W)`` with labels indexing the sorted class names.

    Raises:
        InputError: for a folder without class sub-folders of images, an unreadable image,
            or images of different sizes (naming the first that differs).
    """
    folder = Path(folder)
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir() and _image_files(d)) if folder.is_dir() else []
    if len(classes) < 1:
        raise InputError(
            f"{folder}: expected one sub-folder per class holding {'/'.join(IMAGE_SUFFIXES)} files, found none"
        )
    files = [(path, label) for label, name in enumerate(classes) for path in _image_files(folder / name)]
    pictures = [_open_image(path) for path, _ in files]
    mode = "L" if all(p.mode in ("L", "1", "I;16", "I") for p in pictures) else "RGB"
    first_size = pictures[0].size
    arrays = []
    for (path, _), picture in zip(files, pictures):
        if picture.size != first_size:
            raise InputError(
                f"{path}: image is {picture.size[0]} x {picture.size[1]} pixels; expected {first_size[0]} x "
                f"{first_size[1]} like {files[0][0]}"
            )
        arrays.append(np.asarray(picture.convert(mode), dtype=np.uint8))
    x = np.stack(arrays)  # (N, H, W) or (N, H, W, 3)
    x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)  # -> (N, C, H, W)
    labels = np.array([label for _, label in files], dtype=np.int64)
    ids = [str(path.relative_to(folder)) for path, _ in files]
    return ImageArrays(x.astype(np.float32) / 255.0, labels, ids, classes)


def _open_image(path: Path):
    # Pillow: only when images are read
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as picture:
            picture.load()
            return picture
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{path}: not a readable image ({exc})") from None


def read_npz(path: str | Path) -> ImageArrays:
    """Read images and labels from a ``.npz`` file.

    Images are under ``x``, ``images`` or ``x_train``: uint8 (scaled by 1/255) or floats in
    [0, 1], shaped ``(N, H, W)``, ``(N, C, H, W)`` or ``(N, H, W, C)`` with C of 1, 3 or 4.
    Labels are under ``y``, ``labels`` or ``y_train``; class names, optionally, under
    ``class_names``.

    Raises:
        InputError: for a missing key, a bad shape or value range, or labels that are not
            class indices, naming the file and key.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # a truncated or foreign file
        raise InputError(f"{path}: not a readable .npz file ({exc})") from None
    x_key = _find_key(arrays, NPZ_IMAGE_KEYS, path, "images")
    y_key = _find_key(arrays, NPZ_LABEL_KEYS, path, "labels")
    x = _channels_first(arrays[x_key], f"{path} [{x_key}]")
    labels = _class_indices(arrays[y_key], len(x), f"{path} [{y_key}]")
    names = [str(n) for n in arrays["class_names"]] if "class_names" in arrays else None
    return ImageArrays(x, labels, [f"{path.name}:{i}" for i in range(len(x))], names)


def _find_key(arrays: dict, keys: tuple[str, ...], path: Path, what: str) -> str:
    for key in keys:
        if key in arrays:
            return key
    raise InputError(f"{path}: no {what} array; expected one of the keys {list(keys)}, found {sorted(arrays)}")


def _channels_first(x: np.ndarray, where: str) -> np.ndarray:
    """Images to float32 ``(N, C, H, W)`` in [0, 1]."""
    if x.ndim == 3:
        x = x[:, None]  # (N, H, W) -> (N, 1, H, W)
    elif x.ndim == 4 and x.shape[1] not in (1, 3, 4) and x.shape[3] in (1, 3, 4):
        x = x.transpose(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    elif x.ndim != 4 or x.shape[1] not in (1, 3, 4):
        raise InputError(
            f"{where}: images have shape {x.shape}; expected (N, H, W), (N, C, H, W) or (N, H, W, C) with C of 1, 3 "
            "or 4"
        )
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    if not np.issubdtype(x.dtype, np.floating):
        raise InputError(f"{where}: images have dtype {x.dtype}; expected uint8 (0-255) or floats in [0, 1]")
    if x.size and (np.nanmin(x) < 0 or np.nanmax(x) > 1 or np.isnan(x).any()):
        raise InputError(
            f"{where}: float images must lie in [0, 1], found values from {np.nanmin(x):g} to {np.nanmax(x):g}"
        )
    return np.ascontiguousarray(x, dtype=np.float32)


def _class_indices(y: np.ndarray, n: int, where: str) -> np.ndarray:
    """Labels as int64 ``(N,)`` class indices."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]  # (N, 1) -> (N,)
    if y.ndim != 1 or len(y) != n:
        raise InputError(f"{where}: {y.shape} labels for {n} images; expected one label per image")
    numeric = np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)
    if not numeric or (y < 0).any() or (y != np.round(y)).any():
        raise InputError(
            f"{where}: labels must be class indices 0, 1, ...; found dtype {y.dtype}, values from {y.min()} to "
            f"{y.max()}"
        )
    return y.astype(np.int64)
