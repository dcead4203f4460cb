"""Error against measured latency: MAC-budget allocations beside latency-budget allocations of the same network.

Compresses one model (seeded random weights: latency and the weight-only error objective need no training) with
ALDS under budget="flops" at several keep ratios and under budget="latency" (closed loop) at several keep ratios,
all with the same rank multiple and allowed group counts. Then times the original and every compressed model
together in interleaved rounds (minimum of --repeats; CUDA events on a GPU), so that load changes hit all alike, and
prints JSON: per model its MAC ratio, measured latency ratio and max layer error (the allocation objective), and,
for every MAC-budget point inside the latency-budget curve, the latency-budget error interpolated at the same
measured latency, divided by the MAC-budget error (issue target: at most 1.10). With --plot, saves the two curves.
--deploy times a deployed form of every model, the original included (lowrank_nb.latency.deploy): folded (BatchNorm
folded, fastest modes measured again on the folded model) or compiled (that, then torch.compile with frozen weights);
the latency budgets are then met in that form too (compress(..., budget=LatencyBudget(form=...))).

Examples:
  python bench/latency_vs_macs.py --model resnet18 --batch 32 --threads 2 --out bench/results/latency/resnet18_b32_cpu_error_vs_latency.json
  python bench/latency_vs_macs.py --device cuda --model resnet18 --batch 256
"""
import argparse, copy, json, os, platform, sys, time
import torch, torchvision
from lowrank_nb.compress import compress, AllocOptions
from lowrank_nb.models import resnet20
from lowrank_nb.latency import LatencyBudget, time_calls, set_fastest_modes, device_key, default_multiple, deploy

MODELS = {'resnet20': (lambda: resnet20(), 32), 'resnet18': (lambda: torchvision.models.resnet18(), 224),
          'vgg16': (lambda: torchvision.models.vgg16_bn(), 224)}

def objective(plan): return max((l.error for l in plan.layers), default=0.)

def interp(x, xs, ys):
    "Linear interpolation of y at x on the curve (xs, ys) sorted by xs; None outside it."
    pts = sorted(zip(xs, ys))
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= x <= x1: return y0 if x1 == x0 else y0 + (x - x0) / (x1 - x0) * (y1 - y0)
    return None

def main(a):
    torch.manual_seed(0)
    ctor, hw = MODELS[a.model]
    cuda = a.device.startswith('cuda')
    dtype, fmt = (torch.bfloat16, torch.channels_last) if cuda else (torch.float32, torch.channels_last if not a.nchw else torch.contiguous_format)
    orig = ctor().eval().to(device=a.device, dtype=dtype, memory_format=fmt)
    x = torch.randn(a.batch, 3, hw, hw, device=a.device, dtype=dtype).contiguous(memory_format=fmt)
    multiple = a.multiple or default_multiple(a.device)
    ks = [int(k) for k in a.ks.split(',')] if a.ks else None
    models, rows = {}, []
    for budget, keeps in (('flops', a.mac_keeps), ('latency', a.latency_keeps)):
        for keep in keeps:
            t0 = time.perf_counter()
            small, plan = compress(orig, keep, example_input=x, alloc=AllocOptions(ks=ks, multiple=multiple),
                                   budget=LatencyBudget(cache=not a.no_cache, form=a.deploy) if budget == 'latency' else budget)
            if budget == 'flops': set_fastest_modes(small, x, cache=not a.no_cache)
            name = f'{budget}@{keep}'
            models[name] = small.to(memory_format=fmt).eval()
            rows.append(dict(name=name, budget=budget, keep=keep, mac_ratio=round(plan.keep_macs, 4), param_ratio=round(plan.keep_params, 4),
                             objective=round(objective(plan), 4), max_true_error=round(plan.max_error, 4), compress_s=round(time.perf_counter() - t0, 1),
                             latency_steps=plan.latency_steps, factored=[(l.k, l.j) for l in plan.factored]))
            print(f'# {name}: MACs {plan.keep_macs:.4f} objective {objective(plan):.4f} steps {plan.latency_steps} '
                  f'({time.perf_counter() - t0:.0f} s, load {os.getloadavg()[0]:.2f})', file=sys.stderr, flush=True)
    run_orig = orig
    if a.deploy != 'eager':        # the deployed form of every model, the original's included
        run_orig = deploy(orig, x, compile=a.deploy == 'compiled', cache=not a.no_cache)
        models = {n: deploy(m, x, compile=a.deploy == 'compiled', cache=not a.no_cache) for n, m in models.items()}
    t = time_calls({'original': lambda: run_orig(x), **{n: (lambda m=m: m(x)) for n, m in models.items()}}, a.device,
                   warmup=2, repeats=a.repeats, inner=10 if cuda else 1, stat='min')
    for r in rows: r['latency_ratio'] = round(t[r['name']] / t['original'], 4)
    mac = [r for r in rows if r['budget'] == 'flops']
    lat = [r for r in rows if r['budget'] == 'latency']
    cmp = []
    for r in mac:
        e = interp(r['latency_ratio'], [l['latency_ratio'] for l in lat], [l['objective'] for l in lat])
        cmp.append(dict(mac_keep=r['keep'], latency_ratio=r['latency_ratio'], mac_objective=r['objective'],
                        latency_budget_objective=None if e is None else round(e, 4),
                        ratio=None if e is None else round(e / r['objective'], 4)))
    doc = dict(command=' '.join(sys.argv), model=a.model, batch=a.batch, device=device_key(a.device), dtype=str(dtype)[6:],
               channels_last=fmt == torch.channels_last, deploy=a.deploy, threads=torch.get_num_threads(), multiple=multiple, ks=ks,
               torch=torch.__version__, original_s=t['original'], rows=rows, same_latency=cmp, load_end=os.getloadavg()[0])
    if a.plot:
        import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        for rs, lab, st in ((mac, 'budget="flops"', 'o-'), (lat, 'budget="latency"', 's-')):
            rs = sorted(rs, key=lambda r: r['latency_ratio'])
            ax.plot([r['latency_ratio'] for r in rs], [r['objective'] for r in rs], st, label=lab)
        ax.set_xlabel('measured latency / original'); ax.set_ylabel('max layer error (objective)')
        ax.set_title(f'{a.model}, batch {a.batch}{"" if a.deploy == "eager" else ", " + a.deploy}, {doc["device"][:40]}', fontsize=8); ax.legend(); fig.tight_layout()
        fig.savefig(a.plot, dpi=110)
    return doc

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--model', default='resnet18', choices=list(MODELS))
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--mac-keeps', default='0.4,0.5,0.6,0.7')
    ap.add_argument('--latency-keeps', default='0.55,0.65,0.75,0.85')
    ap.add_argument('--multiple', type=int, default=None, help='rank multiple (default: lowrank_nb.latency.default_multiple of the device)')
    ap.add_argument('--ks', default='1', help='allowed group counts, comma-separated ("" for all)')
    ap.add_argument('--repeats', type=int, default=9)
    ap.add_argument('--threads', type=int, default=None)
    ap.add_argument('--nchw', action='store_true', help='CPU: run NCHW instead of channels-last')
    ap.add_argument('--deploy', default='eager', choices=['eager', 'folded', 'compiled'],
                    help='form timed, original and compressed alike: eager, folded (lowrank_nb.latency.deploy: BatchNorm folded, fastest modes) or compiled (also torch.compile)')
    ap.add_argument('--no-cache', action='store_true', help='do not read or write the on-disk latency cache')
    ap.add_argument('--plot', default=None, help='save the error-vs-latency curves to this image')
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    if a.device.startswith('cuda'): torch.backends.cudnn.benchmark = True
    a.mac_keeps = [float(k) for k in a.mac_keeps.split(',')]
    a.latency_keeps = [float(k) for k in a.latency_keeps.split(',')]
    t0 = time.perf_counter()
    doc = main(a)
    doc['wall_s'] = round(time.perf_counter() - t0, 1)
    text = json.dumps(doc, indent=1)
    print(text)
    if a.out:
        from lowrank_nb.data import atomic_write_text
        atomic_write_text(a.out, text + '\n')
