"""The command line: ``seqcnn VERB ...``.

Each verb lives in its own module of this package, found at start-up, and defines ``VERB``
(its name), ``ORDER`` (its place in ``--help``), ``add_arguments(parser)`` and ``run(args)``.
A verb parses, calls one library function, and prints where the results went. Heavy
libraries (torch, matplotlib, sklearn), and the seqcnn modules that import them, are imported
inside ``run`` so that ``--help`` is fast.

Errors the user can fix (:class:`seqcnn.errors.SeqcnnError`, unreadable paths) are printed
as one line, ``seqcnn: error: ...``, with exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import pkgutil
import sys


def _verbs() -> list:
    modules = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            modules.append(importlib.import_module(f"{__name__}.{info.name}"))
    return sorted(modules, key=lambda m: (m.ORDER, m.VERB))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every verb."""
    from seqcnn import __version__

    parser = argparse.ArgumentParser(
        prog="seqcnn",
        description="Train, evaluate and explain convolutional neural networks on DNA sequences and small images.",
        epilog="Learning CNNs? Start with the tutorial: docs/tutorial/README.md (one page per part of the course).",
    )
    parser.add_argument("--version", action="version", version=f"seqcnn {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for module in _verbs():
        doc = (module.__doc__ or "").strip().splitlines()[0]
        verb = sub.add_parser(
            module.VERB,
            help=doc,
            description=(module.__doc__ or "").strip(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(verb)
        verb.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    from seqcnn.errors import SeqcnnError

    try:
        return int(args._run(args) or 0)
    except SeqcnnError as exc:
        print(f"seqcnn: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        print(f"seqcnn: error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # a run says what it kept and how to resume
        print(f"seqcnn: interrupted{': ' + _one_line(exc) if str(exc) else ''}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stdout = None
        return 0
    except OSError as exc:  # a full disk: atomic writes kept the old files
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO):
            raise
        print(
            f"seqcnn: error: {exc.filename or 'writing'}: {exc.strerror or exc}; files written before are kept as "
            "they were",
            file=sys.stderr,
        )
        return 2


def console() -> None:
    """The ``seqcnn`` program (and ``python -m seqcnn``): :func:`main`, then exit without the teardown.

    Tearing down the interpreter after torch, matplotlib and numba are loaded (freeing every
    module's objects one by one) takes longer than a small run's training: 0.7 s of a 1-epoch
    ``seqcnn train`` on the primer's files (benchmarks/speed/startup.py). Every file seqcnn writes is
    closed and renamed into place before ``main`` returns, so the exit handlers are run, the
    streams flushed and the process ends at once. With a non-daemon thread still alive it exits
    the ordinary way.
    """
    code = main()
    import atexit
    import os
    import threading

    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if others:
        raise SystemExit(code)
    atexit._run_exitfuncs()  # multiprocessing's clean-up, torch.distributed, tempfile
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (BrokenPipeError, ValueError):  # a closed pipe: nothing more can reach it
            pass
    os._exit(code)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split("\n"))
