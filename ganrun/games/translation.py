"""What the translation games share: their data streams, their grids and their metrics.

Training batches come from `infinite_batches` over uint8 images, then `RandomCropFlip` crops and flips
them into [-1, 1]; the test split (resized to the crop size) gives a fixed batch for the grids and the
inputs of the metrics. Grids are rows of images side by side (input | output | target, or
A | G(A) | F(G(A))), each image upscaled by nearest neighbour to at least `GRID_SIDE` pixels.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganrun.data.augment import RandomCropFlip, to_float
from ganrun.data.translation import Domains, check_splits_match
from ganrun.games.base import Game, Visual
from ganrun.metrics.lpips import alexnet_lpips
from ganrun.metrics.translation import TranslationMetrics, domain_classifier, resized

GRID_SIDE = 128  # upscale small images in the grids until they are readable


def unwrapped(module: nn.Module) -> nn.Module:
    """The network inside an EMA copy (AveragedModel.module), compiled or DDP wrapper; else itself."""
    while hasattr(module, "module") or hasattr(module, "_orig_mod"):
        module = getattr(module, "module", None) or module._orig_mod
    return module


@contextmanager
def evaluating(*modules: nn.Module) -> Iterator[None]:
    """Eval mode (BatchNorm's running statistics, no dropout) for the duration, then back as it was."""
    modes = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(modules, modes):
            m.train(mode)


def tiles(*columns: Tensor) -> Tensor:
    """Images (N, C, S, S) of each column -> (N * len(columns), 3, S', S') in [-1, 1], row by row (item i's
    columns side by side), upscaled by nearest neighbour so that S' >= GRID_SIDE; grey as 3 equal channels."""
    scale = max(1, -(-GRID_SIDE // columns[0].shape[-1]))
    images = torch.stack([c.detach().float().cpu().expand(-1, 3, -1, -1) for c in columns], dim=1).flatten(0, 1)
    images = F.interpolate(images, scale_factor=scale, mode="nearest") if scale > 1 else images
    return images.clamp(-1, 1)


def rows(*columns: Tensor) -> Tensor:
    """The grid as one image (3, N * S', len(columns) * S') in [0, 1], for scripts that save PNGs."""
    images = tiles(*columns).unflatten(0, (-1, len(columns)))  # (N, k, 3, S', S')
    return torch.cat([torch.cat(list(row), dim=2) for row in images], dim=1).add(1).div(2)


def visual(*columns: Tensor) -> Visual:
    """The grid for TensorBoard: one row per item, one column per stage (input | output | target ...)."""
    return Visual(tiles(*columns), nrow=len(columns))


def test_tensors(test: Domains) -> tuple[Tensor, Tensor]:
    return to_float(test.a.clone()), to_float(test.b.clone())


def build_metrics(train: Domains, test: Domains, *, cache_dir: str, device: torch.device, batch_size: int,
                  kid_subsets: int, kid_subset_size: int, seed: int,
                  lpips_weights: Optional[str] = None) -> TranslationMetrics:
    """The A-vs-B classifier (trained once on both training domains at the crop size) and the test split;
    LPIPS's network when `lpips_weights` names AlexNet's weights (paired tasks only)."""
    side = train.crop_size
    a, b = test_tensors(test)
    net = domain_classifier(resized(train.a, side), resized(train.b, side), a, b, name=train.name,
                            cache_dir=cache_dir, device=device)
    lpips = alexnet_lpips(lpips_weights) if lpips_weights and test.paired else None
    return TranslationMetrics(net, a, b, paired=test.paired, device=device, batch_size=batch_size,
                              kid_subsets=kid_subsets, kid_subset_size=kid_subset_size, seed=seed, lpips=lpips)


def splits(make_dataset: Callable[..., Domains]) -> tuple[Domains, Domains]:
    train, test = make_dataset(train=True), make_dataset(train=False)
    check_splits_match(train, test)
    return train, test


def augmenter(train: Domains, seed: int, flip: bool) -> RandomCropFlip:
    return RandomCropFlip(train.crop_size, flip=flip, seed=seed)


def fixed_batch(test: Domains, count: int, device: torch.device) -> tuple[Tensor, Tensor]:
    a, b = test_tensors(test)
    return a[:count].to(device), b[:count].to(device)


def translate_fn(network: nn.Module) -> Callable[[Tensor], Tensor]:
    """x -> network(x) in eval mode, under no_grad (for metrics)."""
    def translate(x: Tensor) -> Tensor:
        with torch.no_grad(), evaluating(network):
            return network(x)
    return translate


def objective_state(objective: Any) -> dict[str, Any]:
    """The objective as a checkpointed part when it has state (BEGAN's k_t), as the gan game names it."""
    return {"objective_state": objective} if hasattr(objective, "state_dict") else {}


def metrics_for(cfg: Any, train: Domains, test: Domains, device: torch.device) -> TranslationMetrics:
    """The translation metrics with the run's `metrics` settings (cache, batch, KID subsets, seed)."""
    m = cfg.metrics
    return build_metrics(train, test, cache_dir=m.cache_dir, device=device, batch_size=m.batch_size,
                         kid_subsets=m.kid_subsets, kid_subset_size=m.kid_subset_size, seed=m.seed,
                         lpips_weights=m.get("lpips_weights"))


Scores = Callable[[Callable[..., Tensor], Tensor], Tensor]  # (a D, images) -> D's scores of those images


class OneGeneratorGame(Game):
    """What pix2pix, SRGAN and SimGAN share: one G applied to `batch[0]`, and at most one D (None: G is
    trained on its reconstruction loss alone, d_steps 0). As the reference implementations, G runs once a
    step: D's update judges its output detached, G's update reuses it with its graph (`_output`)."""

    def _networks(self, generator: nn.Module, discriminator: Optional[nn.Module], objective: Any) -> None:
        self.generator, self.discriminator, self.objective = generator, discriminator, objective
        self.d_steps = objective.d_steps if discriminator is not None else 0
        self._g: Callable[..., Tensor] = generator
        self._d: Optional[Callable[..., Tensor]] = discriminator
        self._cache: Optional[tuple[Any, Tensor]] = None  # (batch, G(batch[0])) of the last D update

    def prepare(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self._g = wrap(self.generator)
        self._d = wrap(self.discriminator) if self.discriminator is not None else None

    def has_penalty(self) -> bool:
        return self.discriminator is not None and self.objective.has_penalty

    def _objective_parts(self) -> dict[str, Any]:
        return objective_state(self.objective) if self.discriminator is not None else {}

    def after_discriminator_update(self) -> None:
        if self.discriminator is not None:
            self.objective.after_discriminator_update(self.discriminator)

    def _output(self, batch: Any, *, last: bool = False) -> Tensor:
        """G(batch[0]), computed once per batch; `last` (G's update) forgets it after this read."""
        if self._cache is None or self._cache[0] is not batch:
            self._cache = (batch, self._g(batch[0]))
        out = self._cache[1]
        if last:
            self._cache = None
        return out

    def _judge(self, scores: Scores, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """The objective's D loss on `scores(D, real)` vs `scores(D, fake)`, plus its penalty (on the built
        D), with D's mean scores as terms."""
        real_scores, fake_scores = scores(self._d, real), scores(self._d, fake)
        loss, terms = self.objective.discriminator_loss(real_scores, fake_scores)
        penalty, penalty_terms = self.objective.penalty(lambda x: scores(self.discriminator, x), real, fake)
        loss = loss if penalty is None else loss + penalty
        return loss, {**terms, **penalty_terms, "D/real": real_scores.detach().mean(),
                      "D/fake": fake_scores.detach().mean()}
