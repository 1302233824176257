#!/usr/bin/env bash
# Train the default model on the built-in data with a fixed seed from two source trees and compare the
# results byte for byte (metrics.json, predictions.tsv): a refactor must not change a number.
#   benchmarks/same_result.sh OLD_SRC NEW_SRC [PYTHON]     e.g. ../main/src src
set -euo pipefail
old=$1 new=$2 python=${3:-python3}
out=$(mktemp -d)
for side in old new; do
    src=${!side}
    OMP_NUM_THREADS=1 PYTHONPATH=$src "$python" -m seqcnn train --seed 3 --epochs 5 --quiet --out "$out/$side" > /dev/null
done
for file in metrics.json predictions.tsv; do
    if cmp -s "$out/old/$file" "$out/new/$file"; then echo "$file: identical"; else echo "$file: DIFFERS"; exit 1; fi
done
python3 - "$out" <<'PY'
import json, sys
old, new = (json.load(open(f"{sys.argv[1]}/{s}/config.json")) for s in ("old", "new"))
for c in (old, new):
    c.pop("seconds"); c["command"] = None
print("config.json (but seconds and the command line):", "identical" if old == new else "DIFFERS")
PY
rm -rf "$out"
