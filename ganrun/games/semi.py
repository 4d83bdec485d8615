"""Semi-supervised GAN (Salimans et al. 2016, Section 5; the classifier half of CC-GAN, Denton et al.
2016): D is a (K+1)-way classifier, K real classes and "generated", trained on every real image but
told the labels of a few (`game.labels.fraction` of the training set, the same number per class);
G is trained by feature matching on D's penultimate features, as in the paper's MNIST/CIFAR runs.

D = the architecture's D body (its `features(x)`) + a linear layer to K logits, the generated class's
logit fixed at 0 (objectives/salimans.py). Its test accuracy as a classifier is the game's metric
(`metrics/classifier_accuracy`, on the test split; on every item for a one-split dataset).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from ganrun.data import infinite_batches
from ganrun.errors import ConfigError
from ganrun.games.base import Game, Terms, Visual
from ganrun.games.gan import generate
from ganrun.objectives.salimans import class_accuracy, feature_matching_g_loss, semi_supervised_d_loss
from ganrun.sampling import GeneratorInputs


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

    def __init__(self, *, generator: nn.Module, body: nn.Module, num_classes: int, batches: Any,
                 inputs: GeneratorInputs, batch_size: int, test: tuple[Tensor, Tensor] | None, fixed: Tensor):
        self.generator = self.G = generator
        # the K class logits on D's penultimate features (their width is read at the first forward)
        self.discriminator = nn.ModuleDict({"body": body, "classes": nn.LazyLinear(num_classes)}).to(fixed.device)
        self.batches, self.inputs, self.batch_size, self.test, self.fixed = batches, inputs, batch_size, test, fixed

    def prepare(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self.G = wrap(self.generator)  # D's features are read from the built body

    def stateful_parts(self) -> dict[str, Any]:
        return {"batches": self.batches}

    def next_batch(self) -> tuple[Tensor, Tensor]:
        return next(self.batches)  # (x, y), y = -1 where the label is hidden

    def logits(self, x: Tensor) -> Tensor:
        return self.discriminator["classes"](self.discriminator["body"].features(x))  # (N, K)

    def discriminator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        real, labels = batch
        with torch.no_grad():
            fake = self.G(self.inputs(self.batch_size)[0])
        return semi_supervised_d_loss(self.logits(real), labels, self.logits(fake))

    def generator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        real, _ = batch
        fake = self.G(self.inputs(self.batch_size)[0])
        features = self.discriminator["body"].features
        return feature_matching_g_loss(features(real), features(fake))

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


def build(cfg: DictConfig, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          name: str = "semi", labels: Any = None) -> SemiSupervised:
    dataset = make(cfg.dataset)
    fraction = float(labels["fraction"]) if labels is not None else 0.01
    if dataset.num_classes is None or not hasattr(dataset, "tensors"):
        raise ConfigError(f"game=semi needs a labelled dataset held in memory, not dataset={cfg.dataset.name}")
    if not 0 < fraction <= 1:
        raise ConfigError(f"game.labels.fraction={fraction} must be in (0, 1]")
    x, y = dataset.tensors
    dataset.tensors = (x, keep_labels(y, dataset.num_classes, fraction, cfg.seed))
    generator = make(cfg.architecture.generator, data_shape=tuple(dataset.data_shape)).to(device)
    body = make(cfg.architecture.discriminator, data_shape=tuple(dataset.data_shape)).to(device)
    trainer = cfg.trainer
    batches = infinite_batches(dataset, trainer.batch_size, seed=seed, device=device,
                               num_workers=trainer.num_workers, on_device=trainer.data_on_device)
    inputs = GeneratorInputs(cfg.tricks.latent, cfg.architecture.latent_dim, None, device)
    test = None
    if evaluate:
        held_out = make(cfg.dataset, train=False) if "train" in cfg.dataset else make(cfg.dataset)
        test = tuple(t.to(device) for t in held_out.tensors)
    game = SemiSupervised(generator=generator, body=body, num_classes=dataset.num_classes, batches=batches,
                          inputs=inputs, batch_size=trainer.batch_size, test=test,
                          fixed=inputs.fixed(trainer.num_grid_samples, seed=cfg.seed + 1)[0])
    with torch.no_grad():  # LazyLinear takes its width from D's features: one pass before the optimizers exist
        body.eval()
        game.logits(x[:2].to(device))
        body.train()
    return game
