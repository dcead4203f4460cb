#!/usr/bin/env python
"""Compress-only accuracy against measured latency, for the grouped default and the fast configuration (k = 1, ranks
in multiples), with and without calibration data.

For each configuration and MAC keep ratio (and, for the fast configuration with data, latency budgets): the trained
ResNet-20 is compressed (1024 calibration images where data is used) and its test top-1 measured; the latency ratio is
measured on the deployed form (BatchNorm folded, fastest modes; `lowrank_nb.deploy`) of both the original and the
compressed network, timed together: for ResNet-20 itself (32×32) and, where convolutions dominate, for torchvision
ResNet-18 at 224×224 compressed with the same configuration (seeded random weights: latency needs no training; its
allocation is the data-free one, its structure that configuration's). Prints JSON; --plot saves the figure. Every
finished point is kept in --out at once; running the same command again resumes. A latency budget the tables show
unreachable is recorded with its reason.

    python bench/accuracy_vs_latency.py --out bench/results/latency/accuracy_vs_latency_cpu.json --plot bench/results/latency/accuracy_vs_latency_cpu.png
"""
from __future__ import annotations
import argparse, json, platform, time
from pathlib import Path
import torch, torchvision
from lowrank_nb.cli import load_data, load_weights, calibration_images
from lowrank_nb.compress import compress, AllocOptions
from lowrank_nb.latency import LatencyBudget, deploy, models_latency
from lowrank_nb.experiments import measure
from lowrank_nb.allocation import BudgetError
from lowrank_nb.calibrate import Calibration

ROOT = Path(__file__).resolve().parent

def ratio(orig, small, x, repeats):
    "Deployed latency of `small` over the deployed `orig`, timed together (minimum of `repeats`)."
    t = models_latency({'a': deploy(orig, x, cache=False), 'b': deploy(small, x, cache=False)}, x, repeats=repeats, stat='min')
    return t['b'] / t['a']

def main(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    r20 = load_weights('resnet20', ROOT/'results'/'resnet20_cifar10_jpeg.pt').eval()
    train, test = load_data('cifar10')
    calib = calibration_images(train, a.calib)
    x1 = torch.zeros(1, 3, 32, 32)
    x20 = torch.randn(a.batch, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    r18 = torchvision.models.resnet18().eval().to(memory_format=torch.channels_last)
    x18 = torch.randn(a.batch, 3, 224, 224).contiguous(memory_format=torch.channels_last)
    configs = {'grouped': AllocOptions(), 'fast': AllocOptions(ks=[1], multiple=a.multiple)}
    done = json.loads(Path(a.out).read_text())['rows'] if a.out and Path(a.out).exists() else []
    rows = []
    def save():
        if a.out: Path(a.out).write_text(json.dumps(dict(rows=rows, partial=True), indent=1))
    for name, alloc in configs.items():
        points = [('flops', k) for k in a.keeps] + ([('latency', k) for k in a.latency_keeps] if name == 'fast' else [])
        for budget, keep in points:
            for with_data in (False, True):
                if budget == 'latency' and not with_data: continue
                old = next((r for r in done if (r['config'], r['budget'], r['keep'], r['data']) == (name, budget, keep, with_data)), None)
                if old is not None: rows.append(old); continue
                t0 = time.perf_counter()
                ex = x20 if budget == 'latency' else x1
                b = LatencyBudget(form='folded', cache=False) if budget == 'latency' else budget
                # the fit unweighted, the layers left dense not refitted (Calibration(metric=None, dense=False, relax=0)), as the stored
                # results were measured
                try: small, plan = compress(r20, keep, budget=b, example_input=ex, data=calib if with_data else None, alloc=alloc,
                                            calibration=Calibration(metric=None, dense=False, relax=0))
                except BudgetError as e:
                    rows.append(dict(config=name, budget=budget, keep=keep, data=with_data, unreachable=str(e))); save()
                    print(json.dumps(rows[-1]), flush=True); continue
                secs = time.perf_counter() - t0
                m = measure(small, test, x1)
                row = dict(config=name, budget=budget, keep=keep, data=with_data, objective=plan.objective, top1=m['top1'],
                           keep_macs=plan.keep_macs, keep_params=plan.keep_params, compress_s=round(secs, 1),
                           resnet20_latency=ratio(r20, small.to(memory_format=torch.channels_last), x20, a.repeats))
                if budget == 'flops' and not with_data:   # the structure of this configuration on ResNet-18 at 224
                    s18, p18 = compress(r18, keep, budget='flops', example_input=x18[:1], alloc=alloc)
                    row.update(resnet18_keep_macs=p18.keep_macs, resnet18_latency=ratio(r18, s18.to(memory_format=torch.channels_last), x18, a.repeats))
                rows.append(row); save()
                print(json.dumps(row), flush=True)
    for r in rows:                                   # data-aware points share the structure's ResNet-18 latency of their MAC keep
        if 'resnet18_latency' not in r and r['budget'] == 'flops':
            twin = next(q for q in rows if q['config'] == r['config'] and q['keep'] == r['keep'] and 'resnet18_latency' in q)
            r['resnet18_latency_of_data_free_structure'] = twin['resnet18_latency']
    base = measure(r20, test, x1)['top1']
    res = dict(device='cpu', cpu=platform.processor() or platform.machine(), threads=a.threads, batch=a.batch, torch=torch.__version__,
               calib=a.calib, multiple=a.multiple, baseline_top1=base, rows=rows,
               command='python bench/accuracy_vs_latency.py ' + ' '.join(f'--{k.replace("_", "-")} {v if not isinstance(v, list) else ",".join(map(str, v))}'
                                                                          for k, v in vars(a).items() if v is not None))
    if a.out: Path(a.out).write_text(json.dumps(res, indent=1))
    if a.plot:
        import matplotlib; matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, axs = plt.subplots(1, 2, figsize=(11, 4))
        for ax, key in zip(axs, ('resnet20_latency', 'resnet18')):
            for (cfg, d), (c, mk) in {('grouped', False): ('tab:blue', 'o'), ('grouped', True): ('tab:blue', 's'),
                                      ('fast', False): ('tab:orange', 'o'), ('fast', True): ('tab:orange', 's')}.items():
                pts = [r for r in rows if r['config'] == cfg and r['data'] == d and r['budget'] == 'flops']
                xs = [r.get('resnet18_latency', r.get('resnet18_latency_of_data_free_structure')) if key == 'resnet18' else r[key] for r in pts]
                ax.plot(xs, [r['top1'] for r in pts], '-' + mk, color=c, mfc='none' if not d else c,
                        label=f"{cfg}{' + data' if d else ', data-free'}")
            if key == 'resnet20_latency':
                lp = [r for r in rows if r['budget'] == 'latency' and 'top1' in r]
                ax.plot([r[key] for r in lp], [r['top1'] for r in lp], '*', color='tab:green', ms=10, label='fast + data, latency budget')
            ax.axhline(base, color='k', lw=0.8, ls=':', label='original')
            ax.set_xlabel('latency / original, deployed, batch ' + str(a.batch) + (' (ResNet-20, 32×32)' if key == 'resnet20_latency' else ' (ResNet-18 at 224, same structure)'))
            ax.set_ylabel('ResNet-20 test top-1 (%), compressed only'); ax.grid(alpha=0.3); ax.legend(fontsize=7)
        fig.tight_layout(); fig.savefig(a.plot, dpi=110)
    print(json.dumps(res, indent=1))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--keeps', type=lambda s: [float(v) for v in s.split(',')], default=[0.7, 0.5, 0.35], help='MAC keep ratios')
    ap.add_argument('--latency-keeps', type=lambda s: [float(v) for v in s.split(',')], default=[0.9, 0.8], help='latency budgets (fast + data)')
    ap.add_argument('--multiple', type=int, default=8)
    ap.add_argument('--calib', type=int, default=1024)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--repeats', type=int, default=7)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--out', default=None)
    ap.add_argument('--plot', default=None)
    main(ap.parse_args())
