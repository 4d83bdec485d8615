"""SRGAN and SRResNet (Ledig et al. 2017): G maps a low-resolution image to one `scale` times larger.

SRResNet (no D: discriminator None, d_steps 0) minimises the content loss alone, with phi = pixels the
MSE of Eq. 4: the paper's first stage, and the initialisation of SRGAN. SRGAN minimises the perceptual
loss l_SR = l_X + 10^-3 l_Gen (Eq. 3): l_X the content loss on phi's feature maps (VGG54 in the paper,
optionally divided by 12.75^2 as its VGG losses, `content_scale`), l_Gen the objective's generator loss
(ns by default: -log D(G(I_LR)), Eq. 6); D learns to tell real high-resolution patches from G's.
Metrics: PSNR/SSIM on the luminance with `scale` border pixels shaved, per test folder (Set5, Set14),
next to the bicubic upsampling of the same inputs.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
from torch import Tensor, nn

from ganrun.data.augment import to_float
from ganrun.games.base import Visual
from ganrun.data.superres import RandomPatches, SRImages, downsample, upsample_bicubic
from ganrun.games.helpers import read_dataset
from ganrun.games.translation import OneGeneratorGame, evaluating, unwrapped, visual
from ganrun.metrics.translation import sr_scores
from ganrun.objectives.translation import SRGAN_ADVERSARIAL_WEIGHT, content_loss, perceptual_loss

Terms = dict[str, Tensor]


def centre_patches(data: SRImages, count: int) -> Tensor:
    """Centre crops of `crop_size` (or the image's smaller side) of the first `count` test images."""
    side = min([data.crop_size] + [min(x.shape[1:]) // data.scale * data.scale for x in data.images[:count]])
    crops = []
    for x in data.images[:count]:
        top, left = (x.shape[1] - side) // 2, (x.shape[2] - side) // 2
        crops.append(x[:, top:top + side, left:left + side])
    return to_float(torch.stack(crops))


class SRGAN(OneGeneratorGame):
    def __init__(self, generator: nn.Module, discriminator: Optional[nn.Module], objective: Any, content: nn.Module,
                 train: SRImages, tests: dict[str, SRImages], *, batch_size: int, seed: int, device: torch.device,
                 adversarial_weight: float = SRGAN_ADVERSARIAL_WEIGHT, content_scale: float = 1.0,
                 grid_rows: int = 4, evaluate: bool = True) -> None:
        self._networks(generator, discriminator, objective)
        self.content = content.to(device)
        self.adversarial_weight, self.content_scale = adversarial_weight, content_scale
        self.scale = train.scale
        self.patches = RandomPatches(train, batch_size, seed=seed, device=device)
        self.tests, self.device, self.enabled = tests, device, evaluate
        first = next(iter(tests.values()), train)
        self.fixed = centre_patches(first, grid_rows).to(device)

    def stateful_parts(self) -> dict[str, Any]:
        return {"patches": self.patches, **self._objective_parts()}

    def next_batch(self) -> tuple[Tensor, Tensor]:
        return next(self.patches)  # (lr, hr)

    def discriminator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        return self._judge(lambda d, images: d(images), batch[1], self._output(batch).detach())

    def generator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        hr, fake = batch[1], self._output(batch, last=True)
        with torch.no_grad():
            target = self.content(hr)
        content, terms = content_loss(self.content(fake), target)
        content = content * self.content_scale
        if self._d is None:  # SRResNet
            return content, terms
        adversarial, adv_terms = self.objective.generator_loss(self._d(fake))
        loss = perceptual_loss(content, adversarial, self.adversarial_weight)
        return loss, {**terms, **adv_terms, "loss/G_adversarial": adversarial.detach()}

    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        network = unwrapped(generator)
        lr = downsample(self.fixed, self.scale)
        with torch.no_grad(), evaluating(network):
            sr = network(lr).clamp(-1, 1)
        return {"translation/bicubic_SR_HR": visual(upsample_bicubic(lr, self.scale), sr, self.fixed)}

    def translator(self, direction: str) -> tuple[nn.Module, int, None]:
        """G, RGB input at any size, for `ganrun translate` (the output is `scale` times larger)."""
        return self.generator, 3, None

    @torch.no_grad()
    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        if not self.enabled:
            return {}
        network, out = unwrapped(generator), {}
        with evaluating(network):
            for name, data in self.tests.items():
                totals: dict[str, float] = {}
                for image in data.images:
                    hr = to_float(image[None].clone()).to(self.device)
                    lr = downsample(hr, self.scale)
                    pairs = {"": network(lr).clamp(-1, 1), "_bicubic": upsample_bicubic(lr, self.scale)}
                    for suffix, sr in pairs.items():
                        for key, value in sr_scores(sr.cpu(), hr.cpu(), self.scale).items():
                            totals[f"{name}/{key}{suffix}"] = totals.get(f"{name}/{key}{suffix}", 0.0) + value
                out |= {key: value / len(data.images) for key, value in totals.items()}
        return out


def build(cfg: Any, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          name: str = "srgan", own_metrics: bool = True, not_sampled: str = "",
          adversarial: bool = True, adversarial_weight: float = SRGAN_ADVERSARIAL_WEIGHT,
          content_scale: float = 1.0, init_generator: Optional[str] = None, grid_rows: int = 4,
          content: Optional[Callable[[], nn.Module]] = None) -> SRGAN:
    """SRResNet G (optionally from a checkpoint's generator), the SRGAN D unless SRResNet, phi = `content`."""
    train, tests = read_dataset(cfg, make), read_dataset(cfg, make, train=False)
    generator = make(cfg.architecture.generator, channels=3, scale=train.scale)
    if init_generator is not None:
        from ganrun.run.checkpoint import load  # noqa: PLC0415 - only when starting from SRResNet

        generator.load_state_dict(load(init_generator)["generator"])
    discriminator = make(cfg.architecture.discriminator, channels=3).to(device) if adversarial else None
    phi = content() if content is not None else nn.Identity()
    return SRGAN(generator.to(device), discriminator, make(cfg.objective), phi, train, tests,
                 batch_size=cfg.trainer.batch_size, seed=seed, device=device, adversarial_weight=adversarial_weight,
                 content_scale=content_scale, grid_rows=grid_rows, evaluate=evaluate)
