#!/bin/bash
# The GPU checks of one short device session (BENCHMARKS.md: ENCODE grid on a GPU, Fashion-MNIST
# longer schedules, Scale/GPU). Run from the repository root on a CUDA machine whose python3 has
# torch; DATA is a folder holding encode-deepbind/ and fashion-mnist/ (default ../shared/data),
# OUT receives the results (default benchmarks/results/device).
#
#   bash benchmarks/gpu_session.sh            # ~7 min on one H100
set -u
DATA=${DATA:-../shared/data}
OUT=${OUT:-benchmarks/results/device}
mkdir -p "$OUT"
export PYTHONPATH=$PWD/src:$PWD/benchmarks PYTHONUNBUFFERED=1 MPLBACKEND=Agg
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/env-gpu.txt" 2>&1
python3 -c "import torch, sys; print(sys.version, torch.__version__, torch.cuda.get_device_name(0))" >> "$OUT/env-gpu.txt" 2>&1
# 1. the primer from the command line on the GPU (device recorded in config.json)
python3 -m seqcnn train --epochs 5 --out /tmp/gpu-smoke --force --quiet >> "$OUT/env-gpu.txt" 2>&1
# 2. Fashion-MNIST: the batch-normalised stack, 30 epochs, three seeds, and fashion-cnn + fashion-aug (in the background)
F="python3 -m seqcnn train --dataset fashion-mnist --data-dir $DATA/fashion-mnist --quiet --force"
for s in 0 1 2; do $F --model benchmarks/specs/fashion-cnn-bn.json --recipe fashion-bn --epochs 30 --seed $s --out /tmp/f-bn30-s$s > /dev/null 2>&1 & done
$F --model fashion-cnn --recipe fashion-aug --epochs 30 --out /tmp/f-aug30 > /dev/null 2>&1 &
# 3. candidate ChIP-seq defaults on the ten ENCODE experiments, 8 cells at a time on the one GPU
python3 benchmarks/encode_grid.py --data "$DATA/encode-deepbind" --out /tmp/grid --workers 8 --threads 1 \
  --candidates base,neg4,c256,c256-drop,deep2,deep3,adamw > "$OUT/encode-grid-gpu.log" 2>&1
python3 benchmarks/encode_grid.py --data "$DATA/encode-deepbind" --out /tmp/grid --workers 8 --threads 1 \
  --candidates base-seed1,c256-neg4,c512,c256-k16 --only ELK1,GABPA,MYC,ARID3A,ZBTB7A >> "$OUT/encode-grid-gpu.log" 2>&1
cp /tmp/grid/results.tsv "$OUT/encode-grid-gpu.tsv"
wait
for r in /tmp/f-bn30-s0 /tmp/f-bn30-s1 /tmp/f-bn30-s2 /tmp/f-aug30; do
  python3 -c "import json, sys; print(sys.argv[1], json.load(open(sys.argv[1] + '/metrics.json'))['accuracy'])" "$r" >> "$OUT/fashion-gpu.txt" 2>&1
done
# 4. store -> GPU training throughput, alone
python3 benchmarks/gpu.py --seconds 8 --rows 100000 --out "$OUT" > "$OUT/gpu.log" 2>&1
