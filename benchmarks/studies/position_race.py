"""The position race alone (``seqcnn.jobs.position``) on the defaults panel's sets and held-out ChIP-seq tables.

For each set and seed, what ``seqcnn train TABLE`` decides before training: the data read, split and strand-tested as
the main job does, then the race of the position-free default (``chipseq``) against the position-aware ``local``. The
chosen model, both candidates' validation loss and accuracy, the paired difference and its standard error, and the
race's seconds go to ``benchmarks/results/studies/position_race-<machine>.tsv`` (docs/benchmarks/panel.md). Where the
race keeps ``chipseq``, the run that follows is the one measured before the race existed (same seed, same recipe).

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.studies.position_race                     # every panel set
    ... --sets splice-L60-n3k,encode-GABPA --seeds 0,1,2
    ... --encode ELK1,ARID3A,ZBTB7A     # held-out ENCODE experiments as labelled tables (heldout_tables' protocol)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks.harness import result_path, write_text
from benchmarks.studies.make_panel import PANEL, encode_set

HEADER = ["set", "seed", "rows", "chosen", "free_loss", "aware_loss", "free_acc", "aware_acc", "gain", "se", "z",
          "race_s"]


def race_row(name: str, data: str, seed: int) -> list:
    """Read, split and strand-test ``data`` as ``seqcnn train`` does, then race; the results row."""
    from seqcnn.data.load import warn_shared
    from seqcnn.data.split import split_bundle
    from seqcnn.jobs.train import (
        DataChoices,
        ModelChoices,
        OutputChoices,
        RecipeChoices,
        position_check,
        scaled_task,
        strand_check,
    )

    data_choices, model, output = DataChoices(data=data), ModelChoices(), OutputChoices(progress=False)
    bundle = data_choices.load(seed)
    parts = split_bundle(bundle, data_choices.test_size, data_choices.val_fraction(bundle), seed)
    warn_shared(parts, note=lambda _: None)
    task, parts = scaled_task(parts)
    spec = model.spec(bundle, task)
    _, config = RecipeChoices(None, {"seed": seed}).config(bundle, spec)
    strands = strand_check(bundle, parts[0], None, {}, model)
    if strands is not None:
        model.rc_average = strands.both_strands is not False
        from dataclasses import replace

        config = replace(config, augment=("rc",) if model.rc_average else ()).check()
    race = position_check(bundle, parts, task, config, model, output)
    if race is None:
        return [name, seed, len(parts[0]), "(no race)"] + ["-"] * 8
    return [name, seed, race.rows, race.chosen, race.free_loss, race.aware_loss, race.free_metric, race.aware_metric,
            race.gain, race.se, round(float(race.z), 2), race.seconds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=None, help="comma-separated panel sets (default: all of panel.json)")
    parser.add_argument("--encode", default="", help="comma-separated held-out ENCODE experiments (heldout_tables)")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--tag")
    args = parser.parse_args()
    out = result_path(__file__, "tsv", args.tag)
    rows = {}
    if out.is_file():
        for line in out.read_text().splitlines()[1:]:
            cells = line.split("\t")
            rows[(cells[0], cells[1])] = cells
    sets = json.loads((PANEL / "panel.json").read_text())
    if args.sets is not None:
        wanted = args.sets.split(",") if args.sets else []
        sets = [s for s in sets if s["name"] in wanted]
    with tempfile.TemporaryDirectory() as tmp:
        todo = [(s["name"], s["file"] if s["file"] == "primer-sim" else str(PANEL / s["file"])) for s in sets]
        if args.encode:
            from benchmarks.accuracy.heldout_tables import PUBLISHED

            for name in args.encode.split(","):
                info = encode_set(PUBLISHED[name][0], 10**9, Path(tmp), f"heldout-{name}")
                todo.append((f"heldout-{name}", str(Path(tmp) / info["file"])))
        for name, data in todo:
            for seed in [int(s) for s in args.seeds.split(",")]:
                row = race_row(name, data, seed)
                rows[(name, str(seed))] = [str(v) for v in row]
                write_text(out, "\n".join("\t".join(r) for r in [HEADER, *rows.values()]) + "\n")
                print("\t".join(map(str, row)), time.strftime("%H:%M:%S"), flush=True)


if __name__ == "__main__":
    main()
