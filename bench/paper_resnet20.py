"""The paper's ResNet-20 / CIFAR-10 protocol on one GPU, plus the compress-only comparison of objectives.

Thin wrapper over `lowrank_nb paper` (lowrank_nb.cli.run_paper, nbs/09_cli.ipynb): trains a baseline ResNet-20 on the
local JPEG copy of CIFAR-10 (one-cycle), compares compress-only top-1 of uniform SVD and ALDS objectives, compresses
with ALDS to --keep and retrains with LR rewinding; writes result.json, the baseline and the compressed model to --out.

    python bench/paper_resnet20.py --data ../shared/data --epochs 60 --retrain 30 --out runs/paper
    python bench/paper_resnet20.py --tiny --data ../shared/data     # CPU smoke test on a small subset
"""
import sys
from lowrank_nb.cli import main

if __name__ == '__main__': sys.exit(main(['paper', *sys.argv[1:]]))
