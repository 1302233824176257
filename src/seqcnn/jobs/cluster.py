"""Ray, the engine that runs sweep cells and tuning trials on many machines.

Only the few calls that seqcnn needs: the extra checked (:func:`require`), a cluster joined or a local
instance started (:func:`connect`, which refuses an unreachable address within seconds instead of letting
Ray retry for minutes), the name of the node a task runs on (:func:`node_name`), and a data file checked
where the task runs (:func:`check_readable`). Ray is imported inside these functions: it is an optional
dependency (``pip install 'seqcnn[cluster]'``) and takes seconds to import.
"""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

from seqcnn.errors import InputError

#: The extra that brings Ray and Optuna.
EXTRA = "seqcnn[cluster]"

#: Times Ray runs a task (a sweep cell, a tuning trial) again when the node or worker process running it dies.
RAY_RETRIES = 3

#: Seconds to wait for a cluster's head to answer before refusing ``--address``.
CONNECT_SECONDS = 10.0


def require(module: str, what: str):
    """Import ``module`` (``ray`` or ``optuna``), or say in one line which extra to install.

    Args:
        module: the module's name.
        what: the command that needs it, for the message (``"seqcnn sweep --engine ray"``).

    Returns:
        The module.

    Raises:
        InputError: when it is not installed.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(f"{what} needs {module}, which is not installed; install the extra: "
                         f"pip install '{EXTRA}'") from None


def node_name() -> str:
    """The node this code runs on: ``IP/node-id`` (its first 8 hex digits) inside a Ray task, else the
    host name. Two Ray nodes on one machine share the IP; the id tells them apart."""
    with contextlib.suppress(ImportError):
        import ray

        if ray.is_initialized() and ray.get_runtime_context().get_task_id() is not None:  # inside a Ray task
            node = ray.get_runtime_context().get_node_id() or ""
            return f"{ray.util.get_node_ip_address()}/{node[:8]}"
    return socket.gethostname()


def check_readable(paths: list[str | Path | None]) -> None:
    """Refuse, naming this node and the path, a data file that this node cannot read.

    Raises:
        InputError: ``node NODE cannot read PATH (reason)``.
    """
    for path in paths:
        if path is None:
            continue
        try:
            with open(path, "rb") as handle:
                handle.read(1)
        except OSError as exc:
            raise InputError(f"node {node_name()} cannot read {path} ({exc.strerror or exc}); cells read their data "
                             "where every node sees it (a shared filesystem)") from None


def probe(address: str, seconds: float = CONNECT_SECONDS) -> None:
    """Refuse an address ``HOST:PORT`` where no Ray head answers within ``seconds``.

    Ray itself retries an unreachable head for minutes. A plain TCP connection first answers at once when the
    port is closed; then Ray's own client asks the head for its cluster id, in a thread given ``seconds`` (a
    port that answers but is no Ray head never replies). ``auto`` and ``ray://`` addresses are left to Ray.

    Raises:
        InputError: for a malformed address or one where no Ray head answers.
    """
    if address == "auto" or address.startswith("ray://"):
        return
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InputError(f"--address {address!r}: expected HOST:PORT of a Ray head (ray start --head prints it), "
                         "or 'auto'")
    hint = "start one with `ray start --head` or check the address"
    try:
        with socket.create_connection((host, int(port)), timeout=seconds):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise InputError(f"--address {address}: no Ray head reachable there within {seconds:.0f} s ({reason}); "
                         f"{hint}") from None
    if not _head_answers(address, seconds):
        raise InputError(f"--address {address}: the port answers but no Ray head replied within {seconds:.0f} s; "
                         f"{hint}")


def _head_answers(address: str, seconds: float) -> bool:
    """Whether the Ray head at ``address`` gives its cluster id within ``seconds``.

    Asked by Ray's GCS client (the one call that asks a head for its id without starting a driver) in a child
    process, killed at the deadline: Ray's client logs each failed try on stderr and would go on retrying.
    """
    import subprocess
    import sys

    ask = "import sys; from ray._raylet import GcsClient; GcsClient(address=sys.argv[1]).cluster_id"
    try:
        done = subprocess.run([sys.executable, "-c", ask, address], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=seconds, check=False)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


@contextlib.contextmanager
def connect(address: str | None, what: str, num_cpus: int | None = None):
    """Ray joined for the duration of a ``with`` block; the connection made here is closed after it.

    Args:
        address: a cluster's ``HOST:PORT`` (``ray start --head``), ``auto``, or None for a local instance
            (or the one this process already joined).
        what: the command, for the message when Ray is missing.
        num_cpus: CPUs of a local instance (None: every core).

    Yields:
        The ``ray`` module.

    Raises:
        InputError: Ray missing, or an unreachable address.
    """
    ray = require("ray", what)
    if ray.is_initialized():
        yield ray
        return
    if address:
        probe(address)
    # a local instance serves this machine alone: on the loopback (Ray moves it to the outward address unless
    # RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, as the tests set)
    local = {} if address else {"num_cpus": num_cpus, "include_dashboard": False, "_node_ip_address": "127.0.0.1"}
    try:
        # "local": a new instance even where `ray start` left a cluster running (joining one takes --address auto)
        ray.init(address=address or "local", log_to_driver=False, configure_logging=False, **local)
    except (ConnectionError, TimeoutError) as exc:
        raise InputError(f"--address {address}: Ray could not join the cluster ({exc})".replace("\n", " ")) from None
    try:
        yield ray
    finally:
        ray.shutdown()
