"""Semi-supervised GAN (Salimans et al. 2016, Section 5; the classifier half of CC-GAN, Denton et al.
2016): D is a (K+1)-way classifier, K real classes and "generated", trained on every real image but
told the labels of a few (`game.labels.fraction` of the training set, the same number per class);
G is trained by feature matching on D's penultimate features, as in the paper's MNIST/CIFAR runs.

Each D update sees an unlabelled batch of the whole training set and a labelled batch of the few
labelled images (two streams: with 100 labels, a batch of 64 drawn from all 60,000 would hold a
labelled image one step in ten). `game.adversarial=false` is the
supervised baseline on the same labels: the same D trained on the labelled batches alone, its loss
the K-class cross-entropy; G is not trained (its loss is a constant 0, no forward).

D = the architecture's D body (its `features(x)`) + a linear layer to K logits, the generated class's
logit fixed at 0 (objectives/salimans.py). Its test accuracy as a classifier is the game's metric
(`metrics/classifier_accuracy`, on the test split; on every item for a one-split dataset), also what
`ganrun eval checkpoint=...` reports (own_metrics).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from omegaconf import DictConfig
from torch import Tensor, nn
from torch.nn.functional import cross_entropy

from ganrun.data import infinite_batches
from ganrun.data.base import InMemory
from ganrun.errors import ConfigError
from ganrun.games.base import Game, Terms, Visual
from ganrun.games.gan import generate
from ganrun.games.helpers import read_dataset
from ganrun.objectives.salimans import class_accuracy, feature_matching_g_loss, semi_supervised_d_loss
from ganrun.sampling import GeneratorInputs

Batch = tuple[Tensor | None, Tensor, Tensor]  # (unlabelled x or None, labelled x, their labels)


def keep_labels(labels: Tensor, num_classes: int, fraction: float, seed: int) -> Tensor:
    """The labels with all but round(fraction * N / K) per class (at least 1) set to -1 (unlabelled);
    which ones are kept is drawn from `seed`."""
    kept = labels.clone().fill_(-1)
    per_class = max(1, round(fraction * len(labels) / num_classes))
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    for c in range(num_classes):
        chosen = order[labels[order] == c][:per_class]
        kept[chosen] = c
    return kept


class SemiSupervised(Game):
    d_steps = 1

    def __init__(self, *, generator: nn.Module, body: nn.Module, num_classes: int, batches: Any, labelled: Any,
                 batch_size: int, test: tuple[Tensor, Tensor] | None, fixed: Any, inputs: Any = None,
                 adversarial: bool = True):
        self.generator = self.G = generator
        # the K class logits on D's penultimate features (their width is read at the first forward)
        self.discriminator = nn.ModuleDict({"body": body, "classes": nn.LazyLinear(num_classes)}).to(body_device(body))
        self.batches, self.labelled, self.inputs, self.batch_size = batches, labelled, inputs, batch_size
        self.test, self.fixed, self.adversarial = test, fixed, adversarial

    def prepare(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self.G = wrap(self.generator)  # D's features are read from the built body

    def stateful_parts(self) -> dict[str, Any]:
        return {"batches": self.batches, "labelled": self.labelled}

    def next_batch(self) -> Batch:
        unlabelled = next(self.batches)[0] if self.adversarial else None  # the baseline never draws it
        return (unlabelled, *next(self.labelled))

    def logits(self, x: Tensor) -> Tensor:
        return self.discriminator["classes"](self.discriminator["body"].features(x))  # (N, K)

    def fakes(self, real: Tensor) -> Tensor:
        """What G makes for one batch (with its graph): G(z) here, in-painted real images in CC-GAN."""
        return self.G(self.inputs(self.batch_size)[0])

    def discriminator_loss(self, batch: Batch) -> tuple[Tensor, Terms]:
        unlabelled, x, y = batch
        if not self.adversarial:  # the supervised baseline: -log p(y | x, y < K+1) on the labelled batch
            nll = cross_entropy(self.logits(x), y)
            return nll, {"class_nll": nll.detach()}
        with torch.no_grad():
            fake = self.fakes(unlabelled)
        # one forward of both real batches (the labelled ones count as real images too); -1: no label
        real_logits = self.logits(torch.cat([unlabelled, x]))
        labels = torch.cat([torch.full_like(y[:1], -1).expand(len(unlabelled)), y])
        return semi_supervised_d_loss(real_logits, labels, self.logits(fake))

    def generator_loss(self, batch: Batch) -> tuple[Tensor, Terms]:
        if not self.adversarial:
            return torch.zeros((), device=batch[1].device, requires_grad=True), {}
        real = batch[0]
        features = self.discriminator["body"].features
        return feature_matching_g_loss(features(real), features(self.fakes(real)))

    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        return {"samples/fixed": Visual(generate(generator, self.fixed))}

    @torch.no_grad()
    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        if self.test is None:
            return {}
        was_training = self.discriminator.training
        self.discriminator.eval()
        x, y = self.test
        logits = torch.cat([self.logits(part) for part in x.split(500)])
        self.discriminator.train(was_training)
        return {"classifier_accuracy": class_accuracy(logits.cpu(), y.cpu()).item()}


def body_device(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def labelled_data(cfg: DictConfig, make: Callable[..., Any], labels: Any) -> tuple[Any, InMemory]:
    """The training set with its labels hidden but for `labels.fraction`, and the labelled part alone."""
    dataset = read_dataset(cfg, make)
    fraction = float(labels["fraction"]) if labels is not None else 0.01
    if dataset.num_classes is None or not hasattr(dataset, "tensors"):
        raise ConfigError(f"game={cfg.game.name} needs a labelled dataset held in memory, not dataset={cfg.dataset.name}")
    if not 0 < fraction <= 1:
        raise ConfigError(f"game.labels.fraction={fraction} must be in (0, 1]")
    x, y = dataset.tensors
    kept = keep_labels(y, dataset.num_classes, fraction, cfg.seed)
    dataset.tensors = (x, kept)
    known = kept >= 0
    return dataset, InMemory(x[known], kept[known], name=f"{dataset.name}_labelled", num_classes=dataset.num_classes)


def streams(cfg: DictConfig, dataset: Any, labelled: InMemory, seed: int, device: torch.device) -> tuple[Any, Any]:
    """The unlabelled stream (every image) and the labelled one (as large a batch, or every labelled image)."""
    trainer = cfg.trainer
    batches = infinite_batches(dataset, trainer.batch_size, seed=seed, device=device,
                               num_workers=trainer.num_workers, on_device=trainer.data_on_device)
    known = infinite_batches(labelled, min(trainer.batch_size, len(labelled)), seed=seed + 1, device=device,
                             on_device=True)
    return batches, known


def test_split(cfg: DictConfig, make: Callable[..., Any], device: torch.device) -> tuple[Tensor, Tensor]:
    held_out = read_dataset(cfg, make, train=False) if "train" in cfg.dataset else read_dataset(cfg, make)
    return tuple(t.to(device) for t in held_out.tensors)


def build(cfg: DictConfig, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          name: str = "semi", labels: Any = None, adversarial: bool = True, own_metrics: bool = True) -> SemiSupervised:
    dataset, labelled = labelled_data(cfg, make, labels)
    generator = make(cfg.architecture.generator, data_shape=tuple(dataset.data_shape)).to(device)
    body = make(cfg.architecture.discriminator, data_shape=tuple(dataset.data_shape)).to(device)
    batches, known = streams(cfg, dataset, labelled, seed, device)
    inputs = GeneratorInputs(cfg.tricks.latent, cfg.architecture.latent_dim, None, device)
    game = SemiSupervised(generator=generator, body=body, num_classes=dataset.num_classes, batches=batches,
                          labelled=known, inputs=inputs, batch_size=cfg.trainer.batch_size,
                          test=test_split(cfg, make, device) if evaluate else None, adversarial=adversarial,
                          fixed=inputs.fixed(cfg.trainer.num_grid_samples, seed=cfg.seed + 1)[0])
    initialise_head(game, dataset.tensors[0][:2].to(device))
    return game


def initialise_head(game: SemiSupervised, x: Tensor) -> None:
    """LazyLinear takes its width from D's features: one pass before the optimizers exist."""
    body = game.discriminator["body"]
    with torch.no_grad():
        body.eval()
        game.logits(x)
        body.train()
