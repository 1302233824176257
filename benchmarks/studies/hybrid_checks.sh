#!/bin/bash
# The single runs behind docs/benchmarks/hybrid.md: cnn-transformer variants on
# MYC (1,000 positives, the cut of benchmarks/studies/hybrid_models.py), a user's CNN + self-attention spec
# trained with seqcnn's defaults on the same ChIP-seq file, the spec trained and explained on the
# primer's data, and DeepLIFT/SHAP's completeness on the untrained hybrids.
#
#   OMP_NUM_THREADS=1 PYTHONPATH=src bash benchmarks/studies/hybrid_checks.sh   # ~20 min on a loaded 2-core VM
#
# It prints what it measured (the runs stay in $OUT); no results file.
set -eu
PY=${PY:-.venv/bin/python}
DATA=../shared/data
OUT=${OUT:-runs/hybrid-checks}
mkdir -p "$OUT"
$PY -c "from pathlib import Path; from benchmarks.studies import hybrid_models as h; \
h.subsample(h.DATA / 'MYC_H1-hESC_c-Myc_Stanford_AC.seq.gz', 1000, Path('$OUT'))"
MYC_TEST=$DATA/encode-deepbind/MYC_H1-hESC_c-Myc_Stanford_B.seq.gz
T="$PY -m seqcnn train $OUT/MYC_H1-hESC_c-Myc_Stanford_AC.seq.gz --test $MYC_TEST --force --quiet --threads 1"
# the zoo's first cnn-transformer (no layer norm, average pooling) with the ChIP-seq recipe at a lower rate,
# and with global max pooling
$T --model benchmarks/specs/cnn-transformer-nonorm.json --recipe chipseq --lr 1e-3 --out "$OUT/myc-lr1e-3"
$T --model benchmarks/specs/cnn-transformer-globalmax.json --recipe chipseq --out "$OUT/myc-globalmax"
# a user's CNN + self-attention spec with the defaults: seqcnn picks the chipseq-hybrid recipe and says so
$T --model benchmarks/specs/cnn-attention-primer.json --out "$OUT/myc-attention" 2>&1 | grep "recipe chipseq-hybrid"
$PY -m seqcnn train $DATA/zou2019-primer/sequences.txt --labels $DATA/zou2019-primer/labels.txt \
    --model benchmarks/specs/cnn-attention-primer.json --epochs 8 --out "$OUT/primer-attention" --force --quiet
$PY -m seqcnn explain "$OUT/primer-attention"
$PY - <<'PYTHON'
import warnings

import numpy as np
import torch

from seqcnn.interpret.attribution import deep_lift_shap
from seqcnn.models import zoo
from seqcnn.models.network import build_model

x = np.eye(4, dtype=np.float32)[np.random.default_rng(0).integers(0, 4, (2, 101))].transpose(0, 2, 1)
for name in ("cnn-bilstm", "cnn-transformer"):
    torch.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        deep_lift_shap(build_model(zoo.get(name), (4, 101)).eval(), x, n_shuffles=4)
    print(name, [str(w.message).split(":")[0] for w in caught if "%" in str(w.message)])
PYTHON
grep -H auroc "$OUT"/myc-*/metrics.json
