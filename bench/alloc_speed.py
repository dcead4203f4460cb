"""Wall-clock seconds of `compress(..., method="alds")` on torchvision ResNet-18 and ResNet-50.

Seeded random weights, keep 0.5 of parameters, split into error tables, allocation and model building.
Prints one JSON document. Usage: python bench/alloc_speed.py [--objective paper|bound|exact] [--threads N]
"""
import argparse, json, time, platform
import torch, torchvision
from lowrank_nb.grouping import find_layers, fold_weight
from lowrank_nb.bounds import layer_tables, clear_cache
from lowrank_nb.allocation import allocate
from lowrank_nb.compress import compress, apply_plan, count_params

def bench(name, objective):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)().eval()
    clear_cache()
    t0 = time.perf_counter()
    small, plan = compress(model, keep=0.5, budget='params', method='alds', objective=objective)
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

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--objective', default='paper')
    ap.add_argument('--threads', type=int, default=None)
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    res = dict(torch=torch.__version__, threads=torch.get_num_threads(), cpu=platform.processor() or platform.machine(),
               results=[bench(m, a.objective) for m in ('resnet18', 'resnet50')])
    print(json.dumps(res, indent=1))
