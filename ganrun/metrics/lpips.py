"""LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual Metric"),
when the user has its weights: `metrics.lpips_weights=PATH`, a torchvision AlexNet weights file (the one
torchvision downloads, alexnet-owt-7be5be79.pth, or any state dict of `torchvision.models.alexnet()`).

d(x, y) = sum_l 1/(H_l W_l) sum_hw || w_l * (f^l_hw(x) - f^l_hw(y)) ||^2 over AlexNet's five ReLU
outputs f^l, unit-normalised along channels (Eq. 1); the linear weights w_l are LPIPS v0.1's, shipped
with torchmetrics (lpips_models/alex.pth), so only the backbone comes from PATH. Nothing is downloaded:
without the file LPIPS is not computed, and a file that is not AlexNet's is refused with one line.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from ganrun.errors import ConfigError


def alexnet_lpips(path: str) -> nn.Module:
    """torchmetrics' LPIPS network (alex, v0.1 linear layers) with the AlexNet backbone read from `path`."""
    import torchvision
    from torchmetrics.functional.image.lpips import _LPIPS

    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"metrics.lpips_weights={path} is not a file: point it at torchvision's AlexNet weights "
                          "(alexnet-owt-7be5be79.pth), or leave it null (no LPIPS)")
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
        backbone = torchvision.models.alexnet(weights=None)
        backbone.load_state_dict(state)
    except Exception as err:  # pickle, key and shape errors: not AlexNet's weights
        raise ConfigError(f"metrics.lpips_weights={path} is not a torchvision AlexNet state dict "
                          f"({type(err).__name__}): use alexnet-owt-7be5be79.pth") from err
    net = _LPIPS(pretrained=True, net="alex", pnet_rand=True)  # linear layers from torchmetrics' package
    for part in (net.net.slice1, net.net.slice2, net.net.slice3, net.net.slice4, net.net.slice5):
        for index, layer in part.named_children():
            layer.load_state_dict(backbone.features[int(index)].state_dict())
    return net.eval().requires_grad_(False)


@torch.no_grad()
def lpips_distance(net: nn.Module, outputs: Tensor, targets: Tensor, batch_size: int = 100) -> float:
    """Mean LPIPS of (N, C, H, W) images in [-1, 1] (grey repeated to RGB), on `net`'s device."""
    device = next(net.parameters()).device
    total = 0.0
    for x, y in zip(outputs.split(batch_size), targets.split(batch_size)):
        x, y = (t.expand(-1, 3, -1, -1).to(device) for t in (x, y))
        total += float(net(x, y).sum())
    return total / len(outputs)
