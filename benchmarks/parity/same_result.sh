#!/usr/bin/env bash
# Train with a fixed seed from two source trees and compare the results: the weights (model.safetensors) and
# predictions.tsv byte for byte, metrics.json to 12 significant digits (its last digit varies between two runs of
# one tree: AUROC's float sums), config.json but the run time and command line. A refactor must not change a number.
# Two cases: the default model on the built-in data, and positives-only (ChIP-seq style) data, which
# takes the chipseq model and recipe, dinucleotide-shuffled negatives and strand averaging.
#   bash benchmarks/parity/same_result.sh OLD_SRC NEW_SRC [PYTHON]     e.g. ../main/src src .venv/bin/python
# It prints its verdicts; kept as benchmarks/results/parity/same_result-<what>-<machine>.txt when they are evidence.
set -euo pipefail
old=$1 new=$2 python=${3:-python3}
out=$(mktemp -d)
PYTHONPATH=$new "$python" -c "
from seqcnn.data.builtin import simulate_primer
r = simulate_primer(n=600, seed=5)
open('$out/positives.fa', 'w').write(''.join(f'>{i}\n{s}\n' for i, s, l in zip(r.ids, r.seqs, r.labels) if l == 1))"
declare -A cases=([builtin]="--epochs 5" [positives-only]="$out/positives.fa --epochs 2")
for case in builtin positives-only; do
    for side in old new; do
        OMP_NUM_THREADS=1 PYTHONPATH=${!side} "$python" -m seqcnn train ${cases[$case]} --seed 3 --quiet \
            --out "$out/$case-$side" 2> /dev/null > /dev/null
    done
    for file in model.safetensors predictions.tsv; do
        if cmp -s "$out/$case-old/$file" "$out/$case-new/$file"; then echo "$case $file: identical"
        else echo "$case $file: DIFFERS"; exit 1; fi
    done
    python3 - "$out/$case-old" "$out/$case-new" "$case" <<'PY'
import json, sys
old, new, case = sys.argv[1:4]
def rounded(obj):
    if isinstance(obj, float):
        return float(f"{obj:.12g}")
    return {k: rounded(v) for k, v in obj.items()} if isinstance(obj, dict) else obj
same = rounded(json.load(open(f"{old}/metrics.json"))) == rounded(json.load(open(f"{new}/metrics.json")))
print(f"{case} metrics.json (12 significant digits):", "identical" if same else "DIFFERS")
configs = [json.load(open(f"{d}/config.json")) for d in (old, new)]
for c in configs:
    c.pop("seconds"); c["command"] = None
print(f"{case} config.json (but seconds and the command line):", "identical" if configs[0] == configs[1] else "DIFFERS")
PY
done
rm -rf "$out"
