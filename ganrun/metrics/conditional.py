"""Accuracy of a conditional G by a classifier (the English decks' "generated class = requested class").

G is asked for `per_class` samples of every class; the dataset's digit classifier (classifier.py, the
network FID_classifier uses) labels them; the accuracy is the share labelled as requested, overall and
per class. It is bounded by the classifier's own test accuracy (about 0.99 on MNIST).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ganrun.metrics.features import quantize


def per_class_accuracy(predicted: Tensor, requested: Tensor, num_classes: int) -> dict[str, float]:
    """{"conditional_accuracy": share of predicted == requested, "conditional_accuracy/<c>": the same
    among the samples requested as class c} (a class never requested is left out)."""
    correct = (predicted == requested).float()
    results = {"conditional_accuracy": correct.mean().item()}
    for c in range(num_classes):
        asked = requested == c
        if asked.any():
            results[f"conditional_accuracy/{c}"] = correct[asked].mean().item()
    return results


@torch.no_grad()
def conditional_accuracy(generate: Callable[[Tensor], Tensor], classifier: Callable[[Tensor], tuple[Tensor, Tensor]],
                         num_classes: int, per_class: int = 100, batch_size: int = 250) -> dict[str, float]:
    """`generate(labels) -> images` in [-1, 1]; `classifier(uint8 images) -> (features, logits)`."""
    requested = torch.arange(num_classes).repeat_interleave(per_class)
    predicted = torch.cat([classifier(quantize(generate(part)))[1].argmax(1).cpu()
                           for part in requested.split(batch_size)])
    return per_class_accuracy(predicted, requested, num_classes)
