#!/usr/bin/env python
"""Ablation of the data-aware pieces, compress-only, on a trained network: each piece on and off, the data-free
objectives and solvers, and the data-aware baselines, at the same honestly counted budgets. Prints one JSON line per
point and keeps every finished point in --out (rerunning the same command resumes).

    python bench/data_aware.py --net resnet20 --keeps 0.8,0.5,0.3 --out bench/results/data_aware/resnet20.json
    python bench/data_aware.py --net resnet20 --keeps 0.8,0.5,0.3 --variants knobs --out bench/results/data_aware/resnet20.json
    python bench/data_aware.py --net resnet20 --keeps 0.8,0.5,0.3 --variants recon --out bench/results/data_aware/resnet20.json
    python bench/data_aware.py --net resnet20 --keeps 0.8,0.5,0.3 --calib 256 --variants fisher+seq+bn \\
        --out bench/results/data_aware/resnet20_calib256.json
    python bench/data_aware.py --net resnet20 --keeps 0.5 --budget flops --ks 1 --multiple 8 --variants fast \\
        --out bench/results/data_aware/resnet20_fast.json
    python bench/data_aware.py --net resnet20 --keeps 0.8,0.5,0.3 --sharpen 10 --variants fisher+seq+bn,auto \\
        --out bench/results/data_aware/resnet20_sharp10.json
    python bench/data_aware.py --net resnet20 --keeps 0.5,0.3 --sharpen 10 --label-seed 1 --variants fisher+seq+bn \\
        --out bench/results/data_aware/resnet20_sharp10_labels1.json
    python bench/data_aware.py --net resnet20 --keeps 0.8,0.5,0.3 --variants loss --threads 1 --out bench/results/data_aware/resnet20.json
    python bench/data_aware.py --net resnet20 --keeps 0.8,0.5,0.3 --variants relax --threads 1 --out bench/results/data_aware/resnet20.json
    python bench/data_aware.py --net resnet20 --keeps 0.5,0.3 --variants default+distill200 --out bench/results/data_aware/resnet20_distill.json
    python bench/data_aware.py --net resnet20 --keeps 0.5,0.3 --variants views --out bench/results/data_aware/resnet20_distill.json
    python bench/data_aware.py --net resnet20 --keeps 0.5 --variants paper+default,paper+default+recon --out bench/results/data_aware/resnet20_paper_default.json
    python bench/data_aware.py --net resnet20 --keeps 0.5,0.3 --variants ridge --out bench/results/data_aware/resnet20_ridge.json
    python bench/data_aware.py --net vgg16_bn_cifar --keeps 0.2,0.1 --variants ridge --out bench/results/data_aware/vgg16_bn_cifar_ridge.json
    python bench/data_aware.py --net resnet20 --keeps 0.5,0.3 --variants fisher+seq+bn+loss10+dense+relax3,default+measured --out bench/results/data_aware/resnet20_measured.json

Calibration data: --calib random training images (seeded, unaugmented, labels unused); accuracy: the whole test set.
--sharpen A multiplies the network's logits by A (its last linear layer scaled): the same predictions and top-1, a more
confident softmax, as in a network trained to near-zero training loss.
"""
from __future__ import annotations
import argparse, contextlib, copy, dataclasses, json, sys, time
from pathlib import Path
import torch
import torch.nn.functional as F
from lowrank_nb.cli import load_data, load_weights, calibration_images, INPUT_SHAPES, default_dataset
import lowrank_nb.calibrate as calibrate
from lowrank_nb.calibrate import Calibration, recalibrate_bn, output_distance, label_disagreement, pass_size, calibrate_layers
from lowrank_nb.compress import compress, AllocOptions, Compression, check_compress_args
from lowrank_nb.experiments import ResultLog, measure, model_fingerprint

ROOT = Path(__file__).resolve().parent
NETS = {'resnet20': ROOT/'results'/'resnet20_cifar10_jpeg.pt', 'fmnist_net': ROOT/'results'/'fmnist_net.pt',
        'vgg16_bn_cifar': ROOT/'results'/'vgg16_bn_cifar10_jpeg.pt',
        'torchvision:mobilenet_v2': ROOT/'results'/'mobilenet_v2_cifar10_jpeg.pt',
        'fmnist_net_20ep': ROOT/'results'/'fmnist_net_20ep.pt', 'resnet56': ROOT/'results'/'resnet56_cifar10_jpeg.pt'}
# the architecture of a network that is not named after it
ARCH = {'fmnist_net_20ep': 'fmnist_net'}

def C(**kw):
    """Calibration for a variant: the sequential fit unweighted unless `metric` is given, the layers left dense not
    refitted unless `dense` is, the activation-aware rounds off unless `relax` is given (how the variants without
    '+loss', '+dense' or '+relax' were run)."""
    return Calibration(**{'metric': None, 'dense': False, 'relax': 0, **kw})

def sharpen(model, a: float):
    "Multiply the logits by `a`: the last linear layer's weight and bias scaled in place (the argmax is unchanged)."
    last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.mul_(a)
        if last.bias is not None: last.bias.mul_(a)

def views(x: torch.Tensor, g: torch.Generator, mix: bool = False) -> torch.Tensor:
    """Random views of a batch of images `x` (N, C, H, W): each shifted by up to an eighth of its size (reflect-padded,
    then cropped back) and flipped left-right with probability ½; with `mix`, each then blended with another view of
    the batch (mixup, weight uniform in [0, 1]). New inputs from the same images, no labels needed."""
    n, _, h, w = x.shape
    ph, pw = max(1, h // 8), max(1, w // 8)
    xp = F.pad(x, (pw, pw, ph, ph), mode='reflect')
    dy, dx = torch.randint(0, 2 * ph + 1, (n,), generator=g), torch.randint(0, 2 * pw + 1, (n,), generator=g)
    out = torch.stack([xp[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    flip = torch.rand(n, generator=g) < 0.5
    out[flip] = out[flip].flip(-1)
    if mix:
        lam = torch.rand(n, 1, 1, 1, generator=g)
        out = lam * out + (1 - lam) * out[torch.randperm(n, generator=g)]
    return out

def distill(small, teacher, x, steps: int, lr: float = 3e-4, batch: int = 128, seed: int = 0, view: str|None = None):
    """A copy of `small` tuned end to end towards `teacher`'s softmax on the calibration inputs `x` (KL divergence, Adam
    on every parameter, cosine schedule, eval mode: the BatchNorm statistics stay): not a step of the library, a measure
    of what the calibration images hold beyond what the fit takes from them. `view`: each step on new views of its
    images (`views`: `'shift'`, shifted and flipped; `'mix'`, mixed up too), the teacher's softmax taken on the same
    views (function matching, Beyer et al., CVPR 2022); `None`: the images as they are."""
    s = copy.deepcopy(small).eval()
    if view is None:
        with torch.no_grad(): t = torch.cat([teacher(x[i:i + 256]) for i in range(0, len(x), 256)]).log_softmax(-1)
    opt = torch.optim.Adam(list(s.parameters()), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    g = torch.Generator().manual_seed(seed)
    with torch.enable_grad():
        for _ in range(steps):
            i = torch.randint(len(x), (min(batch, len(x)),), generator=g)
            if view is None: xb, tb = x[i], t[i]
            else:
                xb = views(x[i], g, mix=view == 'mix')
                with torch.no_grad(): tb = teacher(xb).log_softmax(-1)
            loss = F.kl_div(s(xb).log_softmax(-1), tb, log_target=True, reduction='batchmean')
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); sched.step()
    for p in s.parameters(): p.grad = None
    return s

def softened_kl(reference, model, x, temperature: float = 1., batch: int = 256) -> float:
    "Mean `KL(p_ref ‖ p_model)` (nats) of the softmax of the logits divided by `temperature`, on the inputs `x`."
    tot = 0.
    with torch.no_grad():
        for i in range(0, len(x), batch):
            a, b = (m(x[i:i + batch]).float() / temperature for m in (reference, model))
            tot += F.kl_div(b.log_softmax(-1), a.log_softmax(-1), log_target=True, reduction='sum').item()
    return tot / len(x)

@contextlib.contextmanager
def shrinkage_floor(floor: float):
    """Inside it, every second moment the library estimates (`calibrate.shrink`, for the tables and the fit) is shrunk
    toward `μI` by at least `floor`, and the fit's target moment alike toward the original weight (as `_fit_problem`
    does with the shrinkage it is given): a ridge on each layer's fit, pulling it toward the original layer. Not a step
    of the library: a measure of whether a fit that learns its images is held back by it."""
    ledoit_wolf = calibrate.shrink
    def shrink(C, fourth, rows, inplace=False):
        S, delta = ledoit_wolf(C, fourth, rows, inplace)
        if delta >= floor: return S, delta
        a = (1 - floor) / (1 - delta)                  # (1−δ)C + δμI  →  (1−floor)C + floor·μI (μ, the mean eigenvalue, stays)
        mu = S.diagonal().mean()
        S = S.mul_(a) if inplace else S * a
        S.diagonal().add_(mu * (1 - a))
        return S, floor
    calibrate.shrink = shrink
    try: yield
    finally: calibrate.shrink = ledoit_wolf

def measured_sensitivities(model, x, keep, budget, example_input, alloc, cfg):
    """The default's allocation checked against direct measurement (not a step of the library): allocated by the Fisher
    tables, then each factored layer alone factored at its `(k, j)` (fitted as the default fits, its BatchNorms
    shifted) and the network's output distance to the original measured on the calibration inputs `x` (KL of the softmax
    at the sensitivities' temperature, the quantity the tables estimate); every layer's loss table scaled by measured /
    estimated at its rank, allocated and built again. Returns the model, its plan and, per layer, `(measured,
    estimated)`."""
    m, b = check_compress_args(model, keep, budget, 'alds', example_input, x, alloc, cfg)
    job = Compression(model, m, b, alloc, cfg, x, example_input)
    _, plan = job.attempt(keep, 'fisher')
    pairs = {}
    for i, lp in enumerate(plan.layers):
        if not lp.j: continue
        one, _ = calibrate_layers(model, x, {lp.name: (lp.k, lp.j)}, cfg, metrics=job.metrics)
        pairs[lp.name] = (softened_kl(model, one, x, job.temperature), float(job.dtables[i].loss[lp.k][lp.j - 1]))
        rho = pairs[lp.name][0] / max(pairs[lp.name][1], 1e-12)
        job.dtables[i].loss.update({k: v * rho for k, v in job.dtables[i].loss.items()})
    small, plan = job.attempt(keep, 'fisher')
    plan.calibration = dict(dataclasses.asdict(cfg), temperature=job.temperature)
    return small, plan, pairs

def confident(logits, p: float = 0.999) -> float:
    "The fraction of the inputs whose largest softmax probability (of their `logits`) exceeds `p`."
    return (logits.softmax(-1).amax(-1) > p).float().mean().item()

# name: (compress keyword arguments beyond the budget (objective and solver go into its AllocOptions, shrink_floor into
# shrinkage_floor), whether calibration data is passed, what to do after)
VARIANTS = {
    'free/paper':        (dict(objective='paper'), False, None),
    'free/paper+bn-new': (dict(objective='paper'), False, 'reestimate'),   # BatchNorm estimated again from scratch
    'free/paper+bn':     (dict(objective='paper'), False, 'shift'),        # BatchNorm moved by the shift (reference)
    'paper+white':       (dict(objective='paper', calibration=C(refit=False, bn=False)), True, None),
    'paper+white+bn':    (dict(objective='paper', calibration=C(refit=False, bn=True)), True, None),
    'paper+seq':         (dict(objective='paper', calibration=C(refit=True, bn=False)), True, None),
    'paper+seq+bn':      (dict(objective='paper'), True, None),
    'output+seq+bn':     (dict(objective='output'), True, None),
    'fisher+white+bn':   (dict(objective='fisher', calibration=C(refit=False, bn=True)), True, None),
    'fisher+seq':        (dict(objective='fisher', calibration=C(refit=True, bn=False)), True, None),
    'fisher+seq+bn':     (dict(objective='fisher'), True, None),
    'auto':              (dict(objective='auto'), True, None),
    # the sensitivities' labels drawn from the model's softmax as it is, however confident (no temperature)
    'fisher+seq+bn/untempered': (dict(objective='fisher', calibration=C(disagreement=0)), True, None),
    'auto/untempered':   (dict(objective='auto', calibration=C(disagreement=0)), True, None),
    'exact+seq+bn':      (dict(objective='exact'), True, None),
    'bound+seq+bn':      (dict(objective='bound'), True, None),
    'free/exact':        (dict(objective='exact'), False, None),
    'free/bound':        (dict(objective='bound'), False, None),
    'free/paper-alt':    (dict(objective='paper', solver='alternating'), False, None),
    'free/bound-alt':    (dict(objective='bound', solver='alternating'), False, None),
    'svd_llm':           (dict(method='svd_llm'), True, None),
    'pfp':               (dict(method='pfp'), True, None),
    'pca':               (dict(method='pca'), True, None),
    'svd+data':          (dict(method='svd'), True, None),
    'lrank+data':        (dict(method='lrank'), True, None),
    'free/lrank':        (dict(method='lrank'), False, None),
    'free/svd':          (dict(method='svd'), False, None),
    # the calibration knobs of the default, one at a time
    'fisher+seq+bn/tables1024': (dict(objective='fisher', calibration=C(table_samples=1024)), True, None),
    'fisher+seq+bn/pos256':     (dict(objective='fisher', calibration=C(positions=256)), True, None),
    'fisher+seq+bn/sweeps8':    (dict(objective='fisher', calibration=C(sweeps=8)), True, None),
    # block reconstruction after the fit: Adam steps per block
    'fisher+seq+bn+recon':      (dict(objective='fisher', calibration=C(steps=200)), True, None),
    'fisher+seq+bn+recon50':    (dict(objective='fisher', calibration=C(steps=50)), True, None),
    'paper+seq+bn+recon':       (dict(objective='paper', calibration=C(steps=200)), True, None),    # the allocation under reconstruction
    # the reconstruction's own knobs: three times the steps, three times the learning rate
    'fisher+seq+bn+recon600':   (dict(objective='fisher', calibration=C(steps=600)), True, None),
    'fisher+seq+bn+recon/lr3e-3': (dict(objective='fisher', calibration=C(steps=200, lr=3e-3)), True, None),
    # the layers left dense refitted too (full rank, least squares)
    'fisher+seq+bn+dense':      (dict(objective='fisher', calibration=C(dense=True)), True, None),
    'fisher+seq+bn+dense+recon': (dict(objective='fisher', calibration=C(dense=True, steps=200)), True, None),
    # the fit's output errors weighed by the loss gradient (Calibration.metric: the floor of the metric; 10 the default)
    'fisher+seq+bn+loss0.1':    (dict(objective='fisher', calibration=C(metric=0.1)), True, None),
    'fisher+seq+bn+loss0.01':   (dict(objective='fisher', calibration=C(metric=0.01)), True, None),
    'fisher+seq+bn+loss1':      (dict(objective='fisher', calibration=C(metric=1.)), True, None),
    'fisher+seq+bn+loss10':     (dict(objective='fisher', calibration=C(metric=10.)), True, None),
    'fisher+seq+bn+loss10+recon': (dict(objective='fisher', calibration=C(metric=10., steps=200)), True, None),
    # the weighted fit with the layers left dense refitted too
    'fisher+seq+bn+loss10+dense': (dict(objective='fisher', calibration=C(metric=10., dense=True)), True, None),
    # the activation-aware fit (Calibration.relax: its rounds; 3 the default)
    'fisher+seq+bn+loss10+dense+relax1': (dict(objective='fisher', calibration=C(metric=10., dense=True, relax=1)), True, None),
    'fisher+seq+bn+loss10+dense+relax3': (dict(objective='fisher', calibration=C(metric=10., dense=True, relax=3)), True, None),
    'fisher+seq+bn+loss10+dense+relax8': (dict(objective='fisher', calibration=C(metric=10., dense=True, relax=8)), True, None),
    # the default, then the whole network distilled towards the original's softmax on the calibration images (`distill`,
    # here, not in the library): how much more those images hold
    'default+distill200': (dict(objective='fisher', calibration=Calibration()), True, 'distill200'),
    'default+distill500': (dict(objective='fisher', calibration=Calibration()), True, 'distill500'),
    # the same on new views of the calibration images every step (`views`: shifted and flipped; mixed up too)
    'default+distill200/shift': (dict(objective='fisher', calibration=Calibration()), True, 'distill200/shift'),
    'default+distill200/mix': (dict(objective='fisher', calibration=Calibration()), True, 'distill200/mix'),
    # the default with block reconstruction (200 Adam steps per block)
    'default+recon': (dict(objective='fisher', calibration=Calibration(steps=200)), True, None),
    # the default's fit (and with block reconstruction) under the paper's allocation
    'paper+default': (dict(objective='paper', calibration=Calibration()), True, None),
    'paper+default+recon': (dict(objective='paper', calibration=Calibration(steps=200)), True, None),
    # the default with every second moment shrunk by at least 0.05 or 0.2 (`shrink_floor`, the call run inside
    # `shrinkage_floor`): a ridge on the fit
    'default/shrink0.05': (dict(objective='fisher', calibration=Calibration(), shrink_floor=0.05), True, None),
    'default/shrink0.2': (dict(objective='fisher', calibration=Calibration(), shrink_floor=0.2), True, None),
    # the default's Fisher tables rescaled by directly measured one-layer sensitivities (`measured_sensitivities`)
    'default+measured': (dict(objective='fisher', calibration=Calibration()), True, 'measured'),
}
GROUPS = {
    'ablation': ['free/paper', 'free/paper+bn-new', 'free/paper+bn', 'paper+white', 'paper+white+bn', 'paper+seq',
                 'paper+seq+bn', 'output+seq+bn', 'fisher+white+bn', 'fisher+seq', 'fisher+seq+bn', 'auto'],
    'datafree': ['free/paper', 'free/bound', 'free/exact', 'free/paper-alt', 'free/bound-alt'],
    'baselines': ['svd_llm', 'pfp', 'pca', 'free/svd', 'svd+data', 'free/lrank', 'lrank+data', 'exact+seq+bn', 'bound+seq+bn'],
    'fast': ['free/paper', 'paper+seq+bn', 'fisher+seq+bn', 'auto'],
    'knobs': ['fisher+seq+bn/tables1024', 'fisher+seq+bn/pos256', 'fisher+seq+bn/sweeps8'],
    'recon': ['fisher+seq+bn+recon', 'fisher+seq+bn+recon50', 'paper+seq+bn+recon'],
    'reconknobs': ['fisher+seq+bn+recon600', 'fisher+seq+bn+recon/lr3e-3'],
    'dense': ['fisher+seq+bn+dense', 'fisher+seq+bn+dense+recon'],
    'tempering': ['fisher+seq+bn', 'fisher+seq+bn/untempered'],
    'relax': ['fisher+seq+bn+loss10+dense+relax1', 'fisher+seq+bn+loss10+dense+relax3', 'fisher+seq+bn+loss10+dense+relax8'],
    'distill': ['default+distill200', 'default+distill500'],
    'views': ['default+distill200/shift', 'default+distill200/mix'],
    'ridge': ['default/shrink0.05', 'default/shrink0.2'],
    'loss': ['fisher+seq+bn+loss0.1', 'fisher+seq+bn+loss0.01', 'fisher+seq+bn+loss1', 'fisher+seq+bn+loss10'],
}

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--net', choices=sorted(NETS), required=True)
    ap.add_argument('--keeps', required=True, help='comma-separated keep ratios')
    ap.add_argument('--budget', choices=('params', 'flops'), default='params')
    ap.add_argument('--variants', default='ablation,datafree,baselines', help=f'comma-separated variants or groups {sorted(GROUPS)}')
    ap.add_argument('--calib', type=int, default=1024, help='calibration images (default 1024)')
    ap.add_argument('--ks', default=None, help='group counts allowed, e.g. 1')
    ap.add_argument('--multiple', type=int, default=None)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--sharpen', type=float, default=1., help='multiply the logits by this (default 1: as trained)')
    ap.add_argument('--label-seed', type=int, default=None,
                    help="Calibration.seed: the sensitivities' sampled labels and positions (default: Calibration's)")
    ap.add_argument('--out', required=True)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    names = []
    for v in a.variants.split(','):
        for n in GROUPS.get(v, [v]):
            if n not in VARIANTS: sys.exit(f'unknown variant {n!r}: choose from {sorted(VARIANTS)} or {sorted(GROUPS)}')
            if n not in names: names.append(n)
    arch = ARCH.get(a.net, a.net)
    model = load_weights(arch, NETS[a.net]).float().eval()
    data = default_dataset(arch)
    train, test = load_data(data)
    calib = calibration_images(train, a.calib, a.seed)
    with torch.no_grad(): z = model(calib)    # the logits as trained; sharpening multiplies them by --sharpen
    # how often a label drawn from the softmax differs from the prediction, on the images of the first pass (those the
    # sensitivities' temperature is set from)
    first = pass_size(calib, Calibration().batch_size)
    if a.sharpen != 1: sharpen(model, a.sharpen)
    hold = calibration_images(train, a.calib + 1024, a.seed)[a.calib:]        # 1024 other training images: the output distance
    x = torch.zeros(1, *INPUT_SHAPES[data])
    ks = None if a.ks is None else [int(k) for k in a.ks.split(',')]
    meta = dict(net=a.net, ckpt=str(NETS[a.net].relative_to(ROOT.parent)), model=model_fingerprint(model), data=data,
                calib=a.calib, budget=a.budget, ks=ks, multiple=a.multiple, seed=a.seed, threads=a.threads, torch=torch.__version__)
    if a.label_seed is not None: meta['label_seed'] = a.label_seed
    if a.sharpen != 1:     # the share of calibration images predicted with probability above 0.999, before and after
        meta.update(sharpen=a.sharpen, confident_before=confident(z), confident=confident(a.sharpen * z))
    log = ResultLog(a.out, meta=meta)
    if 'disagreement' not in log.meta:                    # (added to the results of earlier runs as they resume)
        log.meta['disagreement'] = label_disagreement(z[:first])
        if a.sharpen != 1: log.meta['disagreement_sharp'] = label_disagreement(a.sharpen * z[:first])
        log.save()
    if 'baseline' not in log.meta: log.meta['baseline'] = measure(model, test, x); log.save()
    for keep in [float(k) for k in a.keeps.split(',')]:
        for name in names:
            key = f'{name}@{a.budget}={keep:g}'
            if log.done(key): continue
            kw, with_data, after = VARIANTS[name]
            kw = dict(kw)
            floor = kw.pop('shrink_floor', None)           # not compress's: the call runs inside `shrinkage_floor`
            if with_data:                                  # every calibration image used, however many
                kw['calibration'] = dataclasses.replace(kw.get('calibration') or C(), samples=a.calib)
                if a.label_seed is not None: kw['calibration'] = dataclasses.replace(kw['calibration'], seed=a.label_seed)
            alloc = AllocOptions(objective=kw.pop('objective', None), solver=kw.pop('solver', 'joint'), ks=ks, multiple=a.multiple, seed=a.seed)
            t = time.time()
            pairs = None
            try:
                if after == 'measured':
                    small, plan, pairs = measured_sensitivities(model, calib, keep, a.budget, x, alloc, kw['calibration'])
                else:
                    with shrinkage_floor(floor) if floor else contextlib.nullcontext():
                        small, plan = compress(model, keep, budget=a.budget, example_input=x, data=calib if with_data else None, alloc=alloc, **kw)
            except ValueError as e:
                rec = dict(key=key, variant=name, keep=keep, error=str(e)); log.add(rec); print(json.dumps(rec), flush=True); continue
            if after == 'reestimate': small = recalibrate_bn(small, calib)
            elif after == 'shift': small = recalibrate_bn(small, calib, reference=model)
            elif after and after.startswith('distill'):
                steps, _, view = after[7:].partition('/')
                small = distill(small, model, calib, int(steps), seed=a.seed, view=view or None)
            secs = time.time() - t
            m = measure(small, test, x)
            rec = dict(key=key, variant=name, keep=keep, budget=a.budget, top1=m['top1'], top5=m['top5'],
                       keep_params=m['params'] / log.meta['baseline']['params'], keep_macs=m['macs'] / log.meta['baseline']['macs'],
                       drop=log.meta['baseline']['top1'] - m['top1'], distance=output_distance(model, small, hold),
                       # the same distance on the calibration images themselves: how far the fit is from generalising
                       calib_distance=output_distance(model, small, calib) if with_data else None,
                       seconds=round(secs, 2), objective=plan.objective, calibration=plan.calibration,
                       ks=sorted({l.k for l in plan.factored}))
            if pairs is not None: rec['sensitivities'] = {n: [float(f'{v:.4g}') for v in p] for n, p in pairs.items()}
            log.add(rec)
            print(json.dumps(rec), flush=True)

if __name__ == '__main__': main()
