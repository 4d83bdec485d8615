"""The multilayer perceptrons of Goodfellow et al. 2014: a ReLU generator and a maxout + dropout
discriminator. They flatten images, so any (C, H, W) works, and they also model points (D,).
Layers with fewer than 16 inputs or outputs (a 2-D input, the one logit) are `SmallLinear`s
(ganrun/models/layers.py): S seeds of a study then train together bitwise (ganrun/run/batched.py)."""

from __future__ import annotations

import math

import torch
from torch import nn

from ganrun.models.layers import MinibatchStdDev, conditioned, dense, label_head, latent_features, with_labels


def _check_shape(data_shape: tuple[int, ...]) -> tuple[int, ...]:
    shape = tuple(data_shape)
    if len(shape) not in (1, 3) or min(shape) < 1:
        raise ValueError(f"mlp models points of shape (D,) or images of shape (C, H, W), "
                         f"got data of shape {shape}")
    return shape


class Generator(nn.Module):
    """z -> `depth` x (Linear(width) [+ BN] + ReLU) -> Linear to prod(data_shape), reshaped.

    Images end in tanh because their data lives in [-1, 1]; points end linear so that G can reach
    modes anywhere in the plane (the ring's modes sit at radius 2, outside tanh's range).

    `batch_norm` is not in Goodfellow et al.; PacGAN's 2-D generator has it. Without it G starts as
    an almost single point (output std ~0.02) and with the non-saturating loss collapses onto one
    ring mode, hopping between modes; with it G spreads over all 8 modes within a few hundred steps.
    """

    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int = 512, depth: int = 3,
                 batch_norm: bool = True, num_classes: int | None = None):
        super().__init__()
        self.data_shape = _check_shape(data_shape)
        self.num_classes = num_classes
        layers: list[nn.Module] = []
        in_features = latent_features(latent_dim, num_classes)
        for _ in range(depth):
            # A bias before BN is removed with the batch mean and would get no gradient.
            layers.append(dense(in_features, width, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(nn.ReLU())
            in_features = width
        self.hidden = nn.Sequential(*layers)
        self.output = dense(in_features, math.prod(self.data_shape))
        self.is_image = len(self.data_shape) == 3

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = self.output(self.hidden(with_labels(z, labels, self.num_classes)))  # (N, prod(data_shape))
        if self.is_image:
            x = torch.tanh(x)
        return x.view(z.shape[0], *self.data_shape)


class Maxout(nn.Module):
    """A linear map to `width * pieces` units, then the max over each group of `pieces`."""

    def __init__(self, in_features: int, width: int, pieces: int):
        super().__init__()
        self.width, self.pieces = width, pieces
        self.linear = dense(in_features, width * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pieces = self.linear(x).view(x.shape[0], self.width, self.pieces)  # (N, width, pieces)
        # max, not amax: the same values; its backward routes the gradient to the argmax piece (amax's
        # splits it between exact ties) and cost a third of a small D's backward in amax's mask arithmetic.
        return pieces.max(dim=2).values  # (N, width)


class Discriminator(nn.Module):
    """flatten -> `depth` x (Maxout(width, maxout_pieces) + Dropout) [-> minibatch stddev] -> Linear to
    one logit; with `num_classes`, a label head on the features that reach the last layer."""

    def __init__(self, data_shape: tuple[int, ...], width: int = 256, depth: int = 2,
                 maxout_pieces: int = 5, dropout: float = 0.2, num_classes: int | None = None,
                 auxiliary_classifier: bool = False, minibatch_std: bool = False):
        super().__init__()
        in_features = math.prod(_check_shape(data_shape))
        layers: list[nn.Module] = [nn.Flatten()]
        for _ in range(depth):
            layers += [Maxout(in_features, width, maxout_pieces), nn.Dropout(dropout)]
            in_features = width
        if minibatch_std:
            layers.append(MinibatchStdDev())
            in_features += 1
        self.hidden = nn.Sequential(*layers)
        self.output = dense(in_features, 1)
        self.label_head = label_head(num_classes, in_features, auxiliary_classifier)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """D's penultimate features (N, width[+1]): what its last layer and label head see."""
        return self.hidden(x)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        features = self.features(x)  # (N, width)
        return conditioned(self.label_head, self.output(features).squeeze(1), features, labels)  # (N,)
