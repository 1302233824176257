"""ENCODE ChIP-seq benchmark: train on each ``<name>_AC.seq.gz`` (positives only, seqcnn adds
dinucleotide-shuffled negatives), test on ``<name>_B.seq.gz``, compare with DeepBind.

    nice -n 10 .venv/bin/python -m benchmarks.accuracy.encode                     # the ten, defaults
    nice -n 10 .venv/bin/python -m benchmarks.accuracy.encode --only ARID3A,MYC --tag lr3e-3 --lr 3e-3

Without options every experiment runs with what ``seqcnn train X_AC.seq.gz --test X_B.seq.gz``
picks by itself (model, recipe, negatives, strand averaging). Results go to
``benchmarks/results/accuracy/encode-<tag>-<machine>.tsv`` and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

from benchmarks.harness import ENCODE as DATA
from benchmarks.harness import ROOT, result_path

#: DeepBind Supplementary Table 5 (DeepBind*, DeepBind), from ../shared/data/README.md.
DEEPBIND = {
    "ARID3A_K562_ARID3A_(sc-8821)_Stanford": (0.888, 0.810),
    "CTCFL_K562_CTCFL_(SC-98982)_HudsonAlpha": (0.987, 0.973),
    "ELK1_GM12878_ELK1_(1277-1)_Stanford": (0.953, 0.948),
    "FOXA1_HepG2_FOXA1_(SC-101058)_HudsonAlpha": (0.982, 0.977),
    "GABPA_GM12878_GABP_HudsonAlpha": (0.980, 0.970),
    "MYC_H1-hESC_c-Myc_Stanford": (0.930, 0.855),
    "REST_GM12878_NRSF_HudsonAlpha": (0.999, 0.999),
    "SP1_GM12878_SP1_HudsonAlpha": (0.900, 0.898),
    "USF1_HepG2_USF-1_HudsonAlpha": (0.993, 0.995),
    "ZBTB7A_HepG2_ZBTB7A_(SC-34508)_HudsonAlpha": (0.874, 0.801),
}


def experiments(data: Path, only: str | None) -> list[str]:
    files = sorted(data.glob("*_AC.seq.gz"), key=lambda p: p.stat().st_size)  # smallest first: partial runs cover more
    names = [p.name[: -len("_AC.seq.gz")] for p in files]
    if only:
        keys = [k.strip() for k in only.split(",")]
        names = [n for n in names if any(n.startswith(k) for k in keys)]
    return names


def run_one(name: str, args, overrides: dict) -> dict:
    import seqcnn

    out = ROOT / "runs" / "encode" / args.tag / name
    started = time.time()
    run_dir = seqcnn.train(
        DATA / f"{name}_AC.seq.gz",
        test=DATA / f"{name}_B.seq.gz",
        model=args.model,
        out=out,
        force=True,
        progress=False,
        negatives=args.negatives,
        rc_average=args.rc_average,
        **overrides,
    )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    rows = (run_dir / "history.csv").read_text().splitlines()
    best = max(DEEPBIND.get(name, (0, 0)))
    return {"experiment": name, "auroc": metrics["auroc"], "auprc": metrics["auprc"], "accuracy": metrics["accuracy"],
            "deepbind_best": best, "pass": metrics["auroc"] >= best, "epochs": len(rows) - 1,
            "seconds": round(time.time() - started, 1), "model": config["model"], "recipe": config["recipe"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--only", help="comma-separated experiment name prefixes")
    parser.add_argument("--tag", default="default")
    parser.add_argument("--model")
    parser.add_argument("--negatives")
    parser.add_argument("--rc-average", action=argparse.BooleanOptionalAction, default=None)
    for flag, kind in (
        ("epochs", int),
        ("batch-size", int),
        ("lr", float),
        ("weight-decay", float),
        ("patience", int),
        ("threads", int),
        ("optimizer", str),
        ("schedule", str),
        ("seed", int),
    ):
        parser.add_argument(f"--{flag}", type=kind)
    parser.add_argument("--augment", help="comma list, or 'none'")
    parser.add_argument("--val-size", type=float, help="fraction of the training file used for early stopping")
    args = parser.parse_args(argv)
    run_options = {}
    if args.val_size is not None:
        run_options["val_size"] = args.val_size
    overrides = dict(run_options) | {
        k: getattr(args, k)
        for k in ("epochs", "batch_size", "lr", "weight_decay", "patience", "threads", "optimizer", "schedule", "seed")
        if getattr(args, k) is not None
    }
    if args.augment is not None:
        overrides["augment"] = () if args.augment == "none" else tuple(args.augment.split(","))
    results = []
    for name in experiments(args.data, args.only):
        results.append(run_one(name, args, overrides))
        r = results[-1]
        print(
            f"{name}: AUROC {r['auroc']:.4f} (DeepBind best {r['deepbind_best']:.3f}) epochs {r['epochs']} "
            f"{r['seconds']} s",
            file=sys.stderr,
            flush=True,
        )
        write(results, args, quiet=True)  # after each experiment, so an interrupted run keeps its numbers
    write(results, args)
    return 0


def write(results: list[dict], args, quiet: bool = False) -> None:
    from seqcnn.files import atomic_write_text

    keys = list(results[0])
    lines = ["\t".join(keys)] + [
        "\t".join(f"{r[k]:.4f}" if isinstance(r[k], float) else str(r[k]) for k in keys) for r in results
    ]
    atomic_write_text(result_path(__file__, "tsv", args.tag), "\n".join(lines) + "\n")
    if quiet:
        return
    print(
        f"tag {args.tag}, {date.today()}, {platform.machine()} {platform.processor() or ''}, options "
        f"{' '.join(sys.argv[1:])}"
    )
    print("| experiment | AUROC | DeepBind best | pass | epochs | seconds |\n|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['experiment']} | {r['auroc']:.3f} | {r['deepbind_best']:.3f} | {'yes' if r['pass'] else 'NO'} | "
            f"{r['epochs']} | {r['seconds']} |"
        )
    aurocs = [r["auroc"] for r in results]
    print(f"median AUROC {statistics.median(aurocs):.4f}, passed {sum(r['pass'] for r in results)}/{len(results)}, "
          f"total {sum(r['seconds'] for r in results):.0f} s")


if __name__ == "__main__":
    sys.exit(main())
