#!/usr/bin/env bash
# The GPU checks still open in issues 3 and 6, sized for one 15-minute device lease, in two device calls:
#
#   run(command="bash bench/gpu_checks.sh paper",   carry=[".whl", "shared/data"], timeout_s=560)   # ~8 min
#   run(command="bash bench/gpu_checks.sh latency", carry=[".whl", "shared/data"], timeout_s=300)   # ~3 min
#
# Before: the fastcore and fastprogress wheels in .whl/ (the device image lacks them:
#   pip download fastcore fastprogress --no-deps -d .whl), and the CIFAR-10 JPEG archive in shared/data/
#   (mkdir -p shared/data && cp ../shared/data/cifar10-jpeg.tar.gz shared/data/). Both paths are git-ignored.
# Writes under $OUT (the folder whose files come back from the GPU machine; default runs/gpu_checks): few files, two folders deep at most.
set -u
OUT=${OUT:-runs/gpu_checks}; mkdir -p "$OUT"
pip install -q --no-deps --target /tmp/site .whl/*.whl 2>&1 | tail -2
export PYTHONPATH=/tmp/site:.
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
python -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)" | tee -a "$OUT/gpu.txt"

case "${1:-}" in
paper)   # issue 3: the paper's ResNet-20 protocol as one command within 8 minutes of one GPU
    start=$(date +%s)
    timeout 540 python bench/paper_resnet20.py --data shared/data --epochs 60 --retrain 15 --out /tmp/paper 2>&1 | tail -40
    echo "wall seconds: $(( $(date +%s) - start ))" | tee "$OUT/paper_wall.txt"
    cp /tmp/paper/result.json "$OUT/paper_result.json"
    ;;
latency) # issue 6: end-to-end latency on the GPU (bf16, channels-last, CUDA events), and error against latency
    timeout 150 python bench/latency.py --device cuda --models resnet18,resnet20 --batches 1,256 --keeps 0.5,0.25 --deploy folded \
        --methods alds,svd --out "$OUT/latency_gpu.json" > /dev/null
    timeout 130 python bench/latency_vs_macs.py --device cuda --model resnet18 --batch 256 --ks 1 \
        --plot "$OUT/resnet18_b256_gpu_error_vs_latency.png" --out "$OUT/resnet18_b256_gpu_error_vs_latency.json" > /dev/null
    ls -la "$OUT"
    ;;
*) echo "usage: bash bench/gpu_checks.sh paper|latency" >&2; exit 2 ;;
esac
