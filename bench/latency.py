"""End-to-end latency of original vs compressed networks, beside their MAC ratios.

For each model (seeded random weights: latency does not depend on the values), each compression variant
(method, keep ratio of MACs, rank multiple, allowed group counts) and each device setting (CPU fp32 NCHW, or
GPU bf16 channels-last), the script measures one forward pass of the original and of the compressed model
(eval mode, inference mode, warm-up, median of --repeats; CUDA events on a GPU), once with the default
execution mode of the factored layers ('grouped') and once with the fastest mode per layer
(lowrank_nb.latency.set_fastest_modes). With --latency-budget it also compresses under budget="latency" at the
latency ratio the MAC-budget variant reached and compares the allocations' error objectives (max layer error).
With --deploy folded,compiled it also times those deployed forms of the original and of each compressed model
(lowrank_nb.latency.deploy: BatchNorm folded and fastest modes measured on the folded model; compiled adds
torch.compile with frozen weights), and reports their ratios under "deployed".
Prints one JSON document (and writes it atomically to --out if given).

Examples:
  python bench/latency.py --device cpu --models resnet18 --batches 32 --keeps 0.5 --threads 1
  python bench/latency.py --device cuda --models resnet18,vgg16,resnet20 --batches 1,256
"""
import argparse, copy, json, os, platform, sys, time
import torch, torchvision
from lowrank_nb.compress import compress, AllocOptions
from lowrank_nb.models import resnet20
from lowrank_nb.latency import LatencyBudget, time_calls, set_fastest_modes, device_key, default_multiple, deploy

MODELS = {  # name: (constructor, input resolution)
    'resnet20': (lambda: resnet20(), 32),
    'resnet18': (lambda: torchvision.models.resnet18(), 224),
    'vgg16': (lambda: torchvision.models.vgg16(), 224),
}

def load(): return round(os.getloadavg()[0], 2)

def variants(methods, keeps, multiple, alds_variants=('m1', 'm', 'k1')):
    "Compression variants: (method, keep, multiple, ks). alds: m1 = any k, ranks free; m = any k, ranks multiples; k1 = k = 1, multiples."
    out = []
    for keep in keeps:
        for m in methods:
            if m == 'alds':
                out += [v for name, v in (('m1', ('alds', keep, 1, None)), ('m', ('alds', keep, multiple, None)),
                                          ('k1', ('alds', keep, multiple, (1,)))) if name in alds_variants]
            else: out.append((m, keep, multiple, None))
    return out

def setting(device, channels_last=None):
    "dtype and memory format per device: CPU fp32 (NCHW unless channels_last), GPU bf16 channels-last."
    if device == 'cpu': return torch.float32, (torch.channels_last if channels_last else torch.contiguous_format)
    return torch.bfloat16, torch.channels_last

def prepare(model, device, dtype, fmt):
    m = copy.deepcopy(model).to(device=device, dtype=dtype)
    if fmt == torch.channels_last: m = m.to(memory_format=fmt)
    return m.eval()

def timed(models: dict, x, repeats, device):
    "Median seconds of each model on `x`, in interleaved rounds (a change in machine load hits all alike)."
    return time_calls({n: (lambda m=m: m(x)) for n, m in models.items()}, device, warmup=2, repeats=repeats, inner=10 if device != 'cpu' else 1)

def max_objective(plan): return max((l.error for l in plan.layers), default=0.)

def run(a):
    torch.manual_seed(0)
    dev = a.device
    dtype, fmt = setting(dev, a.channels_last)
    multiple = a.multiple or default_multiple(dev)
    res = []
    for name in a.models:
        ctor, hw = MODELS[name]
        torch.manual_seed(0)
        orig = ctor().eval()
        x1 = torch.randn(1, 3, hw, hw)
        comp = {}
        for v in variants(a.methods, a.keeps, multiple, a.alds_variants.split(',')):
            method, keep, mult, ks = v
            t0 = time.perf_counter()
            small, plan = compress(orig, keep, budget='flops', method=method, example_input=x1,
                                   alloc=AllocOptions(ks=None if ks is None else list(ks), multiple=mult, max_k=a.max_k or None))
            comp[v] = (small, plan, time.perf_counter() - t0)
        for b in a.batches:
            x = torch.randn(b, 3, hw, hw, device=dev, dtype=dtype).contiguous(memory_format=fmt)
            o = prepare(orig, dev, dtype, fmt)
            entry = dict(model=name, device=device_key(dev), dtype=str(dtype)[6:], batch=b, channels_last=fmt == torch.channels_last,
                         load_before=load(), variants=[])
            entry['original_s'] = timed({'o': o}, x, a.repeats, dev)['o']
            od = {f: deploy(o, x, compile=f == 'compiled', cache=not a.no_cache) for f in a.deploy}
            for (method, keep, mult, ks), (small, plan, secs) in comp.items():
                s = prepare(small, dev, dtype, fmt)
                row = dict(method=method, budget='flops', keep=keep, multiple=mult, ks=None if ks is None else list(ks), mac_ratio=round(plan.keep_macs, 4),
                           param_ratio=round(plan.keep_params, 4), objective=round(max_objective(plan), 4),
                           factored=[(l.k, l.j) for l in plan.factored], compress_s=round(secs, 2))
                tg = timed({'o': o, 's': s}, x, a.repeats, dev)
                modes = set_fastest_modes(s, x, cache=not a.no_cache)
                tf = timed({'o': o, 's': s}, x, a.repeats, dev)
                t_g, t_f = tg['s'], tf['s']
                row.update(original_s=(tg['o'], tf['o']), grouped_s=t_g, grouped_ratio=round(t_g / tg['o'], 4), fastest_s=t_f,
                           fastest_ratio=round(t_f / tf['o'], 4), modes={m: list(modes.values()).count(m) for m in set(modes.values())})
                if a.deploy:
                    sd = {f: deploy(s, x, compile=f == 'compiled', cache=not a.no_cache) for f in a.deploy}
                    td = timed({**{f'o-{f}': od[f] for f in a.deploy}, **{f's-{f}': sd[f] for f in a.deploy}}, x, a.repeats, dev)
                    row['deployed'] = {f: dict(original_s=td[f'o-{f}'], compressed_s=td[f's-{f}'], ratio=round(td[f's-{f}'] / td[f'o-{f}'], 4))
                                       for f in a.deploy}
                    del sd
                if a.latency_budget and method == 'alds' and mult == multiple and (ks == (1,) or a.latency_budget == 'all'):
                    ol = prepare(orig, dev, dtype, fmt)
                    target = min(1.0, row['grouped_ratio'], row['fastest_ratio'])
                    try:
                        sl, pl = compress(ol, target, budget=LatencyBudget(cache=not a.no_cache), example_input=x,
                                          alloc=AllocOptions(ks=None if ks is None else list(ks), multiple=mult, max_k=a.max_k or None))
                        tl = timed({'o': o, 'l': sl, 's': s}, x, a.repeats, dev)
                        row['latency_budget'] = dict(keep=round(target, 4), latency_ratio=round(tl['l'] / tl['o'], 4),
                                                     flops_variant_ratio_again=round(tl['s'] / tl['o'], 4), mac_ratio=round(pl.keep_macs, 4),
                                                     objective=round(max_objective(pl), 4),
                                                     objective_vs_flops=round(max_objective(pl) / max(max_objective(plan), 1e-12), 4),
                                                     predicted_ratio=round(pl.latency_predicted / pl.latency_before, 4),
                                                     factored=[(l.k, l.j) for l in pl.factored])
                    except ValueError as e: row['latency_budget'] = dict(keep=round(target, 4), error=str(e))
                entry['variants'].append(row)
                lb = row.get('latency_budget', {})
                print(f"# {name} b={b} {method} keep={keep} m={mult} ks={ks}: MACs {row['mac_ratio']} time grouped {row['grouped_ratio']} "
                      f"fastest {row['fastest_ratio']} " + ''.join(f"{f} {d['ratio']} " for f, d in row.get('deployed', {}).items()) + f"objective {row['objective']}" + (f"; latency budget {lb}" if lb else '') +
                      f" (load {load()})", file=sys.stderr, flush=True)
            entry['load_after'] = load()
            res.append(entry)
    return res

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--models', default='resnet20,resnet18,vgg16')
    ap.add_argument('--methods', default='alds,svd')
    ap.add_argument('--keeps', default='0.5,0.25')
    ap.add_argument('--batches', default=None, help='default: 1,32 on the CPU, 1,256 on a GPU')
    ap.add_argument('--multiple', type=int, default=None, help='rank multiple of the rounded variants (default: lowrank_nb.latency.default_multiple of the device)')
    ap.add_argument('--max-k', type=int, default=None, help='cap on the group count (speeds up compressing VGG16 on a CPU)')
    ap.add_argument('--repeats', type=int, default=7)
    ap.add_argument('--alds-variants', default='m1,m,k1', help='alds variants: m1 (ranks free), m (ranks multiples), k1 (k = 1, multiples)')
    ap.add_argument('--channels-last', action='store_true', help='CPU: run original and compressed models channels-last (GPU: always)')
    ap.add_argument('--threads', type=int, default=None)
    ap.add_argument('--latency-budget', choices=['k1', 'all'], default=None,
                    help='also compress under budget="latency" at the latency ratio the MAC-budget variant reached: '
                         'for the k=1 variant only (k1; cheap tables) or for every alds variant with the rank multiple (all)')
    ap.add_argument('--deploy', default='', help='deployed forms to time as well, comma-separated: folded, compiled (lowrank_nb.latency.deploy)')
    ap.add_argument('--no-cache', action='store_true', help='do not read or write the on-disk latency cache')
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    if a.device.startswith('cuda'): torch.backends.cudnn.benchmark = True
    a.models, a.methods = a.models.split(','), a.methods.split(',')
    a.deploy = [f for f in a.deploy.split(',') if f]
    if set(a.deploy) - {'folded', 'compiled'}: ap.error(f"--deploy takes folded and/or compiled, got {a.deploy}")
    a.keeps = [float(k) for k in a.keeps.split(',')]
    a.batches = [int(b) for b in (a.batches or ('1,32' if a.device == 'cpu' else '1,256')).split(',')]
    unknown = [m for m in a.models if m not in MODELS]
    if unknown: ap.error(f'unknown models {unknown}: choose from {list(MODELS)}')
    t0 = time.perf_counter()
    doc = dict(command=' '.join(sys.argv), torch=torch.__version__, threads=torch.get_num_threads(),
               cpu=platform.processor() or platform.machine(), load_start=load(), results=run(a))
    doc['load_end'], doc['wall_s'] = load(), round(time.perf_counter() - t0, 1)
    text = json.dumps(doc, indent=1)
    print(text)
    if a.out:
        from lowrank_nb.data import atomic_write_text
        atomic_write_text(a.out, text + '\n')
