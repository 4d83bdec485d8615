"""Video metrics offline: frame-level FID/KID on classifier features, and motion statistics.

- `frame_FID_classifier`, `frame_KID_classifier`: every frame of the generated clips against every
  frame of as many real clips, in the features of a small CNN trained here on the dataset's frames
  (Moving MNIST: the digit of one-digit clips; Weizmann: the action) — no Inception download.
- `motion/frame_difference`: mean |x_{t+1} − x_t| over pixels, frames and clips, in [-1, 1] units: 0
  for a static (frozen) clip, the real clips' value for a generator that moves like the data.
- `motion/identity_consistency`: the fraction of frames whose predicted class is their clip's most
  frequent one (1 for a digit that keeps its identity; a generator that morphs digits scores lower).
- `action_accuracy` (labelled data, a conditional generator): the fraction of clips whose majority
  frame prediction is the requested action.
FVD needs I3D weights, which cannot be downloaded here: without `metrics.video_weights` it is refused.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import torch
from torch import Tensor, nn

from ganrun.errors import ConfigError
from ganrun.data.base import InMemory
from ganrun.metrics.features import extract, seeded
from ganrun.metrics.scores import Reference
from ganrun.rng import isolated_rng

ClipFn = Callable[[int], tuple[Tensor, Optional[Tensor]]]  # n -> clips (n, C, T, H, W), requested labels or None


def as_frames(clips: Tensor) -> Tensor:
    """(N, C, T, H, W) -> (N*T, C, H, W), clip by clip."""
    return clips.transpose(1, 2).flatten(0, 1)


def mean_frame_difference(clips: Tensor) -> Tensor:
    """E |x_{t+1} − x_t| over clips, frames and pixels (0-dim)."""
    return (clips[:, :, 1:] - clips[:, :, :-1]).abs().mean()


def identity_consistency(predictions: Tensor) -> Tensor:
    """predictions (N, T) class indices -> fraction of frames equal to their clip's mode (0-dim)."""
    modes = predictions.mode(dim=1).values
    return (predictions == modes[:, None]).float().mean()


def majority_accuracy(predictions: Tensor, labels: Tensor) -> Tensor:
    """Fraction of clips whose most frequent frame class (N, T) is the requested label (N,)."""
    return (predictions.mode(dim=1).values == labels).float().mean()


def require_video_weights(video_weights: Optional[str]) -> str:
    if not video_weights:
        raise ConfigError("FVD needs the I3D network's weights, which ganrun cannot download: set "
                          "metrics.video_weights=PATH (a TorchScript I3D), or leave FVD out")
    return video_weights


def frechet_distance(real: Tensor, fake: Tensor) -> float:
    """‖μ_r − μ_f‖² + Tr(Σ_r + Σ_f − 2 (Σ_r Σ_f)^½) of two feature sets (N, D) (Heusel et al. 2017;
    Unterthiner et al. 2018 on I3D features: FVD), in float64."""
    from scipy import linalg

    r, f = real.double().numpy(), fake.double().numpy()
    mu_r, mu_f = r.mean(0), f.mean(0)
    sigma_r, sigma_f = np.atleast_2d(np.cov(r, rowvar=False)), np.atleast_2d(np.cov(f, rowvar=False))
    root = linalg.sqrtm(sigma_r @ sigma_f)
    return float(((mu_r - mu_f) ** 2).sum() + np.trace(sigma_r + sigma_f - 2 * np.real(root)))


class I3DFeatures:
    """FVD's feature network from `metrics.video_weights`: the TorchScript I3D that StyleGAN-V and DIGAN
    use (i3d_torchscript.pt), called as net(clips in [-1, 1] (N, 3, T, H, W), rescale=False, resize=True,
    return_features=True) -> (N, 400). Grey clips are repeated to 3 channels."""

    def __init__(self, path: str, device: torch.device | str = "cpu") -> None:
        try:
            self.net = torch.jit.load(require_video_weights(path), map_location=device).eval()
        except (RuntimeError, ValueError, OSError) as err:
            raise ConfigError(f"metrics.video_weights={path} is not a TorchScript I3D ({str(err).splitlines()[0]})") from err
        self.device = torch.device(device)

    @torch.no_grad()
    def __call__(self, clips: Tensor) -> Tensor:
        clips = clips.to(self.device).float()
        if clips.shape[1] == 1:
            clips = clips.expand(-1, 3, -1, -1, -1)
        return self.net(clips, rescale=False, resize=True, return_features=True).float().cpu()


def fvd(net: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, batch_size: int = 16) -> float:
    """FVD of clip sets (N, C, T, H, W) in [-1, 1] with an I3D feature network."""
    features = [torch.cat([net(part) for part in clips.split(batch_size)]) for clips in (real, fake)]
    return frechet_distance(*features)


def frames_dataset(clips: Tensor, labels: Tensor, *, name: str, num_classes: int) -> InMemory:
    """Labelled frames (N*T, C, H, W) from clips and one label per clip, for training a frame classifier."""
    return InMemory(as_frames(clips).contiguous(), labels.repeat_interleave(clips.shape[2]), name=name,
                    num_classes=num_classes)


class VideoEvaluator:
    """Frame FID/KID against `real_clips` and the motion statistics, with a feature network
    `net(uint8 images) -> (features, logits)` (features.py's interface)."""

    def __init__(self, net: nn.Module, real_clips: Tensor, *, num_clips: int, batch_size: int = 50, seed: int = 0,
                 device: torch.device | str = "cpu", kid_subsets: int = 100, kid_subset_size: int = 1000,
                 video_net: Callable[[Tensor], Tensor] | None = None) -> None:
        self.net, self.num_clips, self.batch_size, self.seed = net, num_clips, batch_size, seed
        self.video_net, self.real_clips = video_net, real_clips[:num_clips]
        self.device = torch.device(device)
        self.shape = tuple(real_clips.shape[1:])
        frames = as_frames(real_clips[:num_clips])
        with seeded(seed, self.device):
            real, _ = extract(net, frames.split(batch_size * self.shape[1]), len(frames), self.device, "real frames")
            self.reference = Reference(real, kid_subsets=kid_subsets, kid_subset_size=kid_subset_size, nearest_k=3)

    @torch.no_grad()
    def __call__(self, sample_fn: ClipFn) -> dict[str, float]:
        with seeded(self.seed, self.device):
            parts = [sample_fn(min(self.batch_size, self.num_clips - start))
                     for start in range(0, self.num_clips, self.batch_size)]
        clips = torch.cat([c.cpu() for c, _ in parts])
        labels = None if parts[0][1] is None else torch.cat([y.cpu() for _, y in parts])
        return self.evaluate_clips(clips, labels)

    def evaluate_samples(self, clips: Tensor) -> dict[str, float]:
        """What `ganrun eval fake=CLIPS.npz` calls (the image evaluators' name)."""
        return self.evaluate_clips(clips)

    @torch.no_grad()
    def evaluate_clips(self, clips: Tensor, labels: Optional[Tensor] = None) -> dict[str, float]:
        if tuple(clips.shape[1:]) != self.shape:
            raise ValueError(f"clips of shape {tuple(clips.shape[1:])} where the dataset has {self.shape}")
        frames = as_frames(clips)
        with seeded(self.seed, self.device):
            features, logits = extract(self.net, frames.split(self.batch_size * self.shape[1]), len(frames),
                                       self.device, "generated frames")
            scores = self.reference.scores(features, logits, "_classifier", self.device)
        predictions = logits.argmax(1).view(len(clips), -1)  # (N, T)
        out = {"frame_FID_classifier": scores["FID_classifier"], "frame_KID_classifier": scores["KID_classifier"],
               "motion/frame_difference": float(mean_frame_difference(clips)),
               "motion/identity_consistency": float(identity_consistency(predictions))}
        if self.video_net is not None:
            out["FVD"] = fvd(self.video_net, self.real_clips, clips)
        if labels is not None:
            out["action_accuracy"] = float(majority_accuracy(predictions, labels))
        return out


def real_clips(dataset, count: int, seed: int) -> Tensor:
    """A seeded random subset of `count` clips (all when fewer) as one tensor (count, C, T, H, W)."""
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:count]
    return torch.stack([dataset[int(i)][0] for i in order])


@isolated_rng()  # a classifier trained or read, data, features: training's RNG untouched
def build_video_evaluator(metrics_cfg, dataset_cfg, device: torch.device | str, *, make) -> VideoEvaluator:
    """The evaluator for a video dataset node: its frame classifier (trained on the train split's
    `labelled_frames()`, tested on the test split's, cached in metrics.cache_dir) and
    metrics.num_samples real clips of metrics.split; FVD too when metrics.video_weights names an I3D."""
    from omegaconf import OmegaConf

    from ganrun.metrics.classifier import load_or_train

    device = torch.device(device)
    weights = OmegaConf.select(metrics_cfg, "video_weights")
    if OmegaConf.select(metrics_cfg, "fvd", default=False) and not weights:
        require_video_weights(weights)  # refused in one line: no I3D can be downloaded here
    video_net = I3DFeatures(weights, device) if weights else None
    train, test = make(dataset_cfg, train=True), make(dataset_cfg, train=False)
    frames = train.labelled_frames()
    channels, resolution = frames.data_shape[0], frames.data_shape[-1]
    net = load_or_train(frames, test.labelled_frames(), key=f"{frames.name}_{resolution}px_{channels}ch",
                        num_classes=frames.num_classes, cache_dir=metrics_cfg.cache_dir, device=device)
    real = real_clips(train if metrics_cfg.split == "train" else test, metrics_cfg.num_samples, metrics_cfg.seed)
    return VideoEvaluator(net, real, num_clips=metrics_cfg.num_samples, batch_size=metrics_cfg.batch_size,
                          seed=metrics_cfg.seed, device=device, kid_subsets=metrics_cfg.kid_subsets,
                          kid_subset_size=metrics_cfg.kid_subset_size, video_net=video_net)
