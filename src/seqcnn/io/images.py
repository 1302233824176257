"""Image files: a folder of PNG/JPEG images with one sub-folder per class, and ``.npz`` arrays.

Both readers return :class:`ImageArrays`: float32 images ``(N, C, H, W)`` in [0, 1], int64
labels and class names. Images in a folder must share one size and are read as grayscale
(``C = 1``) when every image is grayscale, else as RGB (``C = 3``). Pillow decodes the files;
nothing here executes code from a file (``.npz`` is read with ``allow_pickle=False``).
"""

from __future__ import annotations

import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError
from seqcnn.io.idx import is_idx

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
NPZ_IMAGE_KEYS = ("x", "images", "image", "x_train", "train_images", "data", "inputs", "features")
NPZ_LABEL_KEYS = ("y", "labels", "label", "y_train", "train_labels", "targets", "target")
NPZ_TEST_IMAGE_KEYS = ("x_test", "test_images", "images_test")
NPZ_TEST_LABEL_KEYS = ("y_test", "test_labels", "labels_test")


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
        raise InputError(f"{folder}: expected one sub-folder per class holding {'/'.join(IMAGE_SUFFIXES)} files, found none")
    files = [(path, label) for label, name in enumerate(classes) for path in _image_files(folder / name)]
    pictures = [_open_image(path) for path, _ in files]
    mode = "L" if all(p.mode in ("L", "1", "I;16", "I") for p in pictures) else "RGB"
    first_size = pictures[0].size
    arrays = []
    for (path, _), picture in zip(files, pictures):
        if picture.size != first_size:
            raise InputError(f"{path}: image is {picture.size[0]} x {picture.size[1]} pixels; expected {first_size[0]} x {first_size[1]} like {files[0][0]}")
        arrays.append(np.asarray(picture.convert(mode), dtype=np.uint8))
    x = np.stack(arrays)  # (N, H, W) or (N, H, W, 3)
    x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)  # -> (N, C, H, W)
    labels = np.array([label for _, label in files], dtype=np.int64)
    ids = [str(path.relative_to(folder)) for path, _ in files]
    return ImageArrays(x.astype(np.float32) / 255.0, labels, ids, classes)


def _open_image(path: Path):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as picture:
            picture.load()
            return picture
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{path}: not a readable image ({exc})") from None


def read_npz(path: str | Path, input_shape: tuple[int, int, int] | None = None, part: str = "train",
             classes: list[str] | None = None) -> ImageArrays:
    """Read images and labels from a ``.npz`` file, as people ship them.

    Keys are matched without regard to case. Images are under one of :data:`NPZ_IMAGE_KEYS`
    (``X``, ``x``, ``images``, ``x_train``, ...): integers 0-255 (scaled by 1/255) or floats in
    [0, 1], shaped ``(N, H, W)``, ``(N, C, H, W)``, ``(N, H, W, C)`` with C of 1, 3 or 4, or flat
    ``(N, H*W*C)`` rows reshaped by ``input_shape``. Labels are under one of
    :data:`NPZ_LABEL_KEYS` (``Y``, ``labels``, ``y_train``, ...): class indices ``(N,)``,
    one-hot rows ``(N, K)``, or class names (sorted by name). Class names, optionally, under
    ``class_names``. ``part="test"`` reads ``x_test``/``y_test`` (Keras's ``mnist.npz`` layout).
    No numpy warning reaches the user.

    Args:
        path: the file.
        input_shape: ``(H, W, C)`` for flat rows (``--input-shape H,W,C``).
        part: ``"train"`` or ``"test"``.
        classes: the class names text labels must index (the training set's, when reading a
            test set); None sorts the names found.

    Raises:
        InputError: for a missing key (naming the keys wanted for images and for labels), a bad
            shape or value range, or labels that are not class indices, one-hot rows or names,
            naming the file and key.
    """
    path = Path(path)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        arrays = _load_npz(path)
        test = part == "test"
        image_keys, label_keys = (NPZ_TEST_IMAGE_KEYS, NPZ_TEST_LABEL_KEYS) if test else (NPZ_IMAGE_KEYS, NPZ_LABEL_KEYS)
        x_key = _find_key(arrays, image_keys, path, "images", label_keys)
        y_key = _find_key(arrays, label_keys, path, "labels", image_keys)
        x = _channels_first(_unflatten(arrays[x_key], input_shape, f"{path} [{x_key}]"), f"{path} [{x_key}]")
        labels, names = _npz_labels(arrays[y_key], len(x), f"{path} [{y_key}]", classes)
        name_key = next((k for k in arrays if k.lower() in ("class_names", "classes")), None)
        if name_key is not None:
            names = [str(n) for n in np.asarray(arrays[name_key]).ravel()]
            if labels.size and labels.max() >= len(names):
                raise InputError(f"{path} [{name_key}]: {len(names)} class names, but labels go up to {labels.max()}")
    return ImageArrays(x, labels, [f"{path.name}:{i}" for i in range(len(x))], names)


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # a truncated, foreign or pickled file
        raise InputError(f"{path}: not a readable .npz file ({exc})") from None


def _find_key(arrays: dict, keys: tuple[str, ...], path: Path, what: str, other: tuple[str, ...] = ()) -> str:
    folded = {key.lower(): key for key in arrays}
    for key in keys:
        if key in folded:
            return folded[key]
    wanted = f"one of the keys {list(keys)} (any case)"
    both = f"; and for {'labels' if what == 'images' else 'images'} one of {list(other)}" if other else ""
    raise InputError(f"{path}: no {what} array; expected {wanted}{both}; found {sorted(arrays)}")


def _unflatten(x: np.ndarray, input_shape: tuple[int, int, int] | None, where: str) -> np.ndarray:
    """Flat rows ``(N, H*W*C)`` -> ``(N, H, W, C)`` by ``input_shape``."""
    if x.ndim != 2:
        return x
    if input_shape is None:
        side = int(round(np.sqrt(x.shape[1])))
        hint = f" (e.g. --input-shape {side},{side},1)" if side * side == x.shape[1] else ""
        raise InputError(f"{where}: images are flat rows of {x.shape[1]} values {x.shape}; expected (N, H, W), "
                         f"(N, C, H, W) or (N, H, W, C) images, or flat rows with --input-shape H,W,C{hint}")
    h, w, c = input_shape
    if h * w * c != x.shape[1]:
        raise InputError(f"{where}: --input-shape {h},{w},{c} holds {h * w * c} values, but each row has {x.shape[1]}")
    return x.reshape(len(x), h, w, c)  # (N, H*W*C) -> (N, H, W, C), numpy's row-major order


def _channels_first(x: np.ndarray, where: str) -> np.ndarray:
    """Images to float32 ``(N, C, H, W)`` in [0, 1]."""
    if x.ndim == 3:
        x = x[:, None]  # (N, H, W) -> (N, 1, H, W)
    elif x.ndim == 4 and x.shape[1] not in (1, 3, 4) and x.shape[3] in (1, 3, 4):
        x = x.transpose(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    elif x.ndim != 4 or x.shape[1] not in (1, 3, 4):
        raise InputError(f"{where}: images have shape {x.shape}; expected (N, H, W), (N, C, H, W) or (N, H, W, C) "
                         "with C of 1, 3 or 4, or flat rows with --input-shape H,W,C")
    if np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_:
        if x.size and (x.min() < 0 or x.max() > 255):
            raise InputError(f"{where}: integer images must lie in 0-255, found values from {x.min()} to {x.max()}")
        return x.astype(np.float32) / (1.0 if x.dtype == np.bool_ else 255.0)
    if not np.issubdtype(x.dtype, np.floating):
        raise InputError(f"{where}: images have dtype {x.dtype}; expected integers 0-255 or floats in [0, 1]")
    if x.size and (np.isnan(x).any() or np.nanmin(x) < 0 or np.nanmax(x) > 1):
        low, high = (np.nanmin(x), np.nanmax(x)) if not np.isnan(x).all() else (np.nan, np.nan)
        raise InputError(f"{where}: float images must lie in [0, 1] without NaN, found values from {low:g} to {high:g}")
    return np.ascontiguousarray(x, dtype=np.float32)


def _npz_labels(y: np.ndarray, n: int, where: str, classes: list[str] | None) -> tuple[np.ndarray, list[str] | None]:
    """Labels as int64 ``(N,)`` class indices, and class names when the labels are names."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]  # (N, 1) -> (N,)
    if y.ndim == 2 and len(y) == n and np.issubdtype(y.dtype, np.number):
        return _one_hot(y, where), None
    if y.ndim != 1 or len(y) != n:
        raise InputError(f"{where}: {y.shape} labels for {n} images; expected one label per image: class indices "
                         "(N,), one-hot rows (N, K) or class names")
    if y.dtype == np.bool_:
        y = y.astype(np.int64)
    if y.dtype.kind in "US":
        names = list(classes) if classes is not None else sorted({str(v) for v in y})
        index = {name: i for i, name in enumerate(names)}
        unknown = sorted({str(v) for v in y} - set(index))
        if unknown:
            raise InputError(f"{where}: label {unknown[0]!r} is not one of the classes {', '.join(names)}")
        return np.array([index[str(v)] for v in y], dtype=np.int64), names
    return _class_indices(y, n, where), None


def _one_hot(y: np.ndarray, where: str) -> np.ndarray:
    """One-hot rows ``(N, K)`` -> class indices ``(N,)``."""
    ones = (y == 1).sum(axis=1)
    bad = np.flatnonzero((ones != 1) | (((y != 0) & (y != 1)).any(axis=1)))
    if bad.size:
        row = y[bad[0]][:10].tolist()
        raise InputError(f"{where}: labels have shape {y.shape} but row {bad[0]} is not one-hot ({row}); "
                         "expected class indices (N,) or rows with a single 1")
    return y.argmax(axis=1).astype(np.int64)


def _class_indices(y: np.ndarray, n: int, where: str) -> np.ndarray:
    """Labels as int64 ``(N,)`` class indices."""
    numeric = np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)
    if not numeric or (y < 0).any() or (y != np.round(y)).any() or np.isnan(y.astype(float)).any():
        low, high = (y.min(), y.max()) if numeric and y.size else ("?", "?")
        raise InputError(f"{where}: labels must be class indices 0, 1, ...; "
                         f"found dtype {y.dtype}, values from {low} to {high}")
    return y.astype(np.int64)
