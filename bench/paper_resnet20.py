"""The paper's ResNet-20 / CIFAR-10 protocol on one GPU, plus the compress-only comparison of objectives.

Trains a baseline ResNet-20 on the local JPEG copy of CIFAR-10 (one-cycle, short schedule), then
1. compress-only: top-1 of every objective ("paper", "bound", "exact") and of uniform SVD at several keep ratios;
2. the headline point: ALDS to 25% of the parameters, retrained with LR rewinding.
Prints one JSON document (and writes it with the checkpoint to --out).

    python bench/paper_resnet20.py --data ../shared/data --epochs 60 --retrain 30 --out runs/paper
    python bench/paper_resnet20.py --tiny          # CPU smoke test on a small subset
"""
import argparse, json, os, time, copy
from pathlib import Path
import torch
import lowrank_nb as lr
from lowrank_nb.data import find_cifar10, TensorLoader
from lowrank_nb.models import resnet20
from lowrank_nb.train import fit, evaluate, Schedule, retrain
from lowrank_nb.compress import compress, count_macs

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default=None, help='data root holding CIFAR-10 (default: the library search path)')
    ap.add_argument('--epochs', type=int, default=60)
    ap.add_argument('--retrain', type=int, default=30, help='retraining epochs (LR rewinding)')
    ap.add_argument('--keep', type=float, default=0.25)
    ap.add_argument('--sweep', default='0.5,0.3,0.2,0.1', help='keep ratios of the compress-only comparison')
    ap.add_argument('--out', default='runs/paper_resnet20')
    ap.add_argument('--ckpt', default=None, help='start from this trained ResNet-20 state_dict instead of training')
    ap.add_argument('--tiny', action='store_true', help='CPU smoke test: 512 train / 256 test images, 1 epoch')
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.manual_seed(a.seed)
    d = find_cifar10(a.data)
    tx, ty, vx, vy = d.train_x, d.train_y, d.test_x, d.test_y
    if a.tiny:
        g = torch.Generator().manual_seed(0)
        ti, vi = torch.randperm(len(tx), generator=g)[:512], torch.randperm(len(vx), generator=g)[:256]
        tx, ty, vx, vy, a.epochs, a.retrain = tx[ti], ty[ti], vx[vi], vy[vi], 2, 1
    train = TensorLoader(tx, ty, 128, shuffle=True, augment=True, mean=d.mean, std=d.std, device=dev, drop_last=True, seed=a.seed)
    test = TensorLoader(vx, vy, 1000, mean=d.mean, std=d.std, device=dev)
    sched = Schedule(a.epochs, 'onecycle', lr=0.2, pct_start=0.25)
    model = resnet20()
    res = {'device': torch.cuda.get_device_name() if dev == 'cuda' else 'cpu', 'torch': torch.__version__,
           'epochs': a.epochs, 'retrain_epochs': a.retrain, 'data': d.source if hasattr(d, 'source') else str(a.data)}
    t0 = time.time()
    if a.ckpt: model.load_state_dict(torch.load(a.ckpt, map_location='cpu'))
    else: fit(model, train, test, schedule=sched, weight_decay=5e-4, nesterov=True, progress=False, seed=a.seed, device=dev)
    res['train_seconds'] = round(time.time() - t0, 1)
    model = model.to(dev).float()
    torch.save(model.state_dict(), out / 'resnet20_cifar10.pt')
    res['baseline'] = evaluate(model, test)
    x = vx[:2].to(dev).float()
    # 1. compress-only comparison
    sweep = []
    for keep in [float(k) for k in a.sweep.split(',')]:
        for method, obj in [('svd', 'exact'), ('alds', 'paper'), ('alds', 'bound'), ('alds', 'exact')]:
            t = time.time()
            small, plan = compress(model, keep=keep, method=method, objective=obj, example_input=x)
            r = evaluate(small, test)
            sweep.append(dict(keep=keep, method=method, objective=obj, top1=r['top1'], keep_params=plan.keep_params,
                              keep_macs=plan.keep_macs, max_true_error=plan.max_error,
                              max_objective=max((l.error for l in plan.layers), default=0), seconds=round(time.time() - t, 2),
                              ks=[l.k for l in plan.layers]))
            print(json.dumps(sweep[-1]), flush=True)
    res['compress_only'] = sweep
    # 2. the headline point: ALDS at keep, retrained with LR rewinding
    small, plan = compress(model, keep=a.keep, method='alds', example_input=x)
    res['alds'] = dict(keep=a.keep, objective=plan.objective, keep_params=plan.keep_params, keep_macs=plan.keep_macs,
                       params_removed_pct=100 * (1 - plan.keep_params), macs_removed_pct=100 * (1 - plan.keep_macs),
                       before_retrain=evaluate(small, test))
    t = time.time()
    retrain(small, train, test, sched, a.retrain, weight_decay=5e-4, nesterov=True, progress=False, seed=a.seed, device=dev)
    res['alds']['retrain_seconds'] = round(time.time() - t, 1)
    res['alds']['after_retrain'] = evaluate(small, test)
    res['alds']['delta_top1'] = res['alds']['after_retrain']['top1'] - res['baseline']['top1']
    torch.save({'state_dict': small.state_dict(), 'plan': plan.to_dict()}, out / 'resnet20_alds.pt')
    (out / 'result.json').write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))

if __name__ == '__main__': main()
