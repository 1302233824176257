"""Do the primer model's filters still read as the planted motif under a recipe? (docs/benchmarks/primer.md)

Trains the primer model on the built-in ``primer-sim`` data with the ``seqcnn`` recipe as it is and
with the recipe before the third search (peak 1e-2, batch 64, no clipping, no weight average), runs
``seqcnn explain`` with the planted consensus ``CGACCGAACTCC`` added to the JASPAR targets (as
``benchmarks/accuracy/explain.py primer`` does) and reports the test accuracy, the best filter's Tomtom q-value
against the planted motif and how many filters match it with q < 0.01.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.studies.recipe_motifs --seeds 0,1

Prints a Markdown table and writes it to ``benchmarks/results/studies/recipe_motifs-<machine>.md``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from benchmarks.harness import result_path, write_text

PLANTED = "CGACCGAACTCC"
#: The ``seqcnn`` recipe before the third search, as changes to the one of this tree.
BEFORE = dict(lr=1e-2, batch_size=64, clip_norm=None, average=0.0)


def main() -> None:
    import seqcnn
    from seqcnn.interpret.explain import ExplainOptions, explain
    from seqcnn.interpret.motif_matching import consensus_motif
    from seqcnn.io.meme import MemeMotif, write_meme

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        planted = Path(tmp) / "planted.meme"
        write_meme(planted, [MemeMotif("planted", consensus_motif(PLANTED, "planted").pwm, PLANTED, 1)])
        table = ["| recipe | seed | test accuracy | best filter vs the planted motif (q) | filters with q < 0.01 |",
                 "|---|---|---|---|---|"]
        print("\n".join(table))
        for name, changes in (("seqcnn", {}), ("before the third search", BEFORE)):
            for seed in map(int, args.seeds.split(",")):
                out = Path(tmp) / f"{len(name)}-{seed}"
                seqcnn.train(None, model="primer", out=out, force=True, progress=False, seed=seed, **changes)
                explain(out, options=ExplainOptions(extra_motifs=[str(planted)], progress=False))
                rows = [line.split("\t") for line in (out / "motifs.tsv").read_text().splitlines()[1:]]
                hits = sorted((float(r[6]), r[0]) for r in rows if r[3] == "planted")
                accuracy = json.loads((out / "metrics.json").read_text())["accuracy"]
                best = f"{hits[0][1]}: {hits[0][0]:.2g}" if hits else "-"
                table.append(f"| {name} | {seed} | {accuracy:.3f} | {best} | {sum(q < 0.01 for q, _ in hits)} |")
                print(table[-1], flush=True)
    write_text(result_path(__file__, "md"), "\n".join(table) + "\n")


if __name__ == "__main__":
    main()
