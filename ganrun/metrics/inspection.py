"""The checkpoint evaluations of issue 15, on built objects (no Hydra): memorisation, conditional
accuracy and D's linear probe. `ganrun eval checkpoint=PATH memorisation=true|probe=true|conditional=true`
calls them (commands); each returns {name: value} and, for memorisation, neighbour grids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Subset

from ganrun.metrics.classifier import ClassifierFeatures, SmallCNN
from ganrun.metrics.conditional import conditional_accuracy
from ganrun.metrics.features import quantize
from ganrun.metrics.cache import cache_path, cached_features
from ganrun.metrics.memorisation import memorisation
from ganrun.metrics.probe import discriminator_features, linear_probe


def images_and_labels(dataset: Dataset, count: int | None = None, seed: int = 0) -> tuple[Tensor, Tensor]:
    """A seeded random subset of `count` items (all when None or fewer): x (N, C, H, W) in [-1, 1], y (N,)."""
    index = torch.arange(len(dataset))
    if count is not None and count < len(dataset):
        index = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:count]
    xs, ys = zip(*DataLoader(Subset(dataset, index.tolist()), batch_size=1000))
    return torch.cat(xs), torch.cat(ys)


def load_classifier(path: str | Path) -> ClassifierFeatures:
    """A metrics classifier saved by classifier.load_or_train (`<cache_dir>/classifier_<key>.pt`)."""
    from ganrun.metrics.inception import file_digest

    record = torch.load(path, map_location="cpu", weights_only=True)
    net = SmallCNN(record["channels"], record["num_classes"])
    net.load_state_dict(record["state_dict"])
    return ClassifierFeatures(net, f"classifier-{file_digest(Path(path))[:16]}", record["test_accuracy"])


def features_of(net: nn.Module, images: Tensor, batch_size: int = 500) -> Tensor:
    """A feature network's features (features.py interface: uint8 in) of images in [-1, 1]: (N, F)."""
    with torch.no_grad():
        return torch.cat([net(quantize(part))[0].float() for part in images.split(batch_size)])


def memorisation_of(sample: Callable[[int], Tensor], train: Dataset, test_images: Tensor, *, num: int = 500,
                    net: nn.Module | None = None, cache_key: dict | None = None, cache_dir: str | None = None
                    ) -> tuple[dict[str, float], dict[str, Tensor]]:
    """Memorisation of `num` samples against every training image (pixel space, and `net`'s feature
    space when given; the training features cached under cache_dir/cache_key like the metrics' real
    features)."""
    with torch.no_grad():
        samples = torch.cat([sample(min(250, num - i)).cpu() for i in range(0, num, 250)])
    train_images, _ = images_and_labels(train)
    train_features = None
    if net is not None:
        compute = lambda: features_of(net, train_images)  # noqa: E731
        train_features = cached_features(cache_path(cache_dir, cache_key), cache_key, compute)[0] \
            if cache_dir and cache_key else compute()
    embed = None if net is None else (lambda x: features_of(net, x))
    return memorisation(samples, train_images, test_images, features=embed, train_features=train_features)


def probe_of(discriminator: nn.Module, train: Dataset, test: Dataset, num_classes: int, *,
             train_count: int = 10000, test_count: int = 10000) -> dict[str, float]:
    """D's linear probe: logistic regression on D's penultimate features of `train_count` labelled
    training images, accuracy on `test_count` test images (seeded subsets)."""
    train_x, train_y = images_and_labels(train, train_count)
    test_x, test_y = images_and_labels(test, test_count, seed=1)
    return linear_probe(discriminator_features(discriminator, train_x), train_y,
                        discriminator_features(discriminator, test_x), test_y, num_classes)


def conditional_of(generate: Callable[[Tensor], Tensor], net: nn.Module, num_classes: int,
                   per_class: int = 100) -> dict[str, float]:
    """Conditional accuracy of G by the classifier `net`, with the classifier's own test accuracy beside it."""
    results = conditional_accuracy(generate, net, num_classes, per_class)
    return results | {"classifier_test_accuracy": float(getattr(net, "test_accuracy", float("nan")))}
