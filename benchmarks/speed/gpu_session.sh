#!/bin/bash
# The GPU checks of one short device session (docs/benchmarks: the ENCODE grid on a GPU in encode.md, the longer
# Fashion-MNIST schedules in fashion.md, GPU throughput in scale.md). Run from the repository root on a CUDA machine
# whose python3 has torch; DATA is a folder holding encode-deepbind/ and fashion-mnist/ (default ../shared/data).
# Each step writes its results where benchmarks/harness.py says, tagged with the GPU (e.g. h100):
# benchmarks/results/speed/gpu_session-<gpu>.txt (the machine, the smoke run), accuracy/fashion-gpu30-<gpu>/
# (test accuracies and histories), studies/encode_grid-<gpu>.{tsv,md}, speed/gpu-<gpu>.json.
#
#   bash benchmarks/speed/gpu_session.sh            # ~7 min on one H100
set -u
DATA=${DATA:-../shared/data}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 MPLBACKEND=Agg
TAG=$(python3 -m benchmarks.harness --device cuda | head -1)
LOG=benchmarks/results/speed/gpu_session-$TAG.txt
GRID=/tmp/grid
mkdir -p benchmarks/results/speed benchmarks/results/studies
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$LOG" 2>&1
python3 -c "import torch, sys; print(sys.version, torch.__version__, torch.cuda.get_device_name(0))" >> "$LOG" 2>&1
# 1. the primer from the command line on the GPU (device recorded in config.json)
python3 -m seqcnn train --epochs 5 --out /tmp/gpu-smoke --force --quiet >> "$LOG" 2>&1
# 2. Fashion-MNIST: the batch-normalised stack, 30 epochs, three seeds, and fashion-cnn + fashion-aug (in the background)
F="python3 -m seqcnn train --dataset fashion-mnist --data-dir $DATA/fashion-mnist --quiet --force"
for s in 0 1 2; do $F --model benchmarks/specs/fashion-cnn-bn.json --recipe fashion-bn --epochs 30 --seed $s --out /tmp/f-bn30-s$s > /dev/null 2>&1 & done
$F --model fashion-cnn --recipe fashion-aug --epochs 30 --out /tmp/f-aug30-s0 > /dev/null 2>&1 &
# 3. candidate ChIP-seq defaults on the ten ENCODE experiments, 8 cells at a time on the one GPU
python3 -m benchmarks.studies.encode_grid --data "$DATA/encode-deepbind" --out $GRID --workers 8 --threads 1 \
  --candidates base,neg4,c256,c256-drop,deep2,deep3,adamw --keep > /tmp/encode-grid-gpu.log 2>&1
python3 -m benchmarks.studies.encode_grid --data "$DATA/encode-deepbind" --out $GRID --workers 8 --threads 1 \
  --candidates base-seed1,c256-neg4,c512,c256-k16 --only ELK1,GABPA,MYC,ARID3A,ZBTB7A --keep second \
  >> /tmp/encode-grid-gpu.log 2>&1
wait
FASHION=benchmarks/results/accuracy/fashion-gpu30-$TAG
mkdir -p "$FASHION"
: > "$FASHION/accuracy.txt"
for r in /tmp/f-bn30-s0 /tmp/f-bn30-s1 /tmp/f-bn30-s2 /tmp/f-aug30-s0; do
  python3 -c "import json, sys; print(sys.argv[1], json.load(open(sys.argv[1] + '/metrics.json'))['accuracy'])" "$r" >> "$FASHION/accuracy.txt" 2>&1
  cp "$r/history.csv" "$FASHION/$(basename "$r" | sed 's/^f-//; s/-s\([0-9]\)$/-seed\1/')-history.csv"
done
# 4. store -> GPU training throughput, alone
python3 -m benchmarks.speed.gpu --seconds 8 --rows 100000 > /tmp/gpu.log 2>&1
