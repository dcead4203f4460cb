#!/usr/bin/env python
"""Which way to factor a 3×3 convolution: ALDS's form (a grouped 3×3 encoder over input-channel groups, then a 1×1
decoder) or the transposed one (a 1×1 encoder, then a grouped 3×3 decoder over output-channel groups), each at its best
group count for the same parameters (`--keep` of each layer's), data-free SVD factors. The network is built with ALDS's
form everywhere and with the lower-error form per layer; top-1 as built and with BatchNorm statistics re-estimated
on 1024 training images (`recalibrate_bn`). Prints JSON and writes it to --out.

    python bench/orientation.py --net resnet20 --keeps 0.5,0.3 --out bench/results/orientation_resnet20.json
    python bench/orientation.py --net vgg16_bn_cifar --keeps 0.2,0.1 --out bench/results/orientation_vgg16_bn_cifar.json
"""
from __future__ import annotations
import argparse, copy, json
import torch, torch.nn as nn
from lowrank_nb.cli import load_data, load_weights, calibration_images, INPUT_SHAPES, default_dataset
from lowrank_nb.core import replace_modules
from lowrank_nb.factor import factor_groups, factor_layer, rel_error
from lowrank_nb.grouping import fold_weight
from lowrank_nb.calibrate import recalibrate_bn
from lowrank_nb.experiments import measure
from data_aware import NETS, ARCH

def group_counts(n: int) -> list[int]:
    "The group counts tried for `n` channels: the powers of two that divide it (those the data-aware tables use)."
    return [k for k in range(1, n + 1) if n % k == 0 and k & (k - 1) == 0]

def group_error(Wg: torch.Tensor, enc: torch.Tensor, dec: torch.Tensor) -> float:
    "Relative Frobenius error of the groups `Wg` (`k × f × m`) against their factors."
    return ((Wg - dec @ enc).square().sum() / Wg.square().sum()).sqrt().item()

def alds_form(conv: nn.Conv2d, k: int, j: int) -> tuple[nn.Module, float]:
    "ALDS's factored pair (the library's) and its relative weight error."
    pair = factor_layer(conv, k, j)
    return pair, rel_error(pair.recompose(), fold_weight(conv))

def transposed_weight(E: torch.Tensor, D: torch.Tensor, kappa: int) -> torch.Tensor:
    "The folded `f × (ci·κ)` weight the transposed pair computes."
    k, j, ci = E.shape
    return torch.einsum('korq,krc->kocq', D.reshape(k, -1, j, kappa), E).reshape(-1, ci * kappa)

class TransposedPair(nn.Module):
    "A 1×1 convolution to `k·j` channels, then `layer`'s convolution in `k` groups (bias on the second)."
    def __init__(self, layer: nn.Conv2d, E: torch.Tensor, D: torch.Tensor):
        super().__init__()
        k, j, ci = E.shape
        kw = dict(device=layer.weight.device, dtype=layer.weight.dtype)
        self.k, self.j, self.kappa = k, j, D.shape[-1] // j
        self.encoder = nn.Conv2d(ci, k * j, 1, bias=False, **kw)
        self.decoder = nn.Conv2d(k * j, layer.out_channels, layer.kernel_size, stride=layer.stride, padding=layer.padding,
                                 dilation=layer.dilation, groups=k, bias=layer.bias is not None,
                                 padding_mode=layer.padding_mode, **kw)
        with torch.no_grad():
            self.encoder.weight.copy_(E.reshape(k * j, ci, 1, 1))
            self.decoder.weight.copy_(D.reshape(layer.out_channels, j, *layer.kernel_size))
            if layer.bias is not None: self.decoder.bias.copy_(layer.bias)
    def forward(self, x): return self.decoder(self.encoder(x))
    def recompose(self):
        return transposed_weight(self.encoder.weight.reshape(self.k, self.j, -1).double(),
                                 self.decoder.weight.reshape(self.k, -1, self.j * self.kappa).double(), self.kappa)

def transposed_form(conv: nn.Conv2d, k: int, j: int) -> tuple[nn.Module, float]:
    "A 1×1 convolution to `k·j` channels, then a 3×3 convolution in `k` groups; and its relative weight error."
    W = conv.weight.detach(); co, ci, kh, kw = W.shape; cg, kappa = co // k, kh * kw
    Wg = W.reshape(k, cg, ci, kh, kw).permute(0, 1, 3, 4, 2).reshape(k, cg * kappa, ci)      # rows (o, δ), columns c
    enc, dec = factor_groups(Wg, j)                                            # k × j × ci, k × (cg·9) × j
    D = dec.reshape(k, cg, kappa, j).transpose(2, 3).reshape(k, cg, j * kappa)            # columns (r, δ)
    return TransposedPair(conv, enc, D), group_error(Wg, enc, dec)

def best(form, conv: nn.Conv2d, ks: list[int], cost, budget: float):
    "The lowest-error pair of `form` over the group counts `ks` at the largest rank within `budget`."
    tried = [(*form(conv, k, j), k, j) for k in ks if (j := int(budget // cost(k))) >= 1]
    return min(tried, key=lambda t: t[1])

def check_transposed(pair: TransposedPair, conv: nn.Conv2d, k: int, j: int):
    "Assert that `pair` (from `transposed_form`) computes the convolution of the weight its factors multiply out to."
    co, ci = conv.out_channels, conv.in_channels
    cg, x = co // k, torch.randn(2, ci, 8, 8)
    with torch.no_grad():
        W = torch.cat([torch.einsum('orhw,rc->ochw', pair.decoder.weight[g * cg:(g + 1) * cg],
                                    pair.encoder.weight[g * j:(g + 1) * j, :, 0, 0])
                       for g in range(k)])
        ref = nn.functional.conv2d(x, W, conv.bias, conv.stride, conv.padding, conv.dilation)
        assert torch.allclose(pair(x), ref, atol=1e-4), 'the transposed pair does not compute its factors'

def setup(doc: str):
    """The command line (`--net`, `--keeps`, `--out`) of a script described by `doc`, and the trained network, its test
    set, 1024 calibration images, an example input and the network's own measurement."""
    ap = argparse.ArgumentParser(description=doc.split('\n\n')[0])
    ap.add_argument('--net', choices=sorted(NETS), required=True)
    ap.add_argument('--keeps', required=True)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    torch.set_num_threads(2)
    arch = ARCH.get(a.net, a.net)
    model = load_weights(arch, NETS[a.net]).float().eval()
    data = default_dataset(arch); train, test = load_data(data)
    calib, x = calibration_images(train, 1024, 0), torch.zeros(1, *INPUT_SHAPES[data])
    return a, model, test, calib, x, measure(model, test, x)

def main():
    a, model, test, calib, x, base = setup(__doc__)
    out = dict(net=a.net, baseline=base['top1'], params=base['params'], results=[])
    convs = [(n, m) for n, m in model.named_modules()
             if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3) and m.groups == 1 and m.in_channels > 3]
    for keep in [float(k) for k in a.keeps.split(',')]:
        layers, mods = {}, {'alds': {}, 'mixed': {}}
        for n, m in convs:
            co, ci = m.out_channels, m.in_channels
            budget = keep * co * ci * 9
            am, ae, ak, aj = best(alds_form, m, group_counts(ci), lambda k: 9 * ci + k * co, budget)
            tm, te, tk, tj = best(transposed_form, m, group_counts(co), lambda k: k * ci + 9 * co, budget)
            check_transposed(tm, m, tk, tj)
            mods['alds'][n], mods['mixed'][n] = am, (tm if te < ae else am)
            layers[n] = dict(alds=dict(k=ak, j=aj, error=round(ae, 4)), transposed=dict(k=tk, j=tj, error=round(te, 4)))
        rec = dict(keep=keep, layers=layers)
        for name, ms in mods.items():
            s = replace_modules(copy.deepcopy(model), {n: copy.deepcopy(m) for n, m in ms.items()}).eval()
            r = measure(s, test, x)
            rec[name] = dict(top1=r['top1'], top1_bn=measure(recalibrate_bn(s, calib), test, x)['top1'],
                             keep_params=round(r['params'] / base['params'], 4),
                             transposed=sum(m is not mods['alds'][n] for n, m in ms.items()))
        out['results'].append(rec)
        print(json.dumps({k: v for k, v in rec.items() if k != 'layers'}), flush=True)
    with open(a.out, 'w') as f: json.dump(out, f, indent=1)

if __name__ == '__main__': main()
