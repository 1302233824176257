"""Image data sets: Fashion-MNIST from its IDX files, and a user's image files.

Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, MIT licence) is read from the four standard
IDX files in a folder (default: :func:`cache_dir`). When they are missing, they are
downloaded from the data set's official location and checked against the published MD5
sums; without a network, one line says which files to put where.

As in Geron (2022, ch. 10 and 14), the last 5,000 of the 60,000 training images are the
validation set, and the 10,000 test images are the test set.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.request
from pathlib import Path

import numpy as np

from seqcnn.data.sets import DataBundle, LabelledSet
from seqcnn.errors import InputError
from seqcnn.files import atomic_write_bytes
from seqcnn.io.idx import is_idx, read_idx
from seqcnn.io.images import read_image_folder, read_npz

FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

#: The four files and the MD5 sums published with the data set (of the gzipped files).
FASHION_FILES: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}

#: The official locations, tried in order; ``SEQCNN_FASHION_MNIST_URL`` replaces them (a mirror).
FASHION_URLS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)

#: Training images held out for validation (the last ones, as in the book).
FASHION_VALIDATION = 5000


def cache_dir(name: str = "fashion-mnist") -> Path:
    """Where downloaded data sets live: ``$SEQCNN_DATA/<name>``, else ``~/.cache/seqcnn/<name>``
    (``$XDG_CACHE_HOME`` replaces ``~/.cache``)."""
    if os.environ.get("SEQCNN_DATA"):
        return Path(os.environ["SEQCNN_DATA"]) / name
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "seqcnn" / name


def find_file(folder: Path, name: str) -> Path | None:
    """``folder/name`` or, for ``x.gz``, the uncompressed ``folder/x``; None when neither exists."""
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def download(url: str, dest: Path, md5: str, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` (atomically) and check its MD5.

    Raises:
        InputError: when the downloaded file's MD5 differs (the file is not kept).
        OSError: for network errors (``urllib.error.URLError`` is one).
    """
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http(s) URLs of our own)
        data = response.read()
    found = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if found != md5:
        raise InputError(f"{url}: checksum mismatch (MD5 {found}, expected {md5}); the file was not kept")
    atomic_write_bytes(dest, data)
    return dest


def fetch(
    folder: str | Path, files: dict[str, str], urls: tuple[str, ...] | None = None, progress: bool = True
) -> dict[str, Path]:
    """Make sure ``files`` are in ``folder``, downloading the missing ones.

    Args:
        folder: where the files are (created when a download is needed).
        files: file name -> MD5 of the file as published.
        urls: base URLs tried in order; default ``$SEQCNN_FASHION_MNIST_URL`` or :data:`FASHION_URLS`.
        progress: print a line per downloaded file on stderr.

    Returns:
        File name -> path of the file found or downloaded.

    Raises:
        InputError: when a file is missing and no URL delivers it, naming the files and the
            folder to put them in; or for a checksum mismatch.
    """
    folder = Path(folder)
    urls = urls or _urls()
    found = {name: find_file(folder, name) for name in files}
    for name in (n for n, path in found.items() if path is None):
        errors = []
        for base in urls:
            url = base.rstrip("/") + "/" + name
            try:
                if progress:
                    print(f"seqcnn: downloading {url}", file=sys.stderr)
                found[name] = download(url, folder / name, files[name])
                break
            except (
                OSError,
                ValueError,
            ) as exc:  # URLError is an OSError; ValueError: a malformed URL or a bad checksum
                errors.append(f"{base}: {getattr(exc, 'reason', exc)}")
        if found[name] is None:
            raise InputError(
                f"{folder}: {name} not found and could not be downloaded ({'; '.join(errors)}); "
                f"put {', '.join(files)} (gzipped or not) in {folder}, or give --data-dir FOLDER that holds them"
            )
    return found


def _urls() -> tuple[str, ...]:
    mirror = os.environ.get("SEQCNN_FASHION_MNIST_URL")
    return (mirror,) if mirror else FASHION_URLS


def read_fashion(folder: str | Path, download_missing: bool = True) -> tuple[LabelledSet, LabelledSet]:
    """Read Fashion-MNIST's training and test images from ``folder``.

    Returns:
        ``(train, test)``: 60,000 and 10,000 images, float32 ``(N, 1, 28, 28)`` in [0, 1],
        labelled 0-9 (see :data:`FASHION_CLASSES`).

    Raises:
        InputError: for missing files (see :func:`fetch`), or files that are not the
            expected IDX images and labels.
    """
    folder = Path(folder)
    if download_missing:
        paths = fetch(folder, FASHION_FILES)
    else:
        paths = {name: find_file(folder, name) or folder / name for name in FASHION_FILES}
    train = _labelled(
        paths["train-images-idx3-ubyte.gz"], paths["train-labels-idx1-ubyte.gz"], "train", FASHION_CLASSES
    )
    test = _labelled(paths["t10k-images-idx3-ubyte.gz"], paths["t10k-labels-idx1-ubyte.gz"], "test", FASHION_CLASSES)
    return train, test


def _labelled(images_path: Path, labels_path: Path, part: str, class_names: list[str] | None = None) -> LabelledSet:
    """Images ``(N, 1, H, W)`` in [0, 1] from an IDX images file and an IDX labels file."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise InputError(f"{images_path}: expected uint8 images (N, H, W), found {images.dtype} {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise InputError(
            f"{labels_path}: {labels.shape} labels for {len(images)} images in {images_path.name}; expected one per "
            "image"
        )
    if class_names and labels.max(initial=0) >= len(class_names):
        raise InputError(f"{labels_path}: label {labels.max()} found; expected 0-{len(class_names) - 1}")
    x = images[:, None].astype(np.float32) / 255.0  # (N, H, W) -> (N, 1, H, W)
    ids = [f"{part}:{i}" for i in range(len(images))]
    return LabelledSet(
        x,
        labels.astype(np.int64),
        ids,
        str(images_path),
        kind="image",
        class_names=list(class_names) if class_names else None,
    )


def fashion_mnist(seed: int = 0, data_dir: str | None = None) -> DataBundle:
    """The built-in ``fashion-mnist`` data set (``seqcnn train --dataset fashion-mnist``).

    Args:
        seed: unused (the split is fixed, as in the book).
        data_dir: folder of the four IDX files; default :func:`cache_dir`.

    Returns:
        A bundle of 55,000 training, 5,000 validation (the last of the training file) and
        10,000 test images, with ``fashion-cnn`` and the ``fashion`` recipe as defaults.
    """
    train, test = read_fashion(Path(data_dir) if data_dir else cache_dir())
    n = len(train) - FASHION_VALIDATION
    if n < 1:
        raise InputError(
            f"{train.source}: {len(train)} training images; Fashion-MNIST needs more than {FASHION_VALIDATION}"
        )
    return DataBundle(train.subset(np.arange(n)), test, default_model="fashion-cnn", default_recipe="fashion",
                      val=train.subset(np.arange(n, len(train))))


def read_images(path: str | Path, labels: str | Path | None = None, *,
                input_shape: tuple[int, int, int] | None = None, classes: list[str] | None = None) -> LabelledSet:
    """Read a user's images: a class-per-folder tree, a ``.npz`` file, or IDX images + labels.

    Args:
        path: a folder of ``<class>/<image>.png|jpg``, a ``.npz`` file, or an IDX images file.
        labels: the IDX labels file (for IDX images only).
        input_shape: ``(H, W, C)`` for a ``.npz`` of flat rows (``--input-shape``).
        classes: the class names a ``.npz``'s text labels must index (a test set's: the training set's).

    Raises:
        InputError: for unreadable files, or IDX images without an IDX labels file.
    """
    if is_idx(path):
        if labels is None:
            raise InputError(f"{path}: IDX images need their IDX labels file (--labels FILE)")
        return _labelled(Path(path), Path(labels), Path(path).name)
    arrays = read_npz(path, input_shape, classes=classes) if Path(path).is_file() else read_image_folder(path)
    return LabelledSet(arrays.x, arrays.labels, arrays.ids, str(path), kind="image", class_names=arrays.class_names)


def image_bundle(path: str | Path, labels: str | Path | None = None,
                 input_shape: tuple[int, int, int] | None = None) -> DataBundle:
    """A user's images (see :func:`read_images`) as a bundle, with the Fashion-MNIST model and recipe as defaults."""
    images = read_images(path, labels, input_shape=input_shape)
    return DataBundle(images, default_model="fashion-cnn", default_recipe="fashion")
