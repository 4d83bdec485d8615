"""Translation metrics of a two-domain labelled dataset (CoGAN's digit pairs, data/domains.py), both ways.

- issue 11's TranslationMetrics on the test split: `A2B/FID_classifier`, `A2B/KID_classifier` (features of the
  A-vs-B classifier), the same B2A, and the cycle errors `A2B2A/L1`, `B2A2B/L1`;
- `A2B/label_accuracy`: the share of test images of A whose translation the digit classifier of domain B
  assigns the input's own label (Liu & Tuzel's and Liu et al.'s translation accuracy), and `B2A/...`.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from ganrun.metrics.features import quantize
from ganrun.metrics.pairs import build_pair_evaluator
from ganrun.metrics.translation import TranslationMetrics, domain_classifier
from ganrun.rng import isolated_rng

Translate = Callable[[Tensor], Tensor]


def label_accuracy(logits: Tensor, labels: Tensor) -> Tensor:
    """Share of rows whose argmax class is their label: (N, K), (N,) -> 0-dim."""
    return (logits.argmax(1) == labels).float().mean()


class CoupledTranslationMetrics:
    def __init__(self, translation: TranslationMetrics, digit_nets: tuple[nn.Module, nn.Module],
                 labels: tuple[Tensor, Tensor], device: torch.device, batch_size: int):
        self.translation, self.digit_nets, self.labels = translation, digit_nets, labels
        self.device, self.batch_size = device, batch_size

    @torch.no_grad()
    def _accuracy(self, outputs: Tensor, net: nn.Module, labels: Tensor) -> float:
        net.to(self.device)
        try:
            logits = torch.cat([net(quantize(x.to(self.device)))[1].cpu() for x in outputs.split(self.batch_size)])
        finally:
            net.to("cpu")
        return float(label_accuracy(logits, labels))

    def __call__(self, a2b: Translate, b2a: Translate) -> dict[str, float]:
        """The translation metrics, and the label accuracies of the same translations of the test images
        (recorded as TranslationMetrics makes them: a latent search is not run twice)."""
        metrics, made = self.translation, {}
        translate = metrics.translate

        def recording(fn: Translate, images: Tensor) -> Tensor:
            made[id(images)] = out = translate(fn, images)
            return out

        metrics.translate = recording
        try:
            out = metrics(a2b, b2a)
        finally:
            del metrics.translate  # the class's method again
        out["A2B/label_accuracy"] = self._accuracy(made[id(metrics.a)], self.digit_nets[1], self.labels[0])
        out["B2A/label_accuracy"] = self._accuracy(made[id(metrics.b)], self.digit_nets[0], self.labels[1])
        return out


@isolated_rng()  # a classifier trained or read, data, features: training's RNG untouched
def build_coupled_metrics(train: object, test: object, *, name: str, cache_dir: str, device: torch.device,
                          batch_size: int, kid_subsets: int, kid_subset_size: int, seed: int
                          ) -> CoupledTranslationMetrics:
    """The cached A-vs-B classifier and the two digit classifiers (CoGAN's, same cache keys) on `train`."""
    (train_a, _), (train_b, _) = (d.tensors for d in train.domains)
    (a, label_a), (b, label_b) = (d.tensors for d in test.domains)
    net = domain_classifier(train_a, train_b, a, b, name=name, cache_dir=cache_dir, device=device)
    translation = TranslationMetrics(net, a, b, paired=False, device=device, batch_size=batch_size,
                                     kid_subsets=kid_subsets, kid_subset_size=kid_subset_size, seed=seed)
    digits = build_pair_evaluator(train, test, name=name, cache_dir=cache_dir, num_samples=0,
                                  batch_size=batch_size, seed=seed, device=device).nets
    return CoupledTranslationMetrics(translation, digits, (label_a, label_b), device, batch_size)
