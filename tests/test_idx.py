"""IDX reading and writing, and Fashion-MNIST's download path (a local HTTP server, never the network)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from seqcnn.data import image_sets
from seqcnn.errors import InputError
from seqcnn.io.idx import idx_bytes, is_idx, read_idx, write_idx

FASHION = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
def test_idx_round_trip_gzipped_or_not(tmp_path, dtype, name):
    array = (np.arange(2 * 3 * 5) * 7 % 251 - (100 if dtype != "uint8" else 0)).astype(dtype).reshape(2, 3, 5)
    path = write_idx(tmp_path / name, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    assert is_idx(path)


def test_idx_header_is_big_endian():
    data = idx_bytes(np.zeros((3, 258), dtype=np.int32))
    assert data[:4] == b"\x00\x00\x0c\x02" and data[4:12] == b"\x00\x00\x00\x03\x00\x00\x01\x02"


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x01\x02\x08\x01\x00\x00\x00\x01\x00", "magic number"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "unknown IDX type code 0x07"),
        (b"\x00\x00\x08\x02\x00\x00\x00\x02", "2 dimensions"),
        (
            b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02",
            r"shape \(5,\) \(13 bytes with the header\), but the file has 10 bytes",
        ),
        (b"", "magic number"),
    ],
)
def test_bad_idx_files_name_the_file_and_the_problem(tmp_path, payload, message):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(payload)
    with pytest.raises(InputError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip_is_an_input_error(tmp_path):
    path = tmp_path / "x-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8)))[:40])
    with pytest.raises(InputError, match="gzip"):
        read_idx(path)


def test_text_files_are_not_idx(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("0\n1\n")
    assert not is_idx(path) and not is_idx(tmp_path / "missing")


def test_real_fashion_mnist_files():
    if not (FASHION / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip(f"real data not found at {FASHION}")
    labels = read_idx(FASHION / "train-labels-idx1-ubyte.gz")
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == [6000] * 10
    test = read_idx(FASHION / "t10k-images-idx3-ubyte.gz")
    assert test.shape == (10000, 28, 28) and test.dtype == np.uint8 and test.max() == 255


# --- the download path, against a local server ---------------------------------------------


def small_fashion(folder: Path, n_train: int = 5010, n_test: int = 20) -> dict[str, str]:
    """Tiny IDX files named like Fashion-MNIST's; returns name -> MD5 of the gzipped file."""
    rng = np.random.default_rng(0)
    parts = {"train": n_train, "t10k": n_test}
    for part, n in parts.items():
        write_idx(folder / f"{part}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{part}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/www on 127.0.0.1; yields (base URL, list of requested paths)."""
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/data/", root, requests
    httpd.shutdown()
    httpd.server_close()


def test_fashion_mnist_downloads_missing_files_and_checks_them(tmp_path, server, monkeypatch):
    url, root, requests = server
    (root / "data").mkdir()
    sums = small_fashion(root / "data")
    monkeypatch.setattr(image_sets, "FASHION_FILES", sums)
    monkeypatch.setenv("SEQCNN_FASHION_MNIST_URL", url)
    folder = tmp_path / "cache"
    bundle = image_sets.fashion_mnist(0, str(folder))
    assert sorted(p.name for p in folder.iterdir()) == sorted(sums)
    assert len(requests) == 4
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (10, 5000, 20)
    assert bundle.train.class_names[9] == "Ankle boot" and bundle.default_model == "fashion-cnn"
    image_sets.fashion_mnist(0, str(folder))  # present now: no second download
    assert len(requests) == 4


def test_checksum_mismatch_keeps_nothing(tmp_path, server):
    url, root, _ = server
    (root / "data").mkdir()
    sums = small_fashion(root / "data")
    name = "t10k-labels-idx1-ubyte.gz"
    with pytest.raises(InputError, match="checksum mismatch"):
        image_sets.fetch(tmp_path / "cache", {name: "0" * 32}, urls=(url,), progress=False)
    assert not (tmp_path / "cache" / name).exists()
    assert image_sets.fetch(tmp_path / "cache", {name: sums[name]}, urls=(url,), progress=False)[name].is_file()


def test_unreachable_source_says_what_to_put_where(tmp_path, monkeypatch):
    with socket.socket() as sock:  # a port with no server behind it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("SEQCNN_FASHION_MNIST_URL", f"http://127.0.0.1:{port}/")
    folder = tmp_path / "empty"
    with pytest.raises(InputError) as info:
        image_sets.fashion_mnist(0, str(folder))
    message = str(info.value)
    assert "\n" not in message and str(folder) in message and "--data-dir" in message
    assert all(name in message for name in image_sets.FASHION_FILES)


def test_uncompressed_files_are_found_without_download(tmp_path, monkeypatch):
    sums = small_fashion(tmp_path, n_train=5003, n_test=4)
    for name in sums:  # gunzip in place
        path = tmp_path / name
        path.with_suffix("").write_bytes(gzip.decompress(path.read_bytes()))
        path.unlink()
    monkeypatch.setenv("SEQCNN_FASHION_MNIST_URL", "http://127.0.0.1:9/")  # would fail if used
    train, test = image_sets.read_fashion(tmp_path)
    assert train.x.shape == (5003, 1, 28, 28) and test.labels.tolist() == [0, 1, 2, 3]
    assert train.x.dtype == np.float32 and 0 <= train.x.min() and train.x.max() <= 1
