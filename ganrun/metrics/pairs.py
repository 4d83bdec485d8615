"""CoGAN's pair agreement: the share of pairs (G1(z), G2(z)) whose two halves a classifier assigns the
same digit, each half classified by a classifier trained on its own domain (classifier.py, cached).
Liu & Tuzel report the analogous share of correctly paired translations; 0.1 is chance for 10 digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor, nn

from ganrun.metrics.classifier import load_or_train
from ganrun.metrics.features import quantize, seeded
from ganrun.rng import isolated_rng


def pair_agreement(logits_a: Tensor, logits_b: Tensor) -> Tensor:
    """Share of rows whose argmax class agrees: (N, K), (N, K) -> 0-dim."""
    return (logits_a.argmax(1) == logits_b.argmax(1)).float().mean()


@dataclass
class PairEvaluator:
    nets: tuple[nn.Module, nn.Module]  # ClassifierFeatures of domain A and of domain B
    num_samples: int
    batch_size: int
    seed: int
    device: torch.device

    @torch.no_grad()
    def __call__(self, sample_fn: Callable[[int], tuple[Tensor, Tensor]]) -> dict[str, float]:
        agree, total = 0.0, 0
        with seeded(self.seed, self.device):
            for net in self.nets:
                net.to(self.device)
            for start in range(0, self.num_samples, self.batch_size):
                n = min(self.batch_size, self.num_samples - start)
                a, b = sample_fn(n)
                logits = [net(quantize(x))[1] for net, x in zip(self.nets, (a, b))]
                agree += float(pair_agreement(*logits)) * n
                total += n
            for net in self.nets:
                net.to("cpu")
        accuracies = {f"classifier_accuracy_{d}": net.test_accuracy for d, net in zip("AB", self.nets)}
        return {"pair_agreement": agree / total, **accuracies}


@isolated_rng()  # a classifier trained or read, data, features: training's RNG untouched
def build_pair_evaluator(train: object, test: object, *, name: str, cache_dir: str, num_samples: int,
                         batch_size: int, seed: int, device: torch.device) -> PairEvaluator:
    """One cached classifier per domain of the Coupled datasets `train` and `test` (data/domains.py)."""
    nets = []
    for domain, train_set, test_set in zip("AB", train.domains, test.domains):
        channels, resolution = train_set.data_shape[0], train_set.data_shape[-1]
        nets.append(load_or_train(train_set, test_set, key=f"{name}_{domain}_{resolution}px_{channels}ch",
                                  num_classes=train.num_classes, cache_dir=cache_dir, device=device))
    return PairEvaluator(tuple(nets), num_samples, batch_size, seed, device)
