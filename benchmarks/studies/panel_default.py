"""The default for labelled sequence tables against every candidate on the panel, over seeds (panel.md).

Reads the rows of ``benchmarks.studies.panel_models`` runs (any number of result files; the seed is taken from its
column or from the recipe JSON) and names each row's candidate: the model, with ``+rc`` when it was
trained with reverse-complement augmentation and strand averaging. The default is ``chipseq`` with
the ``labelled`` recipe and the strand test (``seqcnn.data.strands``): ``chipseq+rc`` on the sets that the
test puts on both strands, ``chipseq`` on the others (``ONE_STRAND``). Prints a markdown table of the
mean test AUROC per set and candidate over the seeds that every candidate of the set has (a seed
fixes the split, so the comparison is paired; cells with other seeds are left out of the mean), the
default's gap to the best, and whether it is within 0.005.

    .venv/bin/python -m benchmarks.studies.panel_default \\
        benchmarks/results/studies/panel_models-{seeds,seeds-rc,rc,rc-seeds}-xeon-2c-amx.tsv

Prints its table (docs/benchmarks/panel.md); no results file of its own.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from pathlib import Path

#: Panel sets that the strand test keeps on one strand (their motif is planted on one strand).
ONE_STRAND = {"primer-sim", "primer-files"}
WITHIN = 0.005


def read_rows(paths: list[Path]) -> dict[tuple[str, str], dict[int, float]]:
    """``{(set, candidate): {seed: auroc}}``; a later file's row replaces an earlier one's for the same seed."""
    cells: dict[tuple[str, str], dict[int, float]] = {}
    for path in paths:
        with open(path) as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                recipe = json.loads(row.get("recipe") or "{}")
                seed = int(row["seed"]) if row.get("seed") not in (None, "") else int(recipe.get("seed", 0))
                rc = "rc" in (recipe.get("augment") or []) and recipe.get("rc_average")
                candidate = row["model"] + ("+rc" if rc else "")
                cells.setdefault((row["set"], candidate), {})[seed] = float(row["auroc"])
    return cells


def table(cells: dict[tuple[str, str], dict[int, float]]) -> str:
    sets = list(dict.fromkeys(s for s, _ in cells))
    candidates = sorted({c for _, c in cells})
    lines = ["| set | " + " | ".join(f"{c} (seeds)" for c in candidates) + " | default | best | gap | within 0.005 |",
             "|---" * (len(candidates) + 5) + "|"]
    met = 0
    for name in sets:
        present = [c for c in candidates if (name, c) in cells]
        common = set.intersection(*(set(cells[name, c]) for c in present))
        means = {c: statistics.mean(cells[name, c][seed] for seed in common) for c in present}
        default = "chipseq" if name in ONE_STRAND else "chipseq+rc"
        if default not in means:
            continue
        best = max(means, key=means.get)
        gap = means[default] - means[best]
        met += gap >= -WITHIN
        shown = [f"{means[c]:.4f} ({len(common)})" if c in means else "-" for c in candidates]
        lines.append(f"| {name} | " + " | ".join(shown) + f" | {default} | {best} | {gap:+.4f} | "
                     f"{'yes' if gap >= -WITHIN else '**no**'} |")
    lines.append(f"\nwithin {WITHIN} of the best candidate on {met} of {len(lines) - 2} sets")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    print(table(read_rows(parser.parse_args().files)))


if __name__ == "__main__":
    main()
