#!/usr/bin/env python
"""The transposed form of a 3×3 convolution (a 1×1 encoder, then a grouped 3×3 decoder over output-channel groups; see
`orientation.py`) inside the data-aware default: `compress` with 1024 calibration images and default settings, its
per-layer sequential fit swapped for one that also fits every factored k×k convolution in the transposed form, at each
power-of-two group count at no more parameters than the allocated ALDS pair, and keeps the transposed pair when its
fit's objective (the output error on the calibration inputs, weighed by the loss metric as the default weighs it;
recorded as its excess over the unconstrained least-squares fit's) is lower than the ALDS pair's. The transposed fit:
the encoder from the whitened SVD of the least-squares weight (whitened by the per-pixel input second moment, rows
weighed by the metric), the decoder by least squares given it, then the default's activation-aware rounds. (A bench
experiment: it gathers each layer's statistics and fits the ALDS pair a second time, after the library's own fit.)
Both networks (`alds`: the default as it is; `mixed`) are measured on the test set. Prints JSON lines and writes them
to --out.

    python bench/orientation_fit.py --net resnet20 --keeps 0.5,0.3 --out bench/results/orientation_fit_resnet20.json
    python bench/orientation_fit.py --net vgg16_bn_cifar --keeps 0.1 --out bench/results/orientation_fit_vgg16_bn_cifar.json
"""
from __future__ import annotations
import json, time
import torch, torch.nn as nn
from torch.linalg import eigh
import lowrank_nb.calibrate as cal
from lowrank_nb.calibrate import Calibration, psd_cholesky, whitened_factors, fold_order
from lowrank_nb.compress import compress
from lowrank_nb.experiments import measure
from orientation import group_counts, setup, transposed_weight, TransposedPair

def pixel_moment(C: torch.Tensor, ci: int, kappa: int) -> torch.Tensor:
    "The `ci × ci` second moment of one input pixel: the mean of the kernel offsets' diagonal blocks of `C` (fold order)."
    return C.reshape(ci, kappa, ci, kappa).diagonal(dim1=1, dim2=3).mean(-1)

def transposed_factors(Wls, C, M, L1, kappa: int, k: int, j: int, metric=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Encoder `k × j × ci` (the 1×1 convolution's rows, per output group) and decoder `k × cg × (j·κ)` of the transposed
    pair fitted to the target moment `M` (`E[y′xᵀ]`, fold order) on inputs of second moment `C` (float64); `Wls` the
    unconstrained least-squares weight `M C⁻¹`, `L1` the Cholesky factor of `pixel_moment(C)`."""
    f, d = Wls.shape; ci, cg = d // kappa, f // k
    A = Wls.reshape(k, cg, ci, kappa)
    if metric is not None:
        S = metric.double()
        A = torch.einsum('kpo,koct->kpct', torch.stack([S[g * cg:(g + 1) * cg, g * cg:(g + 1) * cg] for g in range(k)]), A)
    B = A.permute(0, 1, 3, 2).reshape(k, cg * kappa, ci) @ L1                # rows (o, δ), whitened columns
    V = eigh(B.mT @ B)[1].flip(-1)[..., :j]
    E = torch.linalg.solve_triangular(L1.mT, V, upper=True).mT               # k × j × ci
    CP = torch.einsum('act,rc->art', C.reshape(d, ci, kappa), E.reshape(k * j, ci)).reshape(d, k, j * kappa)
    D = []
    for g in range(k):          # the decoder given the encoder: least squares on the encoder's windows
        PCP = torch.einsum('rc,ctq->rtq', E[g], CP[:, g].reshape(ci, kappa, j * kappa)).reshape(j * kappa, j * kappa)
        MP = torch.einsum('oct,rc->ort', M[g * cg:(g + 1) * cg].reshape(cg, ci, kappa), E[g]).reshape(cg, j * kappa)
        D.append(torch.cholesky_solve(MP.T, psd_cholesky(PCP)).T)
    D = torch.stack(D).reshape(k, cg, j, kappa)
    r = (D.square().sum((1, 3)).sqrt() / E.norm(dim=-1).clamp_min(1e-30)).sqrt().clamp_min(1e-30)    # balanced norms
    return E * r[..., None], (D / r[:, None, :, None]).reshape(k, cg, j * kappa)

def fit_objective(A, C, M, metric) -> float:
    "`E‖S(A x − y′)‖²` up to a constant: `tr(SᵀS (A C Aᵀ − 2 A Mᵀ))`."
    Q = (A @ C - 2 * M) @ A.T
    return (Q.trace() if metric is None else ((metric.T @ metric) * Q).sum()).item()

CHOSEN = []
library_fit = cal._fit_pair

def fit_either(name, layer, k, j, xc, tg, cfg, metric=None, act=None):
    "The library's fit of the ALDS pair, or the transposed pair where its fit's objective is lower (same contract)."
    fc, relaxed, err = library_fit(name, layer, k, j, xc, tg, cfg, metric, act)
    if not (isinstance(layer, nn.Conv2d) and layer.kernel_size != (1, 1)): return fc, relaxed, err
    co, ci, kappa = layer.out_channels, layer.in_channels, layer.weight[0, 0].numel()
    relax = act is not None and cfg.relax > 0 and len(tg.rows) >= layer.weight[0].numel()
    W, C, M, (kept, rows, delta) = cal._fit_problem(name, layer, xc, tg, cfg, relax)
    relax = relax and rows >= C.shape[0]
    S = None if metric is None else metric.to(W.device, torch.float64)
    L, L1 = psd_cholesky(C), psd_cholesky(pixel_moment(C, ci, kappa))
    least = lambda M: torch.cholesky_solve(M.T, L).T                        # the unconstrained least-squares weight
    Wls = least(M)
    # each objective as its excess over the unconstrained least-squares fit's: E‖S(A − A*)x‖², 0 for A = A*
    floor = fit_objective(Wls, C, M, S)
    alds = fit_objective(cal._merge(*whitened_factors(W, C, k, j, target=M, sweeps=cfg.sweeps, metric=S)), C, M, S) - floor
    budget, tried = j * (kappa * ci + k * co), []
    for kk in group_counts(co):
        jj = min(budget // (kk * ci + kappa * co), ci, co // kk * kappa)
        if jj >= 1:
            E, D = transposed_factors(Wls, C, M, L1, kappa, kk, jj, S)
            tried.append((fit_objective(transposed_weight(E, D, kappa), C, M, S) - floor, kk, jj, E, D))
    best, kk, jj, E, D = min(tried, key=lambda t: t[0])
    CHOSEN.append(dict(layer=name, alds=[k, j], transposed=[kk, jj], objective=[alds, best], kept=best < alds))
    if not best < alds: return fc, relaxed, err
    b0, order = None if layer.bias is None else layer.bias.detach().float(), fold_order(layer)
    if relax:                   # the default's activation-aware rounds, as the library runs them for the ALDS pair
        clamp = cal._Clamp(act, tg.rows)
        masks = [clamp.masks(y) for _, y in kept]
        for _ in range(cfg.relax):
            t, _ = cal._relaxed_target(transposed_weight(E, D, kappa), b0, kept, masks, rows, order, clamp)
            if delta: t = (1 - delta) * t + delta * C.diagonal().mean() * W
            E, D = transposed_factors(least(t), C, t, L1, kappa, kk, jj, S)
        _, err = cal._relaxed_target(transposed_weight(E, D, kappa), b0, kept, masks, rows, order, clamp, moment=False)
    del kept
    tp = TransposedPair(layer, E.to(layer.weight.dtype), D.to(layer.weight.dtype))
    if not relax:
        err = None
        if layer.bias is not None:
            with torch.no_grad(): err = (tg.mean - cal._feature_mean(tp(xc), layer)).float()
    if layer.bias is not None:
        with torch.no_grad(): tp.decoder.bias.add_(err.to(tp.decoder.bias.dtype))
        err = None
    return tp, relax, err

def main():
    a, model, test, calib, x, base = setup(__doc__)
    out = dict(net=a.net, baseline=base['top1'], params=base['params'], macs=base['macs'], results=[])
    for keep in [float(k) for k in a.keeps.split(',')]:
        rec = dict(keep=keep)
        for form, fit in (('alds', library_fit), ('mixed', fit_either)):
            CHOSEN.clear(); cal._fit_pair = fit
            t = time.time()
            try: small, plan = compress(model, keep, example_input=x, data=calib, calibration=Calibration())
            finally: cal._fit_pair = library_fit
            secs = time.time() - t
            m = measure(small, test, x)
            rec[form] = dict(top1=m['top1'], drop=round(base['top1'] - m['top1'], 2), keep_params=round(m['params'] / base['params'], 4),
                             keep_macs=round(m['macs'] / base['macs'], 4), seconds=round(secs, 1),
                             transposed=sum(c['kept'] for c in CHOSEN))
        rec['layers'] = list(CHOSEN)
        out['results'].append(rec)
        print(json.dumps({k: v for k, v in rec.items() if k != 'layers'}), flush=True)
    with open(a.out, 'w') as f: json.dump(out, f, indent=1)

if __name__ == '__main__': main()
