"""Benchmarks of ``seqcnn explain RUN --patterns``: TF-MoDISco patterns matched to JASPAR.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python -m benchmarks.accuracy.patterns planted    # planted JASPAR motifs
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python -m benchmarks.accuracy.patterns encode     # all ten, full training
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python -m benchmarks.accuracy.patterns encode --only SP1 --epochs 6 \
        --positives 6000

planted: random 100 bp sequences; half carry one site sampled from one of the JASPAR 2024 PWMs
of ``--motifs`` (default HNF4A, TP53, CTCF), half none; ``seqcnn train --model chipseq --recipe
chipseq`` (the default model of sequence files, ``primer`` with its recipe, diverged on these data),
then ``seqcnn explain RUN --patterns --no-filters``. A planted motif counts as recovered when a
pattern's best-ranked matches (top 3) include it with q < 0.05.

encode: per experiment ``seqcnn train X_AC.seq.gz --test X_B.seq.gz`` (the ``chipseq`` default model
and recipe; ``--epochs`` caps the epochs, ``--positives`` subsamples the training positives),
then ``explain --patterns``. A pattern "finds" the factor when one of its top 3 JASPAR matches
with q < 0.05 is the factor or its family. Two family rules are reported: ``jaspar_family``, the
JASPAR TF family annotation (pyjaspar ``tf_family``) of the factor's own JASPAR 2024 motif, except
for the 123-motif class "More than 3 adjacent zinc fingers" (CTCFL, ZBTB7A), where only the
factor's paralogues count (CTCF/CTCFL; ZBTB7A/B/C); and ``names``, the name-prefix lists
``FAMILY`` of ``benchmarks/accuracy/explain.py`` that the filters' count (7 of 10) used.

Each part prints a markdown table and writes ``benchmarks/results/accuracy/patterns-encode-<machine>.json``
or ``patterns-planted-<motifs>-<machine>.json``; runs go under ``runs/patterns-bench/`` and are reused when
present (``--retrain`` to train again).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.accuracy.explain import FAMILY
from benchmarks.harness import ENCODE, ROOT, machine, result_path, write_json

RUNS = ROOT / "runs" / "patterns-bench"

#: The factor's own JASPAR name(s) where the family annotation is too broad to count.
PARALOGUES = {"CTCFL": ("CTCF", "CTCFL"), "ZBTB7A": ("ZBTB7A", "ZBTB7B", "ZBTB7C")}
BROAD_FAMILIES = {"More than 3 adjacent zinc fingers"}


def save(part: str, result: dict) -> None:
    write_json(result_path(__file__, "json", part), result)


def explain_patterns(run: Path) -> tuple[dict, float]:
    """``seqcnn explain RUN --patterns --no-filters`` as a command; returns its patterns summary and wall seconds."""
    import os
    import subprocess

    started = time.time()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "seqcnn",
            "explain",
            str(run),
            "--patterns",
            "--no-filters",
            "--sequences",
            "3",
            "--quiet",
        ],
        check=True,
        env=env,
    )
    seconds = time.time() - started
    return json.loads((run / "explain.json").read_text())["patterns"], seconds


def pattern_matches(run: Path, top: int = 3) -> dict[str, list[tuple[str, float]]]:
    """Per pattern, its ``top`` matches ``(jaspar_name, q_value)`` from ``patterns.tsv``."""
    out: dict[str, list] = {}
    for line in (run / "patterns.tsv").read_text().splitlines()[1:]:
        r = line.split("\t")
        if r[3]:
            out.setdefault(r[0], []).append((r[4], float(r[6])))
    return {k: v[:top] for k, v in out.items()}


# --- planted motifs ----------------------------------------------------------------------------


def planted(args) -> dict:
    import seqcnn
    from seqcnn.io.jaspar import load_jaspar

    motifs = {m.id: m for m in load_jaspar()}
    chosen = [motifs[motif_id] for motif_id in args.motifs.split(",")]
    run = RUNS / f"planted-{'-'.join(m.name for m in chosen)}"
    seqs, labels = RUNS / f"{run.name}.txt", RUNS / f"{run.name}.labels.txt"
    if not (run / "model.safetensors").is_file() or args.retrain:
        write_planted(seqs, labels, [m.pwm for m in chosen], args.n, args.length, args.seed)
        seqcnn.train(
            seqs,
            labels,
            out=run,
            force=True,
            progress=False,
            seed=args.seed,
            model=args.model,
            recipe=args.recipe,
            **({"epochs": args.epochs} if args.epochs else {}),
        )
    summary, seconds = explain_patterns(run)
    matches = pattern_matches(run)
    found = {
        m.name: sorted(p for p, ms in matches.items() if any(n == m.name and q < 0.05 for n, q in ms)) for m in chosen
    }
    metrics = json.loads((run / "metrics.json").read_text())
    result = {
        "run": run.name,
        "machine": machine(),
        "motifs": [[m.id, m.name] for m in chosen],
        "n": args.n,
        "length": args.length,
        "test_accuracy": metrics.get("accuracy"),
        "explain_seconds": round(seconds, 1),
        "summary": summary,
        "recovered": found,
        "all_recovered": all(found.values()),
    }
    print(f"| test accuracy | {metrics.get('accuracy'):.3f} |")
    for m in chosen:
        print(f"| {m.name} ({m.id}) | {', '.join(found[m.name]) or 'not recovered'} |")
    print(f"| patterns | {len(summary['patterns'])} |\n| explain --patterns seconds | {seconds:.1f} |")
    return result


def write_planted(seqs: Path, labels: Path, pwms: list[np.ndarray], n: int, length: int, seed: int) -> None:
    """``n`` random sequences; the odd ones carry one site sampled from a random PWM of ``pwms``, either strand."""
    rng = np.random.default_rng(seed)
    lines, labs = [], []
    for i in range(n):
        seq = rng.integers(0, 4, length)
        if i % 2:
            pwm = pwms[rng.integers(len(pwms))]
            site = np.array([rng.choice(4, p=col / col.sum()) for col in pwm.T])
            if rng.random() < 0.5:
                site = 3 - site[::-1]  # reverse complement
            start = rng.integers(0, length - len(site) + 1)
            seq[start : start + len(site)] = site
        lines.append("".join("ACGT"[b] for b in seq))
        labs.append(str(i % 2))
    seqs.parent.mkdir(parents=True, exist_ok=True)
    seqs.write_text("\n".join(lines) + "\n")
    labels.write_text("\n".join(labs) + "\n")


# --- ENCODE ------------------------------------------------------------------------------------


def family_rule(factor: str, targets) -> tuple[str, callable]:
    """The rule that says whether a JASPAR name is ``factor`` or its family, and its description."""
    own = [t for t in targets if t.name.upper() == factor.upper()]
    families = {t.family for t in own} - {""}
    if factor in PARALOGUES or families & BROAD_FAMILIES or not families:
        names = PARALOGUES.get(factor, (factor,))
        return f"names {'/'.join(names)}", lambda name: name.upper() in names
    by_name = {t.name.upper(): t.family for t in targets}
    return f"JASPAR family {' / '.join(sorted(families))}", lambda name: by_name.get(name.upper()) in families


def encode(args) -> dict:
    import seqcnn
    from seqcnn.io.jaspar import load_jaspar

    targets = load_jaspar()
    names = sorted(p.name[: -len("_AC.seq.gz")] for p in ENCODE.glob("*_AC.seq.gz"))
    if args.only:
        order = args.only.split(",")
        names = sorted((n for n in names if n.split("_")[0] in order), key=lambda n: order.index(n.split("_")[0]))
    earlier = result_path(__file__, "json", "encode")
    kept = json.loads(earlier.read_text())["experiments"] if earlier.is_file() and args.only else {}
    result = {
        "machine": machine(),
        "epochs": args.epochs or "default",
        "positives": args.positives or "all",
        "experiments": kept,
    }
    for name in names:
        factor = name.split("_")[0]
        run = RUNS / "encode" / name
        started = time.time()
        if not (run / "model.safetensors").is_file() or args.retrain:
            data = _subsample(name, args.positives, args.seed) if args.positives else ENCODE / f"{name}_AC.seq.gz"
            seqcnn.train(
                data,
                test=ENCODE / f"{name}_B.seq.gz",
                out=run,
                force=True,
                progress=False,
                seed=args.seed,
                **({"epochs": args.epochs} if args.epochs else {}),
            )
        trained = time.time() - started
        summary, seconds = explain_patterns(run)
        matches = pattern_matches(run)
        rule, is_family = family_rule(factor, targets)
        keys = FAMILY.get(factor, (factor,))
        config = json.loads((run / "config.json").read_text())
        entry = {
            "auroc": json.loads((run / "metrics.json").read_text())["auroc"],
            "train_seconds": round(trained, 1),
            "epochs_run": len((run / "history.csv").read_text().splitlines()) - 1,
            "train_file": config["data"].get("files", [None])[0],
            "explain_seconds": round(seconds, 1),
            "patterns_seconds": summary["seconds"],
            "sequences": summary["sequences"],
            "rule": rule,
            "found_jaspar_family": any(is_family(n) and q < 0.05 for ms in matches.values() for n, q in ms),
            "found_names": any(n.upper().startswith(keys) and q < 0.05 for ms in matches.values() for n, q in ms),
            "patterns": [
                f"{p['pattern']} ({p['n_seqlets']} seqlets): {p['best_match']} (q={p['q_value']:.1g})"
                if p["best_match"]
                else f"{p['pattern']} ({p['n_seqlets']} seqlets): no match"
                for p in summary["patterns"]
            ],
        }
        result["experiments"][name] = entry
        print(
            f"| {factor} | {entry['auroc']:.3f} | {'; '.join(entry['patterns'][:6])} | "
            f"{'yes' if entry['found_jaspar_family'] else 'no'} | {'yes' if entry['found_names'] else 'no'} |",
            flush=True,
        )
        save("encode", result)
    done = result["experiments"].values()
    result["found_jaspar_family"] = sum(e["found_jaspar_family"] for e in done)
    result["found_names"] = sum(e["found_names"] for e in done)
    print(
        f"found: {result['found_jaspar_family']} of {len(done)} (JASPAR family), {result['found_names']} (name lists)"
    )
    return result


def _subsample(name: str, positives: int, seed: int) -> Path:
    """The first-seen ``positives`` of a random permutation of the training file, as a new .seq.gz."""
    with gzip.open(ENCODE / f"{name}_AC.seq.gz", "rt") as handle:
        header, *rows = handle.read().splitlines()
    keep = np.sort(np.random.default_rng(seed).permutation(len(rows))[:positives])
    path = RUNS / "encode-data" / f"{name}_AC.{positives}.seq.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join([header] + [rows[i] for i in keep]) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["planted", "encode"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--epochs", type=int, help="cap on training epochs (default: the recipe's)")
    parser.add_argument(
        "--motifs", default="MA0114.5,MA0106.3,MA0139.2", help="planted JASPAR 2024 motifs by id (HNF4A, TP53, CTCF)"
    )
    parser.add_argument("--model", default="chipseq", help="model of the planted run (zoo name)")
    parser.add_argument("--recipe", default="chipseq", help="training recipe of the planted run")
    parser.add_argument("--n", type=int, default=6000, help="planted sequences")
    parser.add_argument("--length", type=int, default=100, help="planted sequence length")
    parser.add_argument("--only", help="ENCODE factors, comma-separated, run in this order (e.g. ARID3A,SP1,ZBTB7A)")
    parser.add_argument("--positives", type=int, help="subsample the ENCODE training positives to this many")
    args = parser.parse_args(argv)
    result = {"planted": planted, "encode": encode}[args.part](args)
    save(args.part if args.part == "encode" else result["run"], result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
