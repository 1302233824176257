"""Draw a run's report on the machine's other cores while the run trains.

A small ``seqcnn train`` prints its result line about 2 s after it starts (most of it is
importing torch) and then spent about a second more importing matplotlib and drawing the report's
figures in the same process. :func:`start`, called before torch is imported, forks helper
processes that import matplotlib, Pillow and jinja2 and compile the page's templates while the
parent imports torch and trains; :meth:`ReportWorkers.write_report` hands them the finished run
folder: each draws its share of the figures at the same time, then the first writes the page.
The command still returns only once ``report.html`` is complete, and if a worker fails the
parent draws what is missing itself (:func:`seqcnn.report.html.write_report` redraws only the
figures whose stamp is not current).

Workers are used on Linux with two or more CPUs available to the process, outside ``torchrun``
and before torch is loaded; ``SEQCNN_REPORT_WORKERS=0`` turns them off. A worker that finds its
parent gone (the pipe closed) exits; workers that do not answer within :data:`REPLY_TIMEOUT` are
killed with their process group, and the parent draws.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

#: The figures each worker draws, by :func:`seqcnn.report.figures.run_figures` name: about equal
#: drawing time (history + confusion against the two-panel curves + calibration).
SHARES = (("history", "confusion", "task_auroc"), ("roc_pr", "calibration", "scatter"))
#: Set to 0 to draw in the training process.
ENV = "SEQCNN_REPORT_WORKERS"
#: Seconds the parent waits for the workers' whole report (the first ever matplotlib import builds a font
#: cache) before it kills them and draws the report itself.
REPLY_TIMEOUT = 300.0


class ReportWorkers:
    """Forked processes waiting to draw one run's report (see the module docstring)."""

    def __init__(self, workers: list[tuple[int, int, int]]):
        self.workers = workers  # (pid of the first worker, write end to the worker, read end from it)

    def write_report(self, folder: str | Path) -> Path:
        """Draw ``folder``'s figures in the workers, then its page; returns the page's path.

        Whatever a worker could not do is done here, so the result is the same as
        :func:`seqcnn.report.html.write_report`'s (and its errors are raised from here).
        """
        import time

        from seqcnn.report.html import write_report

        folder = str(Path(folder).resolve())
        if not self.workers:  # used already
            return write_report(folder)
        deadline = time.monotonic() + REPLY_TIMEOUT
        try:
            asked = [self._send(i, {"figures": list(share), "run": folder})
                     for i, share in enumerate(SHARES[: len(self.workers)])]
            drawn = all([self._reply(i, deadline) for i, sent in enumerate(asked) if sent])
            if drawn and all(asked) and self._send(0, {"page": folder}) and self._reply(0, deadline):
                return Path(folder) / "report.html"
        finally:
            self.close()
        return write_report(folder)  # what the workers left undone (stale figures only), or the whole report

    def close(self) -> None:
        """End the workers (they exit when their pipe closes; one still importing is stopped)."""
        for _, to_worker, from_worker in self.workers:
            for fd in (to_worker, from_worker):
                try:
                    os.close(fd)
                except OSError:
                    pass
        for pid in {pid for pid, _, _ in self.workers}:
            _reap(pid)
        self.workers = []

    def _send(self, i: int, message: dict) -> bool:
        try:
            os.write(self.workers[i][1], (json.dumps(message) + "\n").encode())
            return True
        except OSError:  # the worker died
            return False

    def _reply(self, i: int, deadline: float) -> bool:
        """Whether worker ``i`` did what it was asked; False when it failed, died or is stuck past ``deadline``."""
        import select
        import time

        fd = self.workers[i][2]
        if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            return False  # close() kills it; the parent draws
        line = _read_line(fd)
        return line is not None and json.loads(line).get("ok", False)


def start(count: int = len(SHARES)) -> ReportWorkers | None:
    """Fork ``count`` report workers, or return None where they would not help or be safe.

    Call before torch (or anything that starts threads) is imported: forking a process with
    threads is unsafe. One process is forked; once it has imported matplotlib it forks the
    others from itself, so the imports are paid once. Returns None on platforms without
    ``fork``, on one CPU, under ``torchrun``, with torch already loaded, or with
    ``SEQCNN_REPORT_WORKERS=0``.
    """
    if (
        sys.platform != "linux"
        or os.environ.get(ENV, "1") == "0"
        or "torch" in sys.modules
        or "WORLD_SIZE" in os.environ
        or len(os.sched_getaffinity(0)) < 2
    ):
        return None
    pipes: list = []
    try:
        for _ in range(count):
            pipes.append((os.pipe(), os.pipe()))  # ((to_read, to_write), (from_read, from_write))
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
    except OSError:  # out of descriptors or processes: draw in this process
        for pair in pipes:
            for fd in (*pair[0], *pair[1]):
                os.close(fd)
        return None
    if pid == 0:  # the first worker: never returns
        code = 1
        try:
            os.setpgid(0, 0)  # the workers' own process group, so that a stuck one is killed with its child
            for (_, to_write), (from_read, _) in pipes:
                os.close(to_write)
                os.close(from_read)
            code = _first_worker([(to_read, from_write) for (to_read, _), (_, from_write) in pipes])
        finally:
            os._exit(code)
    try:
        os.setpgid(pid, pid)  # also here: whichever of the two runs first
    except OSError:  # the worker has set it already, or has ended
        pass
    workers = []
    for (to_read, to_write), (from_read, from_write) in pipes:
        os.close(to_read)
        os.close(from_write)
        workers.append((pid, to_write, from_read))  # the later workers are the first one's children
    return ReportWorkers(workers)


def _first_worker(ends: list[tuple[int, int]]) -> int:
    """Warm up, fork the other workers (already warm), serve the first share, reap the others."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it closes the pipes
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a warning to the terminal from this process group is written
    signal.signal(signal.SIGTERM, _stop)  # unwinds: a lock file matplotlib holds while it builds its cache is removed
    from seqcnn.report import html, plots

    plots.warm_up()
    html.warm_up()
    children = []
    for i, (commands, replies) in enumerate(ends[1:], start=1):
        child = os.fork()
        if child == 0:
            code = 1
            try:
                for j, (other_commands, other_replies) in enumerate(ends):
                    if j != i:
                        os.close(other_commands)
                        os.close(other_replies)
                code = _serve(commands, replies)
            finally:
                os._exit(code)
        os.close(commands)
        os.close(replies)
        children.append(child)
    code = _serve(*ends[0])
    for child in children:
        os.waitpid(child, 0)
    return code


def _serve(commands: int, replies: int) -> int:
    """A worker's loop: draw what the parent asks until its pipe closes."""
    from seqcnn.report import figures, html
    from seqcnn.runs.folder import RunFolder

    while (line := _read_line(commands)) is not None:
        message = json.loads(line)
        try:
            if "page" in message:
                html.write_report(message["page"])
            else:
                run = RunFolder(Path(message["run"]))
                task, metrics = html.run_task_and_metrics(run)
                figures.run_figures(run, task, metrics, only=set(message["figures"]))
            answer = {"ok": True}
        except Exception as exc:  # the parent draws it again and raises what it finds itself
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        try:
            os.write(replies, (json.dumps(answer) + "\n").encode())
        except OSError:  # the parent has closed the pipe (interrupted): stop
            return 1
    return 0


def _stop(signum, frame) -> None:
    raise SystemExit(1)


def _read_line(fd: int) -> str | None:
    """One line from a pipe, or None at its end."""
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            return b"".join(chunks).decode()


def _reap(pid: int) -> None:
    """Wait for the first worker, then make sure its process group (the workers it forked) is gone.

    A worker that has not ended by itself shortly after its pipe closed (still importing, or stuck) is
    asked to stop (SIGTERM: it unwinds, so matplotlib's cache lock is released), then killed.
    """
    import time

    for stop in (None, signal.SIGTERM, signal.SIGKILL):
        if stop is not None:
            _signal_group(pid, stop)
        for _ in range(250):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                _signal_group(pid, signal.SIGKILL)  # a worker the first one forked and left (it was interrupted)
                return
            time.sleep(0.002)


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):  # the group is gone
        pass
