"""Metrics that need no download: a small CNN trained once per labelled dataset, cached on disk.

Its penultimate layer (128 features) stands in for Inception's pool features in FID, KID, precision
and recall, its softmax for Inception's in IS. It is trained on the dataset's train split (quantized
to uint8 like every evaluated image), its test accuracy measured on the test split, and both are
saved in `<cache_dir>/classifier_<name>_<R>px_<C>ch.pt`; the metric names end in `_classifier`.
A dataset whose images stack several labelled images along channels (Stacked MNIST) is classified
channel by channel with its source's classifier: K**C joint classes.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from ganrun.metrics import cache
from ganrun.metrics.features import quantize, seeded
from ganrun.metrics.inception import file_digest


class SmallCNN(nn.Module):
    """Three conv blocks, then 128 ReLU features and the logits; any resolution (4x4 pooled)."""

    def __init__(self, channels: int, num_classes: int, widths: tuple[int, ...] = (16, 32, 64),
                 hidden: int = 128) -> None:
        super().__init__()
        blocks, previous = [], channels
        for i, width in enumerate(widths):
            blocks += [nn.Conv2d(previous, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
            blocks.append(nn.MaxPool2d(2) if i < len(widths) - 1 else nn.AdaptiveAvgPool2d(4))
            previous = width
        self.body = nn.Sequential(*blocks, nn.Flatten(), nn.Linear(previous * 16, hidden), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(hidden, num_classes))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        features = self.body(x)  # (N, hidden)
        return features, self.head(features)


def as_uint8(dataset: Dataset, batch_size: int = 1000) -> tuple[Tensor, Tensor]:
    """Every item of a labelled dataset: x uint8 (N, C, H, W), y int64 (N,)."""
    xs, ys = zip(*((quantize(x), y) for x, y in DataLoader(dataset, batch_size=batch_size)))
    return torch.cat(xs), torch.cat(ys)


def to_float(images: Tensor) -> Tensor:
    return images.float() / 127.5 - 1


@torch.no_grad()
def accuracy(net: nn.Module, x: Tensor, y: Tensor, device: torch.device, batch_size: int = 1000) -> float:
    net.eval()
    correct = sum((net(to_float(xb.to(device)))[1].argmax(1).cpu() == yb).sum().item()
                  for xb, yb in zip(x.split(batch_size), y.split(batch_size)))
    return correct / len(y)


def train(train_set: Dataset, test_set: Dataset, num_classes: int, device: torch.device, *, steps: int = 600,
          batch_size: int = 64, lr: float = 2e-3, seed: int = 0) -> tuple[SmallCNN, float]:
    """Adam with a one-cycle schedule for `steps` batches (about 0.6 epoch of MNIST: >98%)."""
    x, y = as_uint8(train_set)
    with seeded(seed, device):  # initialisation, batches and dropout: reproducible, training's RNG untouched
        net = SmallCNN(x.shape[1], num_classes).to(device)
        optimizer = torch.optim.Adam(net.parameters(), lr=lr)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
        net.train()
        for _ in tqdm(range(steps), desc="training the metrics classifier", leave=False, disable=None):
            index = torch.randint(len(y), (batch_size,))
            loss = F.cross_entropy(net(to_float(x[index].to(device)))[1], y[index].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    test_x, test_y = as_uint8(test_set)
    return net.eval(), accuracy(net, test_x, test_y, device)


class ClassifierFeatures(nn.Module):
    """The feature-network interface (see features.py) over a trained SmallCNN. With `per_channel`,
    each channel is classified on its own: features are concatenated, and the joint logits over
    K**C classes are the sums of per-channel log-probabilities (channel 0 the most significant digit)."""

    suffix = "_classifier"

    def __init__(self, net: SmallCNN, digest: str, test_accuracy: float, per_channel: bool = False) -> None:
        super().__init__()
        self.net = net.eval().requires_grad_(False)
        self.digest = digest
        self.test_accuracy = test_accuracy
        self.per_channel = per_channel

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        x = to_float(images)
        if not self.per_channel:
            return self.net(x)
        parts = [self.net(x[:, c:c + 1]) for c in range(x.shape[1])]
        features = torch.cat([f for f, _ in parts], dim=1)  # (N, C * 128)
        joint = torch.zeros(len(x), 1, device=x.device)
        for _, logits in parts:  # joint log p over K**C classes, built digit by digit
            joint = (joint[:, :, None] + logits.log_softmax(1)[:, None, :]).flatten(1)
        return features, joint


def load_or_train(train_set: Dataset, test_set: Dataset, *, key: str, num_classes: int,
                  cache_dir: str | Path | None, device: torch.device, per_channel: bool = False,
                  **training) -> ClassifierFeatures:
    """The cached classifier `classifier_<key>.pt` (cache.py: where, locking, corrupt files), trained and
    saved (atomically) on a miss."""
    path = cache.cache_dir(cache_dir) / f"classifier_{key}.pt"
    with cache.filling(path):
        record = cache.read(path, ("state_dict", "test_accuracy", "channels", "num_classes"))
        net = _from_record(record) if record is not None else None
        if net is not None:
            digest = file_digest(path)
        else:
            start = time.perf_counter()
            net, test_accuracy = train(train_set, test_set, num_classes, device, **training)
            record = {"state_dict": net.cpu().state_dict(), "test_accuracy": test_accuracy,
                      "channels": net.body[0].in_channels, "num_classes": num_classes,
                      "train_seconds": time.perf_counter() - start}
            digest = cache.store(path, record)
    return ClassifierFeatures(net.cpu(), f"classifier-{digest[:16]}", record["test_accuracy"], per_channel)


def _from_record(record: dict) -> SmallCNN | None:
    net = SmallCNN(record["channels"], record["num_classes"])
    try:
        net.load_state_dict(record["state_dict"])
    except (RuntimeError, KeyError, TypeError) as error:
        warnings.warn(f"the cached classifier does not fit its network ({str(error).splitlines()[0][:120]}): "
                      "training it again", stacklevel=3)
        return None
    return net
