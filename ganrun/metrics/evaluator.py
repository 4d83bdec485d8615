"""`build_evaluator`: the one entry point. An evaluator maps generated samples to named numbers.

`evaluator(sample_fn)` draws `num_samples` samples from `sample_fn(n)` in batches (under no_grad, on
any device) and returns `{name: value}`, names as logged under `metrics/`; `evaluate_samples(x)`
scores a given tensor. Real features are computed on first use, or read from the cache. Each call
runs under its own seeded RNG (the same noise every time; training's RNG untouched), moves the
feature network to the device only for its duration, and gives the device memory back.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import Tensor, nn
from torch.utils.data import Dataset, Subset

from ganrun.errors import ConfigError
from ganrun.metrics.cache import cache_path, cached_features, real_key
from ganrun.metrics.classifier import load_or_train
from ganrun.config.checks import validate_metrics
from ganrun.metrics.features import extract, generated, real_images, seeded
from ganrun.metrics.inception import inception_features
from ganrun.metrics.modes import class_metrics, mode_metrics
from ganrun.metrics.scores import Reference

# metrics.features=auto: datasets with a classifier by default; every other dataset uses Inception.
CLASSIFIER_DATASETS = ("digits", "mnist", "fashion_mnist", "stacked_mnist")
FID_MIN_SAMPLES = 2048  # below the Inception feature dimension the covariance is singular

SampleFn = Callable[[int], Tensor]


@dataclass
class ImageEvaluator:
    net: nn.Module  # the feature network (features.py), kept on the CPU between calls
    real: Callable[[], Tensor]  # real features, computed or read from the cache on first use
    shape: tuple[int, ...]
    cfg: DictConfig
    device: torch.device
    count_modes: bool = False  # also `modes` and `reverse_kl` of the classifier's classes
    reference: Optional[Reference] = field(default=None, repr=False)

    def __call__(self, sample_fn: SampleFn) -> dict[str, float]:
        n, batch = self.cfg.num_samples, self.cfg.batch_size
        return self._evaluate(lambda: generated(sample_fn, n, batch), n)

    def evaluate_samples(self, samples: Tensor) -> dict[str, float]:
        return self._evaluate(lambda: iter(samples.split(self.cfg.batch_size)), len(samples))

    def _evaluate(self, batches: Callable[[], Any], total: int) -> dict[str, float]:
        with _on(self.net, self.device):
            if self.reference is None:
                with seeded(self.cfg.seed, self.device):
                    self.reference = Reference(self.real(), kid_subsets=self.cfg.kid_subsets,
                                               kid_subset_size=self.cfg.kid_subset_size, nearest_k=self.cfg.nearest_k)
            with seeded(self.cfg.seed, self.device):  # apart: the same draws whether or not the real side ran
                features, logits = extract(self.net, batches(), total, self.device, "generated features", self.shape)
                scores = self.reference.scores(features, logits, self.net.suffix, self.device)
        return scores | class_metrics(logits) if self.count_modes else scores


@dataclass
class PointEvaluator:
    modes: Tensor  # (K, 2)
    std: float
    cfg: DictConfig
    device: torch.device

    def __call__(self, sample_fn: SampleFn) -> dict[str, float]:
        with seeded(self.cfg.seed, self.device), torch.no_grad():
            points = torch.cat([x.cpu() for x in generated(sample_fn, self.cfg.num_points, self.cfg.batch_size)])
        return self.evaluate_samples(points)

    def evaluate_samples(self, samples: Tensor) -> dict[str, float]:
        if samples.dim() != 2 or samples.shape[1] != 2:
            raise ValueError(f"2-D mode metrics need points of shape (N, 2), got {tuple(samples.shape)}")
        return mode_metrics(samples, self.modes, self.std)


def build_evaluator(metrics_cfg: DictConfig, dataset_cfg: DictConfig, device: str | torch.device = "cpu", *,
                    make: Callable[..., Any] = instantiate) -> ImageEvaluator | PointEvaluator:
    """The evaluator for `dataset_cfg` (the composed `dataset` node). `make` instantiates a config node
    (hydra.utils.instantiate; the trainer passes its own so every instantiate goes through one place).
    Images: FID, KID, IS, precision, recall named with the feature network's suffix, plus `modes` and
    `reverse_kl` of the classifier's classes with classifier features. A dataset without a `train`
    key (digits) has one split: `metrics.split` does not apply. 2-D points: modes, hq, reverse_kl."""
    validate_metrics(metrics_cfg)
    device = torch.device(device)
    if OmegaConf.select(dataset_cfg, "resolution") is None:  # 2-D points: no features, no real side
        data = make(dataset_cfg)
        return PointEvaluator(data.modes.float(), float(data.std), metrics_cfg, device)

    family = metrics_cfg.features
    if family == "auto":
        family = "classifier" if dataset_cfg.name in CLASSIFIER_DATASETS else "inception"
    if metrics_cfg.num_samples < FID_MIN_SAMPLES:
        warnings.warn(f"metrics.num_samples={metrics_cfg.num_samples} is below {FID_MIN_SAMPLES}: FID is biased "
                      "upward at this size and comparable only with FIDs on as many samples", stacklevel=2)
    has_split = "train" in dataset_cfg
    split_of = lambda train: make(dataset_cfg, train=train) if has_split else make(dataset_cfg)  # noqa: E731
    if family == "classifier":
        net = _classifier(dataset_cfg, split_of, has_split, metrics_cfg.cache_dir, device)
    else:
        net = inception_features(metrics_cfg.inception_weights)
    split = metrics_cfg.split if has_split else "all"
    key = real_key(dataset_cfg, split=split, num_samples=metrics_cfg.num_samples, seed=metrics_cfg.seed,
                   digest=net.digest)

    def real() -> Tensor:
        def compute() -> Tensor:
            images, total = real_images(split_of(split != "test"), metrics_cfg.num_samples,
                                        metrics_cfg.batch_size, metrics_cfg.seed)
            return extract(net, images, total, device, f"real features ({dataset_cfg.name}, {split})")[0]
        return cached_features(cache_path(metrics_cfg.cache_dir, key), key, compute)[0]

    shape = (dataset_cfg.channels, dataset_cfg.resolution, dataset_cfg.resolution)
    return ImageEvaluator(net, real, shape, metrics_cfg, device, count_modes=family == "classifier")


def _classifier(dataset_cfg: DictConfig, split_of: Callable[[bool], Dataset], has_split: bool,
                cache_dir: str, device: torch.device) -> nn.Module:
    """The dataset's cached classifier; a dataset stacking labelled images along channels (with a
    `channel_source` dataset: Stacked MNIST) uses its source's classifier on every channel."""
    if OmegaConf.select(dataset_cfg, "num_classes") is None:
        raise ConfigError(f"metrics.features=classifier needs labels, and dataset={dataset_cfg.name} has none: "
                          "use metrics.features=inception")
    train_set = split_of(True)
    test_set = split_of(False) if has_split else train_set
    source = getattr(train_set, "channel_source", None)
    if source is not None:
        train_set, test_set = source, test_set.channel_source
    channels, resolution = train_set.data_shape[0], train_set.data_shape[-1]
    if not has_split:  # one split only (scikit-learn's digits): hold every fifth item out
        index = torch.arange(len(train_set))
        train_set, test_set = Subset(train_set, index[index % 5 != 0]), Subset(train_set, index[index % 5 == 0])
    labelled = source if source is not None else dataset_cfg
    name, num_classes = getattr(labelled, "name", dataset_cfg.name), labelled.num_classes
    return load_or_train(train_set, test_set, key=f"{name}_{resolution}px_{channels}ch", cache_dir=cache_dir,
                         num_classes=num_classes, device=device, per_channel=source is not None)


@contextmanager
def _on(net: nn.Module, device: torch.device) -> Iterator[None]:
    """The feature network on `device` for the duration, back on the CPU after, device cache freed."""
    net.to(device)
    try:
        yield
    finally:
        net.to("cpu")
        if device.type == "cuda":
            torch.cuda.empty_cache()
