"""Translation metrics: how close outputs are to their targets, and how alike they are to the target domain.

- Paired tasks: `L1` (mean absolute error), `PSNR` (dB, the mean of per-image PSNRs) and `SSIM`
  (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5), through torchmetrics, on images quantized to
  uint8 as a saved PNG and scaled to [0, 1]; `LPIPS` too when `metrics.lpips_weights` names AlexNet's
  weights file (ganrun/metrics/lpips.py).
- Every task: `FID_classifier` / `KID_classifier` of the translated test inputs against the target
  domain's test images, on the features of a small CNN trained to tell domain A from domain B (the
  offline stand-in for Inception, the same SmallCNN and cache as ganrun.metrics.classifier; Inception
  would need a weights file this machine lacks). Lower is closer to the target domain.
- Unpaired tasks: the cycle reconstruction error `A2B2A/L1` = mean |F(G(a)) - a| and `B2A2B/L1`.
Names say the direction: `A2B/SSIM`, `B2A/FID_classifier` (logged as `metrics/A2B/SSIM` ...).
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from ganrun.metrics.classifier import load_or_train
from ganrun.metrics.features import extract, quantize, seeded
from ganrun.metrics.lpips import lpips_distance
from ganrun.metrics.scores import Reference
from ganrun.rng import isolated_rng

Translate = Callable[[Tensor], Tensor]


def unit(images: Tensor) -> Tensor:
    """[-1, 1] float -> [0, 1] float32 through uint8, as the image would be saved."""
    return quantize(images).float() / 255


def paired_scores(outputs: Tensor, targets: Tensor) -> dict[str, float]:
    """L1, PSNR and SSIM of outputs against their targets, both (N, C, H, W) in [-1, 1]."""
    if outputs.shape != targets.shape:
        raise ValueError(f"outputs {tuple(outputs.shape)} and targets {tuple(targets.shape)} differ in shape")
    x, y = unit(outputs), unit(targets)
    psnr = peak_signal_noise_ratio(x, y, data_range=1.0, dim=(1, 2, 3), reduction="elementwise_mean")
    ssim = structural_similarity_index_measure(x, y, data_range=1.0)
    return {"L1": float((x - y).abs().mean()), "PSNR": float(psnr), "SSIM": float(ssim)}


def cycle_error(real: Tensor, reconstructed: Tensor) -> float:
    """Mean |F(G(x)) - x| on [0, 1] images."""
    return float((unit(reconstructed) - unit(real)).abs().mean())


def _three(x: Tensor, channels: int) -> Tensor:
    """Grey images repeated to the classifier's channels (a grey domain beside a colour one)."""
    return x.expand(-1, channels, -1, -1) if x.shape[1] != channels else x


class _Labelled(torch.utils.data.Dataset):
    def __init__(self, a: Tensor, b: Tensor) -> None:
        self.x = torch.cat([a, b])  # float [-1, 1]
        self.y = torch.cat([torch.zeros(len(a), dtype=torch.int64), torch.ones(len(b), dtype=torch.int64)])

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.x[index], self.y[index]


@isolated_rng()  # a classifier trained or read, data, features: training's RNG untouched
def domain_classifier(train_a: Tensor, train_b: Tensor, test_a: Tensor, test_b: Tensor, *, name: str,
                      cache_dir: str, device: torch.device) -> nn.Module:
    """The cached A-vs-B SmallCNN (ganrun.metrics.classifier) on float images in [-1, 1] of one side."""
    channels, side = max(train_a.shape[1], train_b.shape[1]), train_a.shape[-1]
    train = _Labelled(_three(train_a, channels), _three(train_b, channels))
    test = _Labelled(_three(test_a, channels), _three(test_b, channels))
    return load_or_train(train, test, key=f"domains_{name}_{side}px_{channels}ch", num_classes=2,
                         cache_dir=cache_dir, device=device)


def resized(images: Tensor, side: int) -> Tensor:
    """uint8 (N, C, L, L) -> float [-1, 1] (N, C, side, side), antialiased (the classifier's training view)."""
    x = images.float() / 127.5 - 1
    return x if x.shape[-1] == side else F.interpolate(x, size=side, mode="bilinear", antialias=True).clamp_(-1, 1)


class TranslationMetrics:
    """Scores a translator (or two) on a test split held as float tensors `a` and `b` in [-1, 1]."""

    def __init__(self, net: nn.Module, a: Tensor, b: Tensor, *, paired: bool, device: torch.device,
                 batch_size: int = 100, kid_subsets: int = 100, kid_subset_size: int = 1000, seed: int = 0,
                 lpips: Optional[nn.Module] = None) -> None:
        self.net, self.a, self.b, self.paired, self.device = net, a, b, paired, device
        self.lpips = lpips
        self.batch_size, self.seed = batch_size, seed
        self.channels = net.net.body[0].in_channels
        self.kid = (kid_subsets, kid_subset_size)
        self.references: dict[str, Reference] = {}

    def _features(self, images: Tensor) -> tuple[Tensor, Tensor]:
        batches = (_three(x, self.channels) for x in images.split(self.batch_size))
        return extract(self.net, batches, len(images), self.device, "translation features")

    def _reference(self, domain: str) -> Reference:
        if domain not in self.references:
            real = {"a": self.a, "b": self.b}[domain]
            self.references[domain] = Reference(self._features(real)[0], kid_subsets=self.kid[0],
                                                kid_subset_size=min(self.kid[1], len(real)), nearest_k=3)
        return self.references[domain]

    def _distribution(self, outputs: Tensor, domain: str) -> dict[str, float]:
        features, logits = self._features(outputs)
        scores = self._reference(domain).scores(features, logits, "_classifier", self.device)
        return {key: scores[key] for key in ("FID_classifier", "KID_classifier")}

    @torch.no_grad()
    def translate(self, translate: Translate, images: Tensor) -> Tensor:
        return torch.cat([translate(x.to(self.device)).float().cpu() for x in images.split(self.batch_size)])

    def __call__(self, a2b: Translate, b2a: Optional[Translate] = None) -> dict[str, float]:
        nets = [self.net] + ([self.lpips] if self.lpips is not None else [])
        for net in nets:
            net.to(self.device)
        try:
            with seeded(self.seed, self.device):
                return self._scores(a2b, b2a)
        finally:
            for net in nets:
                net.to("cpu")

    def _scores(self, a2b: Translate, b2a: Optional[Translate]) -> dict[str, float]:
        fake_b = self.translate(a2b, self.a)
        out = {f"A2B/{k}": v for k, v in self._distribution(fake_b, "b").items()}
        if self.paired:
            out |= {f"A2B/{k}": v for k, v in paired_scores(fake_b, self.b).items()}
            if self.lpips is not None:  # on the images as saved (uint8), back in [-1, 1]
                out["A2B/LPIPS"] = lpips_distance(self.lpips, unit(fake_b) * 2 - 1, unit(self.b) * 2 - 1,
                                                  self.batch_size)
        if b2a is not None:
            fake_a = self.translate(b2a, self.b)
            out |= {f"B2A/{k}": v for k, v in self._distribution(fake_a, "a").items()}
            out["A2B2A/L1"] = cycle_error(self.a, self.translate(b2a, fake_b))
            out["B2A2B/L1"] = cycle_error(self.b, self.translate(a2b, fake_a))
        return out


def luminance(images: Tensor) -> Tensor:
    """[0, 1] RGB (N, 3, H, W) -> Y (N, 1, H, W) of ITU-R BT.601 in [16/255, 235/255], as MATLAB's rgb2ycbcr."""
    weights = images.new_tensor([65.481, 128.553, 24.966]).view(1, 3, 1, 1) / 255
    return (images * weights).sum(1, keepdim=True) + 16 / 255


def sr_scores(outputs: Tensor, targets: Tensor, scale: int) -> dict[str, float]:
    """PSNR and SSIM on the luminance channel with `scale` border pixels shaved (the SR benchmarks'
    protocol, as SRGAN's Table 2), for one image pair (1, 3, H, W) in [-1, 1]."""
    x, y = (luminance(unit(t))[..., scale:-scale, scale:-scale] for t in (outputs, targets))
    psnr = peak_signal_noise_ratio(x, y, data_range=1.0)
    return {"PSNR": float(psnr), "SSIM": float(structural_similarity_index_measure(x, y, data_range=1.0))}
