"""A linear probe of D's features ("use D's features for classification", Radford et al. 2016, 5.1).

D's penultimate activations (`discriminator.features(x)`, (N, F)) of labelled training images train a
multinomial logistic regression (standardised features, L2 weight `weight_decay`, full-batch L-BFGS);
its accuracy on the test split is the probe's figure. D is frozen and in eval mode (batch norm uses
its running statistics) throughout.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@torch.no_grad()
def discriminator_features(discriminator: nn.Module, images: Tensor, batch_size: int = 500) -> Tensor:
    """(N, C, H, W) in [-1, 1] -> D's penultimate features (N, F), in eval mode, on D's device."""
    was_training = discriminator.training
    discriminator.eval()
    device = next(discriminator.parameters()).device
    try:
        return torch.cat([discriminator.features(part.to(device)).flatten(1).float().cpu()
                          for part in images.split(batch_size)])
    finally:
        discriminator.train(was_training)


def standardise(train: Tensor, test: Tensor) -> tuple[Tensor, Tensor]:
    """Both sets scaled by the training set's per-feature mean and std (a constant feature: std 1)."""
    mean, std = train.mean(0), train.std(0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return (train - mean) / std, (test - mean) / std


def fit_linear(features: Tensor, labels: Tensor, num_classes: int, *, weight_decay: float = 1e-4,
               iterations: int = 200) -> nn.Linear:
    """Multinomial logistic regression: min_W,b CE(W f + b, y) + weight_decay ||W||^2, by L-BFGS."""
    model = nn.Linear(features.shape[1], num_classes)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=iterations, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(features), labels) + weight_decay * model.weight.square().sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return model


def linear_probe(train_features: Tensor, train_labels: Tensor, test_features: Tensor, test_labels: Tensor,
                 num_classes: int, **fit) -> dict[str, float]:
    """{"probe_accuracy": test accuracy, "probe_train_accuracy": training accuracy} of the linear probe."""
    train_x, test_x = standardise(train_features.float(), test_features.float())
    model = fit_linear(train_x, train_labels, num_classes, **fit)
    with torch.no_grad():
        return {"probe_accuracy": (model(test_x).argmax(1) == test_labels).float().mean().item(),
                "probe_train_accuracy": (model(train_x).argmax(1) == train_labels).float().mean().item()}
