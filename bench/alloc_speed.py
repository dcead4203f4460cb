"""Wall-clock seconds of `compress(..., method="alds")`: data-free on torchvision ResNet-18 and ResNet-50, and with
calibration data on the trained ResNet-20 (1024 CIFAR-10 training images) and ResNet-18 at 224×224 (256 inputs, or
`--samples N`).

Data-free: seeded random weights, keep 0.5 of parameters, split into error tables, allocation and model building.
With data (`--data`): the whole call, calibration passes included, for the data objectives `fisher` and `auto`.
`--objectives` and `--models` narrow them, `--relax N` sets the activation-aware fit's rounds; `--repeat N` times each
call N times and reports the median (`total_s`) and every run (`runs`): on a shared machine single runs vary by 10–20%.
With `--profile`: the ResNet-18 call with data once under cProfile, its seconds split into the calibration statistics,
the data-aware error tables and the sequential fit.
With `--recon`: the ResNet-20 call with data (fisher) without and with block reconstruction (`Calibration(steps=...)`).
The allocator matters on Linux: glibc hands blocks above its mmap threshold (at most 32 MiB by default) back to the
system when they are freed, so each new large tensor is page-faulted in again (each call with data reports its page
faults, `faults`, and the kernel's seconds, `system_s`; and the process's peak resident memory so far, `peak_gib`: time
the networks smallest first to read each one's own); `GLIBC_TUNABLES` set as below keeps freed memory for reuse
(the process then holds its peak memory), and PyTorch's `THP_MEM_ALLOC_ENABLE=1` puts large tensors on 2 MiB pages
(where the kernel allows them on request). The JSON records both settings in force (`malloc`, `thp`):
  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296 python bench/alloc_speed.py --data
  THP_MEM_ALLOC_ENABLE=1 python bench/alloc_speed.py --data
Prints one JSON document. Usage: python bench/alloc_speed.py [--objective paper|bound|exact] [--threads N] [--data [--objectives fisher,auto] [--models resnet20,resnet18] [--relax N] [--repeat N] [--samples N]] [--profile] [--recon]
"""
import argparse, cProfile, functools, json, os, pstats, statistics, time, platform
from pathlib import Path
import torch, torchvision
try: import resource                      # the process's page faults and system time (Unix)
except ImportError: resource = None
from lowrank_nb.grouping import find_layers, fold_weight
from lowrank_nb.bounds import layer_tables, clear_cache
from lowrank_nb.allocation import allocate
from lowrank_nb.compress import compress, apply_plan, AllocOptions
from lowrank_nb.calibrate import Calibration
from lowrank_nb.core import count_params
from lowrank_nb.cli import load_data, load_weights, calibration_images

def bench(name, objective):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)().eval()
    clear_cache()
    t0 = time.perf_counter()
    small, plan = compress(model, keep=0.5, budget='params', method='alds', alloc=AllocOptions(objective=objective))
    total = time.perf_counter() - t0
    # the same stages again, timed one by one (cold cache)
    clear_cache()
    layers = [l for l in find_layers(model) if l.skip is None]
    t = time.perf_counter(); tables = [layer_tables(l.module) for l in layers]; t_tables = time.perf_counter() - t
    n = count_params(model); dense = sum(l.shape.dense_params for l in layers)
    t = time.perf_counter()
    allocate([fold_weight(l.module) for l in layers], [l.shape for l in layers], tables, 0.5 * n - (n - dense), objective=objective)
    t_alloc = time.perf_counter() - t
    t = time.perf_counter(); apply_plan(model, plan); t_build = time.perf_counter() - t
    return dict(model=name, objective=objective, total_s=round(total, 2), tables_s=round(t_tables, 2), allocation_s=round(t_alloc, 2),
                build_s=round(t_build, 2), keep_params=round(plan.keep_params, 5), layers=len(plan.layers), params=n)

@functools.lru_cache(maxsize=None)
def _trained_resnet20(samples):
    "The trained ResNet-20 and `samples` random CIFAR-10 training images, read once for every objective timed."
    model = load_weights('resnet20', Path(__file__).parent/'results'/'resnet20_cifar10_jpeg.pt').eval()
    return model, calibration_images(load_data('cifar10')[0], samples)

def bench_data(name, objective, samples, keep=0.5, steps=0, relax=None):
    "Seconds of one `compress` call with calibration data (a trained ResNet-20 on CIFAR-10 images; ResNet-18: random weights and inputs)."
    torch.manual_seed(0)
    if name == 'resnet20': model, x = _trained_resnet20(samples)
    else:
        model = getattr(torchvision.models, name)().eval()
        x = torch.randn(samples, 3, 224, 224)
    clear_cache()
    u0 = resource and resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    small, plan = compress(model, keep=keep, budget='params', example_input=x[:1], data=x, alloc=AllocOptions(objective=objective),
                           calibration=Calibration(steps=steps, **({} if relax is None else dict(relax=relax))))
    total = time.perf_counter() - t0
    # the kernel's share: every page a fresh large tensor touches first is a fault, zeroed in system time
    u1 = resource and resource.getrusage(resource.RUSAGE_SELF)
    kernel = {} if not resource else dict(system_s=round(u1.ru_stime - u0.ru_stime, 2), faults=u1.ru_minflt - u0.ru_minflt,
                                          peak_gib=round(u1.ru_maxrss / 2 ** 20, 2))
    return dict(model=name, objective=objective, samples=samples, keep=keep, steps=steps,
                relax=Calibration().relax if relax is None else relax, total_s=round(total, 2), **kernel,
                keep_params=round(plan.keep_params, 5), chosen=plan.objective, layers=len(plan.layers))

def merged_runs(rs: list) -> dict:
    """Several runs of one call as one result: `total_s`, `system_s`, `faults` and `peak_gib` the medians of the runs,
    `runs` every run's `total_s` (one run: its result as it is)."""
    if len(rs) == 1: return rs[0]
    med = {k: round(statistics.median(r[k] for r in rs), 2) for k in ('total_s', 'system_s', 'faults', 'peak_gib')
           if k in rs[0]}
    return dict(rs[0], **med, runs=[r['total_s'] for r in rs])

def repeated(n, fn, *args):
    "`fn(*args)` run `n` times, merged by `merged_runs`."
    return merged_runs([fn(*args) for _ in range(n)])

def profile_data(name='resnet18', samples=256):
    "Where the seconds of one data-aware `compress` go: cumulative time of its three stages, from cProfile."
    pr = cProfile.Profile(); pr.enable()
    r = bench_data(name, 'fisher', samples)
    pr.disable()
    stats = pstats.Stats(pr).stats
    cum = lambda fn: round(sum(v[3] for (f, _, n), v in stats.items() if n == fn and 'lowrank_nb' in f), 2)
    return dict(**r, statistics_s=cum('calibration_stats'), tables_s=cum('data_table'), fit_s=cum('calibrate_layers'))

def cpu_model() -> str:
    "The processor's model name (Linux: /proc/cpuinfo), else what `platform` knows: timings depend on it."
    try: return next(l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or platform.machine()

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--objective', default='paper')
    ap.add_argument('--threads', type=int, default=None)
    ap.add_argument('--data', action='store_true', help='time compress with calibration data instead (fisher and auto)')
    ap.add_argument('--profile', action='store_true', help='split the ResNet-18 call with data into its stages (cProfile)')
    ap.add_argument('--objectives', default='fisher,auto', help='with --data: the objectives timed')
    ap.add_argument('--repeat', type=int, default=1, help='with --data: runs of each call (the median is reported)')
    ap.add_argument('--models', default='resnet20,resnet18', help='with --data: the networks timed')
    ap.add_argument('--relax', type=int, default=None, help="with --data: Calibration.relax (default: the library's)")
    ap.add_argument('--samples', type=int, default=256, help='with --data: calibration inputs of the ResNet-18 at 224')
    ap.add_argument('--recon', action='store_true', help='time the ResNet-20 call with data with 0, 50 and 200 reconstruction steps')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    if a.profile: results = [profile_data()]
    elif a.recon: results = [bench_data('resnet20', 'fisher', 1024, steps=s) for s in (0, 50, 200)]
    elif a.data: results = [repeated(a.repeat, bench_data, m, o, n, 0.5, 0, a.relax) for m, n in (('resnet20', 1024), ('resnet18', a.samples))
                            if m in a.models.split(',') for o in a.objectives.split(',')]
    else: results = [bench(m, a.objective) for m in ('resnet18', 'resnet50')]
    res = dict(torch=torch.__version__, threads=torch.get_num_threads(), cpu=cpu_model(), malloc=os.environ.get('GLIBC_TUNABLES'),
               thp=os.environ.get('THP_MEM_ALLOC_ENABLE'), results=results)
    print(json.dumps(res, indent=1))
