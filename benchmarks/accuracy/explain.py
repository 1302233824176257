"""Benchmarks of ``seqcnn explain`` (issue 5): what the networks learned, and how fast ISM is.

    nice -n 10 .venv/bin/python -m benchmarks.accuracy.explain primer   # planted motif found by a filter, saliency
    nice -n 10 .venv/bin/python -m benchmarks.accuracy.explain ism      # ISM of 1,000 x 101 bp with `deepbind`
    nice -n 10 .venv/bin/python -m benchmarks.accuracy.explain default  # `seqcnn explain` on the default run
    nice -n 10 .venv/bin/python -m benchmarks.accuracy.explain encode [--only REST,CTCFL] [--epochs 4]

Each part prints a markdown table and writes ``benchmarks/results/accuracy/explain-<part>-<machine>.json``.
Runs go under ``runs/explain-bench/``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.harness import ENCODE, PRIMER, ROOT, machine, result_path, write_json

RUNS = ROOT / "runs" / "explain-bench"
PLANTED = "CGACCGAACTCC"

#: What counts as "the factor or its family" among JASPAR names, per experiment.
FAMILY = {
    "ARID3A": ("ARID3", "ARID"),
    "CTCFL": ("CTCF",),
    "ELK1": ("ELK", "ETS", "ETV", "ELF", "GABPA", "ERG", "FLI1", "FEV", "ETV"),
    "FOXA1": ("FOX",),
    "GABPA": ("GABPA", "ELK", "ETS", "ETV", "ELF", "ERG", "FLI1", "FEV", "EHF"),
    "MYC": ("MYC", "MAX", "MNT", "USF", "TFE", "MITF", "ARNT", "HEY", "BHLH", "CLOCK", "NPAS"),
    "REST": ("REST",),
    "SP1": ("SP", "KLF", "EGR", "ZNF281", "PATZ1"),
    "USF1": ("USF", "MAX", "MYC", "TFE", "MITF", "ARNT", "BHLH", "MLX", "SREBF"),
    "ZBTB7A": ("ZBTB7", "ZBTB", "KLF", "SP"),
}


def save(part: str, result: dict) -> None:
    write_json(result_path(__file__, "json", part), result)


# --- primer ---------------------------------------------------------------------------------


def primer(args) -> dict:
    """Train on the primer's real files, explain, and check filter matches and saliency windows."""
    import seqcnn
    from seqcnn.interpret.attribution import best_window, gradient_x_input
    from seqcnn.interpret.explain import ExplainOptions, explain
    from seqcnn.interpret.motif_matching import consensus_motif
    from seqcnn.io.meme import MemeMotif, write_meme

    run = RUNS / "primer"
    started = time.time()
    if not (run / "model.safetensors").is_file() or args.retrain:
        seqcnn.train(
            PRIMER / "sequences.txt",
            PRIMER / "labels.txt",
            model="primer",
            out=run,
            force=True,
            progress=False,
            seed=args.seed,
        )
    train_s = time.time() - started
    planted = RUNS / "planted.meme"
    motif = consensus_motif(PLANTED, "planted")
    write_meme(planted, [MemeMotif("planted", motif.pwm, PLANTED, 1)])
    started = time.time()
    explain(run, options=ExplainOptions(extra_motifs=[str(planted)], progress=False))
    explain_s = time.time() - started
    rows = [line.split("\t") for line in (run / "motifs.tsv").read_text().splitlines()[1:]]
    hits = sorted((float(r[6]), r[0], float(r[5]), float(r[1])) for r in rows if r[3] == "planted")
    # every correctly classified positive test sequence: where is its best 12 bp gradient x input window?
    ids, x, starts = _correct_positives(run)
    gxi = gradient_x_input(seqcnn.load_run(run).model, x)
    windows = best_window(gxi, len(PLANTED))
    overlap = np.abs(windows - starts) < len(PLANTED)
    clipped = np.abs(best_window(np.clip(gxi, 0, None), len(PLANTED)) - starts) < len(PLANTED)
    metrics = json.loads((run / "metrics.json").read_text())
    result = {
        "machine": machine(),
        "test_accuracy": metrics["accuracy"],
        "train_seconds": round(train_s, 1),
        "explain_seconds": round(explain_s, 1),
        "best_filter_match": {"filter": hits[0][1], "q_value": hits[0][0], "p_value": hits[0][2], "bits": hits[0][3]}
        if hits
        else None,
        "filters_matching_q_below_0.01": sum(1 for h in hits if h[0] < 0.01),
        "correct_positives": len(ids),
        "gxi_window_overlaps": int(overlap.sum()),
        "gxi_fraction": float(overlap.mean()),
        "gxi_clipped_fraction": float(clipped.mean()),
    }
    print(
        f"| test accuracy | {metrics['accuracy']:.3f} |\n| best filter vs {PLANTED} | {hits[0][1] if hits else '-'}: "
        f"q = {hits[0][0]:.2g} |\n| filters with q < 0.01 | {result['filters_matching_q_below_0.01']} |\n"
        f"| max gradient x input 12 bp window overlaps the motif | {overlap.sum()}/{len(ids)} = {overlap.mean():.3f} "
        "|\n"
        f"| explain seconds | {explain_s:.1f} |"
    )
    return result


def _correct_positives(run: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Correctly classified positive test sequences of a primer run, one-hot, and where the motif starts."""
    from seqcnn.io import read_sequences
    from seqcnn.sequence import onehot_strings, reverse_complement

    records = read_sequences(PRIMER / "sequences.txt")
    seq_of = dict(zip(records.ids, records.seqs))
    rows = [line.split("\t") for line in (run / "predictions.tsv").read_text().splitlines()[1:]]
    ids = [r[0] for r in rows if r[1] == "1" and r[3] == "1"]
    seqs = [seq_of[i] for i in ids]
    starts = []
    for s in seqs:
        at = s.find(PLANTED)
        starts.append(at if at >= 0 else s.find(reverse_complement(PLANTED)))
    if min(starts) < 0:
        raise SystemExit("a positive without the planted motif")
    return ids, onehot_strings(seqs), np.array(starts)


# --- the default run ---------------------------------------------------------------------------


def default(args) -> dict:
    """Wall time of ``seqcnn explain`` as a command on the default run (``seqcnn train``, no options)."""
    import subprocess

    import seqcnn

    run = RUNS / "default"
    if not (run / "model.safetensors").is_file():
        seqcnn.train(out=run, force=True, progress=False)
    seconds = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "seqcnn"), "explain", str(run), "--quiet"], check=True, capture_output=True
        )
        seconds.append(time.perf_counter() - started)
    summary = json.loads((run / "explain.json").read_text())
    result = {
        "machine": machine(),
        "seconds": [round(t, 2) for t in seconds],
        "median": round(float(np.median(seconds)), 2),
        "in_process_seconds": summary["seconds"],
        "sequences": len(summary["sequences"]["ids"]),
        "filters": summary["filters"]["n_filters"],
    }
    print(f"| seqcnn explain on the default run (median of {args.repeats}) | {result['median']:.1f} s |")
    return result


# --- ISM timing ------------------------------------------------------------------------------


def ism(args) -> dict:
    """ISM of 1,000 random 101 bp sequences with the `deepbind` zoo model: seqcnn vs tangermeme."""
    import torch
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis as tm_ism

    from seqcnn.interpret.attribution import TargetScore, saturation_mutagenesis
    from seqcnn.models import zoo
    from seqcnn.models.network import build_model

    torch.manual_seed(args.seed)
    model = build_model(zoo.get("deepbind"), (4, 101)).eval()
    rng = np.random.default_rng(args.seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (1000, 101))].transpose(0, 2, 1).copy()  # (N, 4, L)
    saturation_mutagenesis(model, x[:20])  # compile the numba kernel (cached on disk afterwards)
    ours = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        delta = saturation_mutagenesis(model, x)
        ours.append(time.perf_counter() - started)
    score = TargetScore(model, 1).eval()
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y0, y_hat = tm_ism(score, torch.tensor(x), batch_size=args.batch_size, raw_outputs=True, device="cpu")
    theirs = time.perf_counter() - started
    reference = (y_hat[..., 0] - y0[:, None, None, 0]).numpy()  # (N, 4, L); identity entries are 0 there too
    difference = float(np.abs(reference - delta).max())
    result = {"machine": machine(), "sequences": 1000, "length": 101, "variants": 1000 * 101 * 3,
              "seqcnn_seconds": [round(t, 3) for t in ours], "seqcnn_best": round(min(ours), 3),
              "tangermeme_seconds": round(theirs, 2), "tangermeme_batch_size": args.batch_size,
              "max_abs_difference": difference, "tangermeme_warnings": sorted({str(w.message) for w in caught})}
    print(
        f"| seqcnn saturation_mutagenesis (best of {args.repeats}) | {min(ours):.2f} s |\n"
        f"| tangermeme saturation_mutagenesis (batch {args.batch_size}) | {theirs:.1f} s |\n| max |difference| | "
        f"{difference:.1e} |"
    )
    return result


# --- ENCODE ------------------------------------------------------------------------------------


SPEC = [
    {"Conv1D": {"filters": 32, "kernel_size": 19, "activation": "relu"}},
    {"GlobalMaxPooling1D": {}},
    {"Dense": {"units": 32, "activation": "relu"}},
    {"Dropout": {"rate": 0.5}},
    {"Dense": {"units": 2, "activation": "softmax"}},
]


def encode(args) -> dict:
    """Train a modest model on each ENCODE experiment, explain it, and list the best JASPAR matches."""
    import seqcnn
    from seqcnn.interpret.explain import ExplainOptions, explain

    spec = RUNS / "encode-spec.json"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps(SPEC))
    names = sorted(p.name[: -len("_AC.seq.gz")] for p in ENCODE.glob("*_AC.seq.gz"))
    if args.only:
        names = [n for n in names if n.split("_")[0] in args.only.split(",")]
    earlier = result_path(__file__, "json", "encode")  # runs of other --only subsets are kept
    kept = json.loads(earlier.read_text())["experiments"] if earlier.is_file() and args.only else {}
    result = {"machine": machine(), "epochs": args.epochs, "spec": SPEC, "experiments": kept}
    for name in names:
        run = RUNS / "encode" / name
        started = time.time()
        if not (run / "model.safetensors").is_file() or args.retrain:
            seqcnn.train(
                ENCODE / f"{name}_AC.seq.gz",
                test=ENCODE / f"{name}_B.seq.gz",
                model=str(spec),
                out=run,
                force=True,
                progress=False,
                recipe="chipseq",
                epochs=args.epochs,
                seed=args.seed,
            )
        trained = time.time() - started
        explain(run, options=ExplainOptions(n_sequences=3, progress=False))
        entry = _encode_summary(run, name.split("_")[0], args.informative)
        entry["train_seconds"] = round(trained, 1)
        result["experiments"][name] = entry
        print(
            f"| {name.split('_')[0]} | {entry['auroc']:.3f} | {'; '.join(entry['best'])} | "
            f"{'yes' if entry['found'] else 'no'} |",
            flush=True,
        )
        save("encode", result)
    return result


def _encode_summary(run: Path, factor: str, informative: int) -> dict:
    """Best JASPAR match of the most informative filters, and whether the factor's family is among them."""
    rows = [line.split("\t") for line in (run / "motifs.tsv").read_text().splitlines()[1:]]
    by_filter: dict[str, list] = {}
    for r in rows:
        by_filter.setdefault(r[0], []).append(r)
    ranked = sorted(by_filter.values(), key=lambda rs: -float(rs[0][1]))[:informative]
    best, found = [], False
    keys = FAMILY.get(factor, (factor,))
    for rs in ranked:
        top = [r for r in rs if r[3]]
        if not top:
            continue
        r = top[0]
        best.append(f"{r[0]} {float(r[1]):.1f} bits: {r[4]} (q={float(r[6]):.1g})")
        found |= any(m[4].upper().startswith(keys) and float(m[6]) < 0.05 for m in top[:3])
    metrics = json.loads((run / "metrics.json").read_text())
    return {"auroc": metrics["auroc"], "best": best, "found": found, "family_keys": list(keys)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["primer", "ism", "encode", "default"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1024, help="tangermeme's batch size")
    parser.add_argument("--only", help="ENCODE factors, comma-separated (e.g. REST,CTCFL,GABPA)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument(
        "--informative", type=int, default=5, help="filters (by information content) listed per experiment"
    )
    args = parser.parse_args(argv)
    result = {"primer": primer, "ism": ism, "encode": encode, "default": default}[args.part](args)
    save(args.part, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
